// A client process around the README's "Live flow events" module (extracted by test/readme-client.test.ts
// into a file of its own): it calls the module's functions as the README says and prints, one JSON line
// each, every state load and every event it applies. SIGTERM stops it.
//   README_CLIENT_MODULE  the extracted module
//   README_CLIENT_TRANSPORT  graphql-ws | sse
//   README_CLIENT_URL  the server's base URL (http://host:port)
//   README_CLIENT_HEADERS  the tenant's credentials, JSON
import { pathToFileURL } from 'node:url';

const print = (line: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify(line)}\n`);
};

interface ReadmeModule {
  overWebSocket(url: string, headers: Record<string, string>): unknown;
  overSse(url: string, headers: Record<string, string>): unknown;
  followFlowEvents(
    client: unknown,
    view: { loadState(): Promise<void>; apply(event: { cursor: string; kind: string; flowId: string }): void },
  ): Promise<{ cursor: string | null; done: Promise<void>; stop(): void }>;
}

const module = (await import(pathToFileURL(process.env.README_CLIENT_MODULE!).href)) as ReadmeModule;
const base = process.env.README_CLIENT_URL!;
const headers = JSON.parse(process.env.README_CLIENT_HEADERS!) as Record<string, string>;
const client =
  process.env.README_CLIENT_TRANSPORT === 'sse'
    ? module.overSse(`${base}/graphql`, headers)
    : module.overWebSocket(`${base.replace(/^http/, 'ws')}/graphql`, headers);

const live = await module.followFlowEvents(client, {
  loadState: async () => {
    print({ type: 'state' });
  },
  apply: (event) => print({ type: 'event', cursor: event.cursor, kind: event.kind, flowId: event.flowId }),
});
print({ type: 'following', cursor: live.cursor });
process.on('SIGTERM', () => {
  live.stop();
  process.exit(0);
});
live.done.catch((error: Error) => {
  print({ type: 'fatal', message: error.message });
  process.exit(1);
});
