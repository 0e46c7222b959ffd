// flowgraph/client's resumeFlowEvents against real server processes, over graphql-ws and over SSE
// (graphql-sse, distinct connections), with real clients: their own silent retries after a dropped
// connection, a server away for seconds (ECONNREFUSED), a slow reader overflowing the server's buffer,
// a cursor that expired while the client was away, and a subscription the server refuses. A TCP proxy
// between client and server plays the network (test/support/flow-api.ts); changes go to the server
// directly, so they go on while the client is cut off.
import { spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient, type ClientOptions } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import {
  backoffDelay,
  readFlowEventCursor,
  SeenCursors,
  resumeFlowEvents,
  type FlowEventItem,
  type FlowEventResume,
  type ResumeFlowEventsOptions,
  type ResumeStatus,
  type ResumeStatusDetail,
  type SubscribingClient,
} from '../src/client/flow-event-resume.ts';
import type { Viewer } from '../src/context.ts';
import { newTenant } from './support/factories.ts';
import { ApiFlow, logCursors, serverBackend, startClientProxy, type ClientProxy, type ServerBackend } from './support/flow-api.ts';
import { viewerHeaders } from './support/graphql.ts';
import { startServer, type ServerProcess } from './support/server-process.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
type Transport = 'graphql-ws' | 'sse';
const TRANSPORTS: Transport[] = ['graphql-ws', 'sse'];

const EVENTS = `subscription ($after: String, $filter: FlowEventFilter) {
  flowEvents(after: $after, filter: $filter) {
    __typename
    ... on FlowEvent { cursor kind payload }
    ... on FlowEventsOverflowError { lastCursor message }
    ... on FlowEventCursorExpiredError { oldestCursor message }
  }
}`;

/** Every event carries ~1 MB (the flow's raw records), so that a reader that stops fills the buffers soon. */
const BIG_EVENTS = `subscription ($after: String, $filter: FlowEventFilter) {
  flowEvents(after: $after, filter: $filter) {
    __typename
    ... on FlowEvent { cursor kind payload masterFlow { rawRecords(first: 20) { edges { node { rawData } } } } }
    ... on FlowEventsOverflowError { lastCursor message }
    ... on FlowEventCursorExpiredError { oldestCursor message }
  }
}`;

type Event = FlowEventItem & { kind: string; payload: { version?: number } };

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/**
 * The servers the describe blocks asked for, started before the first test, one after the other (side by
 * side they compete for the CPU and start no sooner).
 */
const wanted: { name: string; env: Record<string, string>; backend?: ServerBackend; server?: ServerProcess }[] = [];
beforeAll(async () => {
  for (const entry of wanted) {
    entry.backend = await serverBackend(entry.name);
    entry.server = await startServer({ ...entry.backend.env, ...entry.env });
  }
}, 300_000); // three start-ups, on a machine that may be busy
afterAll(async () => {
  for (const entry of wanted) {
    await entry.server?.stop('SIGKILL');
    await entry.backend?.cleanup();
  }
});

/** A server process of its own for a describe block, on its own data. */
function serverFor(name: string, env: Record<string, string> = {}): () => ServerProcess {
  const entry: (typeof wanted)[number] = { name, env };
  wanted.push(entry);
  return () => entry.server!;
}

type WsOptions = Pick<ClientOptions, 'retryAttempts' | 'on' | 'lazy' | 'shouldRetry' | 'retryWait' | 'keepAlive'>;

function clientFor(transport: Transport, baseUrl: string, viewer: Viewer, options: WsOptions = {}): SubscribingClient {
  if (transport === 'graphql-ws') {
    const client = createWsClient({ url: `${baseUrl.replace(/^http/, 'ws')}/graphql`, connectionParams: viewerHeaders(viewer), webSocketImpl: WebSocket, ...options });
    cleanups.push(() => client.dispose());
    return client;
  }
  const client = createSseClient({ url: `${baseUrl}/graphql`, headers: viewerHeaders(viewer), ...(options.retryAttempts === undefined ? {} : { retryAttempts: options.retryAttempts }) });
  cleanups.push(() => client.dispose());
  return client;
}

async function proxyTo(server: ServerProcess): Promise<ClientProxy> {
  const proxy = await startClientProxy(server.port);
  cleanups.push(() => proxy.close());
  return proxy;
}

