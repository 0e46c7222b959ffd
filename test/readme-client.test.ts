// The README's "Live flow events" client, run as written: its code block is extracted from README.md into
// a module of its own, and client processes (test/support/readme-client-runner.ts) call it as the README
// says, over graphql-ws and over SSE. Against a server SIGKILLed mid-stream and started again on the same
// data, and against two instances on one PostgreSQL database with changes made through both, each client
// applies exactly the log (Query.flowEvents): every event, once, in order.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Viewer } from '../src/context.ts';
import { newTenant } from './support/factories.ts';
import { ApiFlow, logCursors, serverBackend, type ServerBackend } from './support/flow-api.ts';
import { viewerHeaders } from './support/graphql.ts';
import { freePort, startServer, type ServerProcess } from './support/server-process.ts';
import { onPostgres } from './support/test-database.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DISCOVERY_ONLY = { flowTypes: ['DISCOVERY'] };

/** The one ```js block of the README that uses flowgraph/client. */
async function readmeClientCode(): Promise<string> {
  const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((match) => match[1]!).filter((code) => code.includes("from 'flowgraph/client'"));
  if (blocks.length !== 1) throw new Error(`expected one README block that imports flowgraph/client, found ${blocks.length}`);
  return blocks[0]!;
}

let moduleDir = '';
let modulePath = '';

beforeAll(async () => {
  // Inside the repository (test-results/ is ignored by git), so that `flowgraph/client` resolves to this
  // package through its "exports", as it would for a consumer, and graphql-ws, graphql-sse and ws from
  // its node_modules.
  moduleDir = await mkdtemp(path.join(ROOT, 'test-results', 'readme-client-'));
  modulePath = path.join(moduleDir, 'live-flow-events.mjs');
  await writeFile(modulePath, await readmeClientCode());
});
afterAll(async () => {
  if (moduleDir) await rm(moduleDir, { recursive: true, force: true });
});

interface Line {
  type: string;
  cursor?: string | null;
  message?: string;
}

/** A client process running the README's module. */
class ReadmeClient {
  readonly lines: Line[] = [];
  private output = '';
  private readonly exited: Promise<unknown>;

