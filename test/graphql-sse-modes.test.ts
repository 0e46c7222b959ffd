// The graphql-sse client with its default options, in each of its two modes (distinct connections, single
// connection), against a real server process at /graphql/stream: the flowEvents subscription sees a change made
// by another client, queries run too, and every request of the protocol needs valid credentials.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createClient, NetworkError, type Client } from 'graphql-sse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Viewer } from '../src/context.ts';
import { authHeaders } from './support/auth.ts';
import { newTenant } from './support/factories.ts';
import { startServer, type ServerProcess } from './support/server-process.ts';
import { MAX_UNOPENED_STREAMS } from '../src/http/graphql-sse.ts';

const FLOW_EVENTS = `subscription Events($flowId: UUID!, $after: String) {
  flowEvents(filter: { masterFlowId: $flowId }, after: $after) {
    __typename
    ... on FlowEvent { cursor kind flowId masterFlow { flowStatus version } }
  }
}`;

type EventItem = { __typename: string; cursor?: string; kind?: string; flowId?: string; masterFlow?: { flowStatus: string; version: number } | null };

async function api<T>(server: ServerProcess, viewer: Viewer, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...authHeaders(viewer) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown };
  if (body.errors || !body.data) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

async function runningFlow(server: ServerProcess, viewer: Viewer): Promise<{ flowId: string; version: number }> {
  const stored = await api<{ storeImport: { flowId: string; version: number } }>(
    server,
    viewer,
    'mutation($input: StoreImportInput!) { storeImport(input: $input) { ... on MasterFlow { flowId version } } }',
    { input: { rows: [{ hostname: 'web-01' }], filename: 'servers.json', importType: 'servers' } },
  );
  return stored.storeImport;
}

/** Collects what a subscription delivers until `done` holds; the error the client ends with, if any. */
function collect(client: Client, query: string, variables: Record<string, unknown>) {
  const items: EventItem[] = [];
  const errors: unknown[] = [];
  let ended: unknown = null;
  let wake: () => void = () => {};
  const stop = client.subscribe<{ flowEvents: EventItem }>(
    { query, variables },
    {
      next: (result) => {
        if (result.errors) errors.push(...result.errors);
        if (result.data) items.push(result.data.flowEvents);
        wake();
      },
      error: (error) => {
        ended = error ?? 'error';
        wake();
      },
      complete: () => {
        ended = ended ?? 'complete';
        wake();
      },
    },
  );
  const until = async (predicate: () => boolean, what: string, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (ended) throw new Error(`ended (${String(ended)}) before ${what}; got ${JSON.stringify(items)} ${JSON.stringify(errors)}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(items)}`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 200);
      });
    }
  };
  return { items, errors, stop, until, ended: () => ended };
}