/** resumeFlowEvents with everything it reports recorded. */
function follow(label: string, client: SubscribingClient, options: Partial<ResumeFlowEventsOptions<Event>> & { after: string | null }) {
  const events: Event[] = [];
  const statuses: { status: ResumeStatus; detail: ResumeStatusDetail }[] = [];
  const live: FlowEventResume = resumeFlowEvents<Event>(client, {
    query: EVENTS,
    onEvent: (event) => void events.push(event),
    onCursorExpired: () => {
      throw new Error('no cursor should expire here');
    },
    onStatus: (status, detail) => statuses.push({ status, detail }),
    ...options,
  });
  cleanups.push(() => live.stop());
  let failed: unknown;
  live.done.catch((error: unknown) => (failed = error));
  const until = async (predicate: () => boolean, what: string, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (failed) throw new Error(`${label}: the helper stopped before ${what}: ${String(failed)}`);
      if (Date.now() > deadline) {
        throw new Error(`${label}: timed out waiting for ${what}: ${events.length} events, statuses ${JSON.stringify(statuses.map((s) => s.status))}`);
      }
      await sleep(20);
    }
  };
  return { label, live, events, statuses, until, cursors: () => events.map((event) => event.cursor) };
}

type Follower = ReturnType<typeof follow>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Each follower received exactly the flow's log after `after`: every event, once, in order. */
async function expectLog(server: ServerProcess, viewer: Viewer, flowId: string, after: string, followers: Follower[]): Promise<string[]> {
  const log = await logCursors(server.url, viewer, after, { masterFlowId: flowId });
  await Promise.all(followers.map((follower) => follower.until(() => follower.events.length >= log.length, `${log.length} events`)));
  await sleep(300); // anything extra (a repeat) would arrive by now
  for (const follower of followers) expect(follower.cursors(), follower.label).toEqual(log);
  return log;
}

/** A client of its own behind a proxy of its own, and the cursor where the log ends now. */
async function behindProxy(server: ServerProcess, transport: Transport, viewer: Viewer, options: WsOptions = {}) {
  const proxy = await proxyTo(server);
  const client = clientFor(transport, `http://127.0.0.1:${proxy.port}`, viewer, options);
  return { proxy, client, start: await readFlowEventCursor(client) };
}