  constructor(
    readonly label: string,
    private readonly child: ChildProcess,
  ) {
    let pending = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      pending += chunk.toString();
      let newline: number;
      while ((newline = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        this.output += `${line}\n`;
        this.lines.push(JSON.parse(line) as Line);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    this.exited = once(child, 'exit');
  }

  static start(label: string, transport: 'graphql-ws' | 'sse', server: ServerProcess, viewer: Viewer): ReadmeClient {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/readme-client-runner.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        README_CLIENT_MODULE: modulePath,
        README_CLIENT_TRANSPORT: transport,
        README_CLIENT_URL: server.url,
        README_CLIENT_HEADERS: JSON.stringify(viewerHeaders(viewer)),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new ReadmeClient(label, child);
  }

  get events(): string[] {
    return this.lines.filter((line) => line.type === 'event').map((line) => line.cursor!);
  }

  get states(): number {
    return this.lines.filter((line) => line.type === 'state').length;
  }

  /** Where it started following (the cursor read before its state). */
  get startCursor(): string {
    const following = this.lines.find((line) => line.type === 'following');
    if (!following?.cursor) throw new Error(`${this.label} is not following yet`);
    return following.cursor;
  }

  async until(predicate: (client: this) => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      if (this.child.exitCode !== null || this.lines.some((line) => line.type === 'fatal')) {
        throw new Error(`${this.label} ended before ${what}:\n${this.output}`);
      }
      if (Date.now() > deadline) throw new Error(`${this.label}: timed out waiting for ${what}; ${this.events.length} events:\n${this.output.slice(-2_000)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      await this.exited;
    }
  }
}

const servers: ServerProcess[] = [];
const clients: ReadmeClient[] = [];
const backends: ServerBackend[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.stop()));
  await Promise.all(servers.splice(0).map((server) => server.stop('SIGKILL')));
  await Promise.all(backends.splice(0).map((backend) => backend.cleanup()));
});

async function start(backend: ServerBackend, port: number, env: Record<string, string> = {}): Promise<ServerProcess> {
  const server = await startServer({ ...backend.env, ...env, PORT: String(port) });
  servers.push(server);
  return server;
}

function follow(label: string, transport: 'graphql-ws' | 'sse', server: ServerProcess, viewer: Viewer): ReadmeClient {
  const client = ReadmeClient.start(label, transport, server, viewer);
  clients.push(client);
  return client;
}

/** Every client applied exactly the log after where it started: same events, same order, none twice. */
async function expectTheLog(server: ServerProcess, viewer: Viewer, followers: ReadmeClient[], writes: number): Promise<void> {
  for (const client of followers) {
    const log = await logCursors(server.url, viewer, client.startCursor, DISCOVERY_ONLY);
    expect(log.length).toBeGreaterThanOrEqual(writes);
    await client.until((c) => c.events.length >= log.length, `${log.length} events`);
    // A moment for anything extra (a duplicate) to arrive as well.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(client.events, client.label).toEqual(log);
    expect(client.states, `${client.label} loaded its state once (no cursor expired)`).toBe(1);
  }
}

describe("the README's client", () => {
  // On PostgreSQL, the two-instance test below restarts an instance the same way.
  it.runIf(!onPostgres)('applies exactly the log across a server SIGKILLed mid-stream and started again on the same data', async () => {
    const backend = await serverBackend('readme_restart');
    backends.push(backend);
    const port = await freePort();
    let server = await start(backend, port);
    const tenant = newTenant();
    const flow = await ApiFlow.create(server.url, tenant);
    const followers = [follow('graphql-ws', 'graphql-ws', server, tenant), follow('sse', 'sse', server, tenant)];
    await Promise.all(followers.map((client) => client.until((c) => c.lines.some((line) => line.type === 'following'), 'following')));

    // Events flowing, and the server killed while the last of them may still be on their way.
    for (let index = 0; index < 6; index += 1) await flow.toggle(server.url);
    await Promise.all(followers.map((client) => client.until((c) => c.events.length >= 3, 'the first events')));
    for (let index = 0; index < 4; index += 1) await flow.toggle(server.url);
    await server.stop('SIGKILL');
    servers.splice(servers.indexOf(server), 1);
    server = await start(backend, port);
    for (let index = 0; index < 8; index += 1) await flow.toggle(server.url);

    await expectTheLog(server, tenant, followers, 18);
  });

  it.runIf(onPostgres)('applies exactly the log behind two instances on one database, changes made through both, one restarted', async () => {
    const backend = await serverBackend('readme_two');
    backends.push(backend);
    const [portA, portB] = [await freePort(), await freePort()];
    // Sealed cursors, one key for both: each instance resumes the other's cursors.
    const sealed = { FLOWGRAPH_CURSOR_KEY: 'one-key-for-both-instances-of-this-test' };
    let a = await start(backend, portA, sealed);
    const b = await start(backend, portB, sealed);
    const tenant = newTenant();
    const flow = await ApiFlow.create(a.url, tenant);
    const followers = [
      follow('graphql-ws on A', 'graphql-ws', a, tenant),
      follow('sse on A', 'sse', a, tenant),
      follow('graphql-ws on B', 'graphql-ws', b, tenant),
      follow('sse on B', 'sse', b, tenant),
    ];
    await Promise.all(followers.map((client) => client.until((c) => c.lines.some((line) => line.type === 'following'), 'following')));

    for (let index = 0; index < 6; index += 1) await flow.toggle(index % 2 === 0 ? a.url : b.url);
    await Promise.all(followers.map((client) => client.until((c) => c.events.length >= 3, 'the first events')));
    await a.stop('SIGKILL');
    servers.splice(servers.indexOf(a), 1);
    for (let index = 0; index < 4; index += 1) await flow.toggle(b.url); // while A is away
    a = await start(backend, portA, sealed);
    for (let index = 0; index < 8; index += 1) await flow.toggle(index % 2 === 0 ? a.url : b.url);

    await expectTheLog(b, tenant, followers, 18);
  });
});