describe('graphql-sse at /graphql/stream, both modes, against a server process', () => {
  let server: ServerProcess;
  const viewer = newTenant('sse-client');
  let flow: { flowId: string; version: number };
  const clients: Client[] = [];

  beforeAll(async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flowgraph-sse-modes-'));
    server = await startServer({ FLOWGRAPH_DATA_DIR: dataDir, DATABASE_URL: '', FLOWGRAPH_MAX_BODY_BYTES: '65536' });
    flow = await runningFlow(server, viewer);
  });
  afterAll(async () => {
    for (const client of clients) client.dispose();
    await server?.stop('SIGKILL');
  });

  describe.each([
    { mode: 'distinct connections', singleConnection: false },
    { mode: 'single connection', singleConnection: true },
  ] as const)('$mode', ({ singleConnection }) => {
    const client = (headers: Record<string, string>) => {
      const created = createClient({ url: `${server.url}/graphql/stream`, headers, singleConnection, retryAttempts: 0 });
      clients.push(created);
      return created;
    };

    it('delivers the flow event of a change another client makes, and answers a query', async () => {
      const sse = client(authHeaders(viewer));
      const { flowEventCursor: after } = await api<{ flowEventCursor: string }>(server, viewer, '{ flowEventCursor }');
      const events = collect(sse, FLOW_EVENTS, { flowId: flow.flowId, after });
      // A query over the same client, while the subscription is open (single mode: the same stream).
      const answer = await new Promise<unknown>((resolve, reject) => {
        sse.subscribe({ query: 'query Me($id: UUID!) { masterFlow(flowId: $id) { flowStatus } }', variables: { id: flow.flowId } }, {
          next: resolve,
          error: reject,
          complete: () => {},
        });
      });
      expect(answer).toEqual({ data: { masterFlow: { flowStatus: expect.stringMatching(/RUNNING|PAUSED/) } } });

      const current = await api<{ masterFlow: { flowStatus: string; version: number } }>(
        server,
        viewer,
        'query($flowId: UUID!) { masterFlow(flowId: $flowId) { flowStatus version } }',
        { flowId: flow.flowId },
      );
      const move = current.masterFlow.flowStatus === 'RUNNING' ? 'pauseMasterFlow' : 'resumeMasterFlow';
      await api(server, viewer, `mutation($flowId: UUID!, $version: Int!) { ${move}(flowId: $flowId, version: $version) { __typename } }`, {
        flowId: flow.flowId,
        version: current.masterFlow.version,
      });
      await events.until(() => events.items.some((item) => item.kind === 'STATUS_CHANGED'), 'the STATUS_CHANGED event');
      const event = events.items.find((item) => item.kind === 'STATUS_CHANGED')!;
      expect(event).toMatchObject({ __typename: 'FlowEvent', flowId: flow.flowId, masterFlow: { version: current.masterFlow.version + 1 } });
      expect(events.errors).toEqual([]);
      events.stop();
    });

    it('refuses a subscription without credentials, or with an expired token, with 401', async () => {
      for (const headers of [{}, authHeaders(viewer, { expiresInSeconds: -60 })]) {
        const refused = collect(client(headers), FLOW_EVENTS, { flowId: flow.flowId });
        await refused.until(() => false, 'the refusal', 10_000).catch(() => {});
        const error = refused.ended();
        expect(error).toBeInstanceOf(NetworkError);
        expect((error as NetworkError).response?.status).toBe(401);
        expect(refused.items).toEqual([]);
      }
    });
  });

  it('refuses to reserve or open a single-connection stream without credentials', async () => {
    const reserve = await fetch(`${server.url}/graphql/stream`, { method: 'PUT' });
    expect(reserve.status).toBe(401);
    expect(reserve.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await reserve.json()).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED' } }] });

    const reserved = await fetch(`${server.url}/graphql/stream`, { method: 'PUT', headers: authHeaders(viewer) });
    expect(reserved.status).toBe(201);
    const token = await reserved.text();
    expect(token).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const open = await fetch(`${server.url}/graphql/stream`, { headers: { accept: 'text/event-stream', 'x-graphql-event-stream-token': token } });
    expect(open.status).toBe(401);
  });

  it("lets only its owner open a reserved stream, and bounds the streams a user leaves unopened", async () => {
    const other = newTenant('someone-else');
    const reserve = (who: Viewer) => fetch(`${server.url}/graphql/stream`, { method: 'PUT', headers: authHeaders(who) });
    const open = (who: Viewer, token: string, signal?: AbortSignal) =>
      fetch(`${server.url}/graphql/stream`, { headers: { ...authHeaders(who), accept: 'text/event-stream', 'x-graphql-event-stream-token': token }, signal });

    const token = await (await reserve(viewer)).text();
    const stolen = await open(other, token);
    expect(stolen.status).toBe(403);
    expect(await stolen.json()).toMatchObject({ errors: [{ extensions: { code: 'FORBIDDEN' } }] });
    const controller = new AbortController();
    const opened = await open(viewer, token, controller.signal);
    expect(opened.status).toBe(200);
    controller.abort();

    // Reservations left unopened: the tenth is accepted, the eleventh refused; another user is not affected.
    const statuses: number[] = [];
    for (let index = 0; index < MAX_UNOPENED_STREAMS + 1; index += 1) statuses.push((await reserve(other)).status);
    expect(statuses).toEqual([...Array<number>(MAX_UNOPENED_STREAMS).fill(201), 429]);
    expect((await reserve(newTenant('third'))).status).toBe(201);
  });

  it('refuses a body larger than the limit, unread', async () => {
    const response = await fetch(`${server.url}/graphql/stream`, {
      method: 'POST',
      headers: { ...authHeaders(viewer), 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: `{ flowEventCursor }`, variables: { padding: 'x'.repeat(200_000) } }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ errors: [{ extensions: { code: 'REQUEST_ENTITY_TOO_LARGE' } }] });
  });
});