describe('with a running server', () => {
  // Sealed cursors: the helper compares them as opaque strings.
  const server = serverFor('resume', { FLOWGRAPH_CURSOR_KEY: 'a-key-of-at-least-32-bytes-for-these-tests' });

  // The dashboard's graphql-ws client (dashboard/src/api.ts): connected at once, retrying everything itself.
  const dashboardLike: WsOptions = {
    lazy: false,
    keepAlive: 10_000,
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => true,
    retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** retries, 5_000))),
  };

  it("resubscribes from the last cursor on the clients' own silent retries: graphql-ws and SSE with default options, the dashboard's graphql-ws", async () => {
    const tenant = newTenant();
    const flow = await ApiFlow.create(server().url, tenant);
    const variables = { filter: { masterFlowId: flow.flowId } };
    const setups = [
      { label: 'graphql-ws, default options', transport: 'graphql-ws' as const, options: {} },
      { label: 'sse, default options', transport: 'sse' as const, options: {} },
      { label: "graphql-ws, the dashboard's options", transport: 'graphql-ws' as const, options: dashboardLike },
    ];
    const runs = await Promise.all(
      setups.map(async (setup) => {
        const reconnected: boolean[] = [];
        const { proxy, client, start } = await behindProxy(server(), setup.transport, tenant, {
          ...setup.options,
          on: { connected: (_socket, _payload, wasRetry) => reconnected.push(wasRetry) },
        });
        // No memory of seen cursors: any repeat would reach onEvent.
        const follower = follow(setup.label, client, { after: start, seenCursors: 0, variables });
        return { ...setup, proxy, client, start, reconnected, follower };
      }),
    );
    // The pattern the README had, on the first client: variables fixed at the first cursor.
    const plain: string[] = [];
    cleanups.push(
      runs[0]!.client.subscribe(
        { query: EVENTS, variables: { ...variables, after: runs[0]!.start } },
        { next: (result) => plain.push((result.data as { flowEvents: Event }).flowEvents.cursor), error: () => {}, complete: () => {} },
      ),
    );

    for (let index = 0; index < 4; index += 1) await flow.toggle(server().url);
    await Promise.all(runs.map((run) => run.follower.until(() => run.follower.events.length >= 4, 'the first events')));
    await until(() => plain.length >= 4, 'the first events of the plain subscription');
    // Four events the clients never get (the proxy holds them), then the connections drop; the proxy takes
    // new ones at once, so each client's own retry gets through, however long it waits first.
    for (const run of runs) run.proxy.hold();
    for (let index = 0; index < 4; index += 1) await flow.toggle(server().url);
    await sleep(200);
    for (const run of runs) {
      run.proxy.drop();
      run.proxy.release();
    }
    for (let index = 0; index < 3; index += 1) await flow.toggle(server().url);

    const log = await expectLog(server(), tenant, flow.flowId, runs[0]!.start, runs.map((run) => run.follower));
    expect(log).toHaveLength(11);
    for (const run of runs) {
      // It was the client's own retry that resubscribed: the helper subscribed once.
      expect(run.follower.live.stats.subscriptions, run.label).toBe(1);
      if (run.transport === 'graphql-ws') expect(run.reconnected, run.label).toContain(true); // graphql-ws: a retry's connection
    }
    // ...and such a retry replays from the first cursor when the variables are fixed.
    await until(() => plain.length >= 15, 'the plain subscription to replay');
    expect(plain.slice(0, 4)).toEqual(log.slice(0, 4));
    expect(new Set(plain).size).toBeLessThan(plain.length);
  });

  it('without a cursor to start from, reads one first: a reconnection before the first event misses nothing (graphql-ws, SSE)', async () => {
    const tenant = newTenant();
    const flow = await ApiFlow.create(server().url, tenant);
    const runs = await Promise.all(
      TRANSPORTS.map(async (transport) => {
        const { proxy, client } = await behindProxy(server(), transport, tenant, { retryAttempts: 0 });
        const follower = follow(transport, client, { after: null, variables: { filter: { masterFlowId: flow.flowId } } });
        await follower.until(() => follower.live.cursor !== null && follower.statuses.some((entry) => entry.status === 'live'), 'a cursor and a connection');
        return { proxy, follower, start: follower.live.cursor! };
      }),
    );
    // Events the clients never get, then the connections drop: the helpers resubscribe after their start.
    for (const run of runs) run.proxy.hold();
    for (let index = 0; index < 3; index += 1) await flow.toggle(server().url);
    await sleep(200);
    for (const run of runs) {
      run.proxy.drop();
      run.proxy.release();
    }
    await flow.toggle(server().url);
    for (const run of runs) {
      const log = await expectLog(server(), tenant, flow.flowId, run.start, [run.follower]);
      expect(log).toHaveLength(4);
    }
  });

  it('backs off while connections are refused (graphql-ws by default and with retryAttempts 0, SSE with retryAttempts 0), then resumes without gap', async () => {
    const tenant = newTenant();
    const flow = await ApiFlow.create(server().url, tenant);
    const setups = [
      { label: 'graphql-ws, default options', transport: 'graphql-ws' as const, options: {}, failures: 1 },
      { label: 'graphql-ws, retryAttempts 0', transport: 'graphql-ws' as const, options: { retryAttempts: 0 }, failures: 4 },
      { label: 'sse, retryAttempts 0', transport: 'sse' as const, options: { retryAttempts: 0 }, failures: 4 },
    ];
    const runs = await Promise.all(
      setups.map(async (setup) => {
        const { proxy, client, start } = await behindProxy(server(), setup.transport, tenant, setup.options);
        const follower = follow(setup.label, client, { after: start, variables: { filter: { masterFlowId: flow.flowId } }, backoff: { initialMs: 100, maxMs: 800 } });
        return { ...setup, proxy, start, follower };
      }),
    );

    for (let index = 0; index < 3; index += 1) await flow.toggle(server().url);
    await Promise.all(runs.map((run) => run.follower.until(() => run.follower.events.length >= 3, 'the first events')));
    await Promise.all(runs.map((run) => run.proxy.cut()));
    // Away for a few seconds, each client until it has been refused a few times; changes go on meanwhile.
    for (let index = 0; index < 5; index += 1) {
      await flow.toggle(server().url);
      await sleep(500);
    }
    await Promise.all(runs.map((run) => run.follower.until(() => run.follower.live.stats.failures >= run.failures, 'refused connections')));
    await Promise.all(runs.map((run) => run.proxy.restore()));
    for (let index = 0; index < 3; index += 1) await flow.toggle(server().url);

    for (const run of runs) await expectLog(server(), tenant, flow.flowId, run.start, [run.follower]);
    for (const { label, transport, options, follower } of runs) {
      const waits = follower.statuses.filter((entry) => entry.status === 'reconnecting' && entry.detail.delayMs! > 0);
      expect(waits.length, label).toBeGreaterThanOrEqual(1);
      // Exponential with jitter between half and all of min(800, 100 · 2^n), so never above the cap.
      for (const [attempt, wait] of waits.entries()) {
        const ceiling = Math.min(800, 100 * 2 ** attempt);
        expect(wait.detail.delayMs!, label).toBeGreaterThanOrEqual(ceiling / 2);
        expect(wait.detail.delayMs!, label).toBeLessThanOrEqual(ceiling);
      }
      if (transport === 'graphql-ws') {
        expect(waits.map((wait) => String((wait.detail.error as { message?: string }).message)), label).toContainEqual(expect.stringMatching(/ECONNREFUSED/));
      }
      if ('retryAttempts' in options) expect(waits.at(-1)!.detail.delayMs!, label).toBeGreaterThanOrEqual(400); // the cap was reached
      expect(follower.statuses.at(-1)!.status, label).toBe('live');
    }
  });

  it('with an onEvent slower than the events (graphql-ws, SSE), unsubscribes while maxQueued events wait, then continues after the last one', async () => {
    const tenant = newTenant();
    const flow = await ApiFlow.create(server().url, tenant);
    const start = await readFlowEventCursor(clientFor('graphql-ws', server().url, tenant));
    // onEvent takes its time: the first call until every change is written, the others 20 ms each.
    let written!: () => void;
    const allWritten = new Promise<void>((resolve) => (written = resolve));
    const followers = TRANSPORTS.map((transport) => {
      const follower: Follower = follow(transport, clientFor(transport, server().url, tenant, { retryAttempts: 0 }), {
        after: start,
        maxQueued: 5,
        variables: { filter: { masterFlowId: flow.flowId } },
        onEvent: async (event) => {
          await (follower.events.length === 0 ? allWritten : sleep(20));
          follower.events.push(event);
        },
      });
      return follower;
    });
    for (let index = 0; index < 30; index += 1) await flow.toggle(server().url);
    written();

    await expectLog(server(), tenant, flow.flowId, start, followers);
    for (const follower of followers) {
      expect(follower.live.stats.pauses, follower.label).toBeGreaterThanOrEqual(1);
      expect(follower.live.stats.subscriptions, follower.label).toBe(1 + follower.live.stats.pauses);
    }
  });

  it('retries a connection refused for its credentials (graphql-ws close 4403, SSE 401) and goes on once they are good', async () => {
    const tenant = newTenant();
    const flow = await ApiFlow.create(server().url, tenant);
    const start = await readFlowEventCursor(clientFor('graphql-ws', server().url, tenant));
    let credentials: Record<string, string> = { authorization: 'Bearer not-a-token' };
    const ws = createWsClient({
      url: `${server().url.replace(/^http/, 'ws')}/graphql`,
      connectionParams: () => credentials,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
    });
    const sse = createSseClient({ url: `${server().url}/graphql`, headers: () => credentials, retryAttempts: 0 });
    cleanups.push(() => ws.dispose(), () => sse.dispose());
    const followers = [ws, sse].map((client, index) =>
      follow(TRANSPORTS[index]!, client, { after: start, variables: { filter: { masterFlowId: flow.flowId } }, backoff: { initialMs: 100, maxMs: 400 } }),
    );
    await Promise.all(followers.map((follower) => follower.until(() => follower.live.stats.failures >= 2, 'refusals')));
    const refusals = followers.map((follower) => follower.statuses.find((entry) => entry.status === 'reconnecting')!.detail.error);
    expect((refusals[0] as { code?: number }).code).toBe(4403);
    expect(String((refusals[1] as Error).message)).toMatch(/401/);

    credentials = viewerHeaders(tenant);
    for (let index = 0; index < 3; index += 1) await flow.toggle(server().url);
    await expectLog(server(), tenant, flow.flowId, start, followers);
  });

  it.each(TRANSPORTS)('over %s, stops with a FlowEventResumeError when the server refuses the subscription, without retrying', async (transport) => {
    const tenant = newTenant();
    const client = clientFor(transport, server().url, tenant);
    const received = follow(transport, client, { after: 'not a cursor' });
    await expect(received.live.done).rejects.toThrow(/refused the subscription: `after` is not a flow event cursor/);
    await sleep(500);
    expect(received.live.stats.subscriptions).toBe(1);
    const statuses = received.statuses.map((entry) => entry.status);
    expect(statuses[0]).toBe('connecting');
    expect(statuses.at(-1)).toBe('stopped');
    expect(statuses).not.toContain('reconnecting');
  });
});

describe('with a small subscription buffer (FLOWGRAPH_SUBSCRIPTION_BUFFER=3)', () => {
  const server = serverFor('resume_overflow', { FLOWGRAPH_SUBSCRIPTION_BUFFER: '3' });

  it('a reader too slow for the server (graphql-ws, SSE) resumes from the overflow cursor and gets every event once', async () => {
    const tenant = newTenant();
    const rows = Array.from({ length: 20 }, (_, index) => ({ hostname: `host-${index}`, notes: 'x'.repeat(50_000) }));
    const flow = await ApiFlow.create(server().url, tenant, rows);
    const runs = await Promise.all(
      TRANSPORTS.map(async (transport) => {
        const { proxy, client, start } = await behindProxy(server(), transport, tenant, { retryAttempts: 0 });
        const follower = follow(transport, client, { query: BIG_EVENTS, after: start, variables: { filter: { masterFlowId: flow.flowId } } });
        return { proxy, start, follower };
      }),
    );
    await flow.toggle(server().url);
    await Promise.all(runs.map((run) => run.follower.until(() => run.follower.events.length >= 1, 'the first event')));

    // The clients stop reading: the server's writes block once the socket buffers are full (~1 MB an event).
    for (const run of runs) run.proxy.hold();
    for (let index = 0; index < 40; index += 1) await flow.toggle(server().url);
    for (const run of runs) run.proxy.release();

    for (const { start, follower } of runs) {
      await expectLog(server(), tenant, flow.flowId, start, [follower]);
      const { stats } = follower.live;
      expect(stats.overflows, follower.label).toBeGreaterThanOrEqual(1);
      expect(stats.subscriptions, follower.label).toBe(1 + stats.overflows);
      const recordsPerEvent = follower.events.map((event) => (event as unknown as { masterFlow: { rawRecords: { edges: unknown[] } } }).masterFlow.rawRecords.edges.length);
      expect(new Set(recordsPerEvent), follower.label).toEqual(new Set([20]));
    }
  });
});

describe('with a retention of one second (FLOWGRAPH_EVENT_RETENTION=1s)', () => {
  const server = serverFor('resume_expiry', { FLOWGRAPH_EVENT_RETENTION: '1s', FLOWGRAPH_EVENT_PRUNE_INTERVAL: '200ms' });

  it('a client away longer than that (graphql-ws, SSE) refetches through onCursorExpired, then continues from its cursor', async () => {
    const tenant = newTenant();
    const flow = await ApiFlow.create(server().url, tenant);
    const runs = await Promise.all(
      TRANSPORTS.map(async (transport) => {
        const { proxy, client, start } = await behindProxy(server(), transport, tenant, { retryAttempts: 0 });
        const expirations: string[] = [];
        const refetchedAt: number[] = [];
        const follower = follow(transport, client, {
          after: start,
          variables: { filter: { masterFlowId: flow.flowId } },
          onCursorExpired: async ({ oldestCursor }) => {
            expirations.push(oldestCursor);
            const cursor = await readFlowEventCursor(client);
            refetchedAt.push(flow.version); // "the state": the flow as it is now
            return cursor;
          },
        });
        const versions = () => follower.events.map((event) => event.payload.version);
        return { proxy, follower, expirations, refetchedAt, versions };
      }),
    );

    for (let index = 0; index < 3; index += 1) await flow.toggle(server().url);
    await Promise.all(runs.map((run) => run.follower.until(() => run.follower.events.length >= 3, 'the first events')));
    const before = runs.map((run) => run.versions());
    await Promise.all(runs.map((run) => run.proxy.cut()));
    for (let index = 0; index < 3; index += 1) await flow.toggle(server().url);
    await sleep(2_500); // pruned meanwhile: every event is older than a second
    await Promise.all(runs.map((run) => run.proxy.restore()));
    await Promise.all(runs.map((run) => run.follower.until(() => run.expirations.length === 1, 'the expiry')));
    for (let index = 0; index < 3; index += 1) await flow.toggle(server().url);
    await Promise.all(runs.map((run) => run.follower.until(() => run.follower.events.length >= 6, 'the events after the refetch')));
    await sleep(300);

    for (const [index, { follower, expirations, refetchedAt, versions }] of runs.entries()) {
      expect(follower.live.stats.expirations, follower.label).toBe(1);
      expect(typeof expirations[0], follower.label).toBe('string');
      // The events of the time away are gone; the refetched state has them. After it, every event once.
      const seenBefore = before[index]!;
      expect(refetchedAt, follower.label).toEqual([seenBefore.at(-1)! + 3]);
      expect(versions(), follower.label).toEqual([...seenBefore, refetchedAt[0]! + 1, refetchedAt[0]! + 2, refetchedAt[0]! + 3]);
    }
  });
});

describe('its pure parts', () => {
  it('backoffDelay doubles from initialMs up to maxMs, with jitter between half and all of it', () => {
    for (let attempt = 0; attempt < 40; attempt += 1) {
      const ceiling = Math.min(10_000, 250 * 2 ** attempt);
      const delays = Array.from({ length: 200 }, () => backoffDelay(attempt));
      expect(Math.min(...delays)).toBeGreaterThanOrEqual(ceiling / 2);
      expect(Math.max(...delays)).toBeLessThanOrEqual(ceiling);
      expect(new Set(delays).size).toBeGreaterThan(1); // jitter
    }
    expect(backoffDelay(1_000, 100, 800)).toBeLessThanOrEqual(800);
  });

  it('SeenCursors remembers the last `limit` cursors, forgetting the oldest first', () => {
    const seen = new SeenCursors(10_000);
    for (let index = 0; index <= 10_000; index += 1) seen.add(`c${index}`);
    expect(seen.has('c0')).toBe(false);
    expect(seen.has('c1')).toBe(true);
    expect(seen.has('c10000')).toBe(true);
    const none = new SeenCursors(0);
    none.add('c0');
    expect(none.has('c0')).toBe(false);
  });
});

describe('in a browser bundle', () => {
  it('the helper has no runtime imports and compiles with the DOM library and no Node types', async () => {
    const file = 'src/client/flow-event-resume.ts';
    const source = await readFile(`${ROOT}/${file}`, 'utf8');
    expect(source).not.toMatch(/^\s*import\s/m);
    expect(source).not.toMatch(/\brequire\(|\bprocess\.|\bBuffer\b/);
    const tsc = spawnSync(
      process.execPath,
      [
        `${ROOT}/node_modules/typescript/bin/tsc`,
        '--ignoreConfig',
        '--noEmit',
        '--strict',
        '--target', 'ES2022',
        '--lib', 'ES2022,DOM',
        '--types', '',
        '--module', 'ESNext',
        '--moduleResolution', 'Bundler',
        '--noUncheckedIndexedAccess',
        file,
      ],
      { cwd: ROOT, encoding: 'utf8' },
    );
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  });

  it('package.json exports it as flowgraph/client', async () => {
    const manifest = JSON.parse(await readFile(`${ROOT}/package.json`, 'utf8')) as { name: string; exports: Record<string, string> };
    expect(manifest.name).toBe('flowgraph');
    expect(manifest.exports['./client']).toBe('./src/client/flow-event-resume.ts');
  });
});

async function until(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
