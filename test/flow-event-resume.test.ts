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

/** A server process of its own for a describe block, on its own data. */
function serverFor(name: string, env: Record<string, string> = {}): () => ServerProcess {
  let backend: ServerBackend | undefined;
  let server: ServerProcess | undefined;
  beforeAll(async () => {
    backend = await serverBackend(name);
    server = await startServer({ ...backend.env, ...env });
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await backend?.cleanup();
  });
  return () => server!;
}

/** A real client with the given options (graphql-ws needs `ws` in Node 20), disposed after the test. */
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
function follow(client: SubscribingClient, options: Partial<ResumeFlowEventsOptions<Event>> & { after: string | null }) {
  const events: Event[] = [];
  const statuses: { status: ResumeStatus; detail: ResumeStatusDetail }[] = [];
  const expirations: { oldestCursor: string }[] = [];
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
  const until = async (predicate: () => boolean, what: string, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    let failed: unknown;
    live.done.catch((error: unknown) => (failed = error));
    while (!predicate()) {
      if (failed) throw new Error(`the helper stopped before ${what}: ${String(failed)}`);
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}: ${events.length} events, statuses ${JSON.stringify(statuses.map((s) => s.status))}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return { live, events, statuses, expirations, until, cursors: () => events.map((event) => event.cursor) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The helper received exactly the flow's log after `after`: every event, once, in order. */
async function expectLog(server: ServerProcess, viewer: Viewer, flowId: string, after: string, received: ReturnType<typeof follow>) {
  const log = await logCursors(server.url, viewer, after, { masterFlowId: flowId });
  await received.until(() => received.events.length >= log.length, `${log.length} events`);
  await sleep(300); // anything extra (a repeat) would arrive by now
  expect(received.cursors()).toEqual(log);
  return log;
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

  describe.each([
    ['graphql-ws', 'default options', {}],
    ['sse', 'default options', {}],
    ['graphql-ws', "the dashboard's options", dashboardLike],
  ] as const)('over %s, a client with %s', (transport, _label, options) => {
    it("resubscribes from the last cursor on the client's own silent retry (nothing skipped, nothing repeated)", async () => {
      const tenant = newTenant();
      const flow = await ApiFlow.create(server().url, tenant);
      const proxy = await proxyTo(server());
      const connected: boolean[] = [];
      const client = clientFor(transport, `http://127.0.0.1:${proxy.port}`, tenant, {
        ...options,
        on: { connected: (_socket, _payload, wasRetry) => connected.push(wasRetry) },
      });
      const start = await readFlowEventCursor(client);
      // No memory of seen cursors: any repeat would reach onEvent.
      const received = follow(client, { after: start, seenCursors: 0, variables: { filter: { masterFlowId: flow.flowId } } });
      // The pattern the README had: the same client, variables fixed at the first cursor.
      const plain: string[] = [];
      const disposePlain = client.subscribe(
        { query: EVENTS, variables: { after: start, filter: { masterFlowId: flow.flowId } } },
        { next: (result) => plain.push((result.data as { flowEvents: Event }).flowEvents.cursor), error: () => {}, complete: () => {} },
      );
      cleanups.push(disposePlain);

      for (let index = 0; index < 4; index += 1) await flow.toggle(server().url);
      await received.until(() => received.events.length >= 4 && plain.length >= 4, 'the first events');
      await proxy.cut();
      for (let index = 0; index < 4; index += 1) await flow.toggle(server().url);
      await sleep(200);
      await proxy.restore();
      for (let index = 0; index < 3; index += 1) await flow.toggle(server().url);

      const log = await expectLog(server(), tenant, flow.flowId, start, received);
      expect(log).toHaveLength(11);
      // It was the client's own retry that resubscribed: the helper subscribed once.
      expect(received.live.stats.subscriptions).toBe(1);
      if (transport === 'graphql-ws') expect(connected).toContain(true); // graphql-ws: reconnected by a retry
      // ...and that retry replays from the first cursor when the variables are fixed.
      await until(() => plain.length >= 15, 'the plain subscription to replay');
      expect(plain.slice(0, 4)).toEqual(log.slice(0, 4));
      expect(new Set(plain).size).toBeLessThan(plain.length);
    });
  });

  describe.each([
    ['graphql-ws', 'default options'],
    ['graphql-ws', 'retryAttempts: 0'],
    ['sse', 'retryAttempts: 0'],
  ] as const)('over %s with %s', (transport, options) => {
    it('backs off while connections are refused, and resumes without gap when the server is reachable again', async () => {
      const tenant = newTenant();
      const flow = await ApiFlow.create(server().url, tenant);
      const proxy = await proxyTo(server());
      const client = clientFor(transport, `http://127.0.0.1:${proxy.port}`, tenant, options === 'default options' ? {} : { retryAttempts: 0 });
      const start = await readFlowEventCursor(client);
      const received = follow(client, { after: start, variables: { filter: { masterFlowId: flow.flowId } }, backoff: { initialMs: 100, maxMs: 800 } });

      for (let index = 0; index < 3; index += 1) await flow.toggle(server().url);
      await received.until(() => received.events.length >= 3, 'the first events');
      await proxy.cut();
      // Away for a few seconds; changes go on meanwhile.
      for (let index = 0; index < 5; index += 1) {
        await flow.toggle(server().url);
        await sleep(1_000);
      }
      await received.until(() => received.live.stats.failures >= (options === 'default options' ? 1 : 3), 'refused connections');
      await proxy.restore();
      for (let index = 0; index < 3; index += 1) await flow.toggle(server().url);

      await expectLog(server(), tenant, flow.flowId, start, received);
      const waits = received.statuses.filter((entry) => entry.status === 'reconnecting' && entry.detail.delayMs! > 0);
      expect(waits.length).toBeGreaterThanOrEqual(1);
      // Exponential with jitter between half and all of min(800, 100 · 2^n), so never above the cap.
      for (const [attempt, wait] of waits.entries()) {
        const ceiling = Math.min(800, 100 * 2 ** attempt);
        expect(wait.detail.delayMs!).toBeGreaterThanOrEqual(ceiling / 2);
        expect(wait.detail.delayMs!).toBeLessThanOrEqual(ceiling);
      }
      if (transport === 'graphql-ws') {
        expect(waits.map((wait) => String((wait.detail.error as { message?: string }).message))).toContainEqual(expect.stringMatching(/ECONNREFUSED/));
      }
      if (options === 'retryAttempts: 0') expect(waits.at(-1)!.detail.delayMs!).toBeGreaterThanOrEqual(400); // the cap was reached
      expect(received.statuses.at(-1)!.status).toBe('live');
    });
  });

  it.each(TRANSPORTS)('over %s, stops with a FlowEventResumeError when the server refuses the subscription, without retrying', async (transport) => {
    const tenant = newTenant();
    const client = clientFor(transport, server().url, tenant);
    const received = follow(client, { after: 'not a cursor' });
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

  it.each(TRANSPORTS)('over %s, a reader too slow for the server resumes from the overflow cursor and gets every event once', async (transport) => {
    const tenant = newTenant();
    const rows = Array.from({ length: 20 }, (_, index) => ({ hostname: `host-${index}`, notes: 'x'.repeat(50_000) }));
    const flow = await ApiFlow.create(server().url, tenant, rows);
    const proxy = await proxyTo(server());
    const client = clientFor(transport, `http://127.0.0.1:${proxy.port}`, tenant, { retryAttempts: 0 });
    const start = await readFlowEventCursor(client);
    const received = follow(client, { query: BIG_EVENTS, after: start, variables: { filter: { masterFlowId: flow.flowId } } });
    await flow.toggle(server().url);
    await received.until(() => received.events.length >= 1, 'the first event');

    // The client stops reading: the server's writes block once the socket buffers are full (~1 MB an event).
    proxy.hold();
    for (let index = 0; index < 40; index += 1) await flow.toggle(server().url);
    proxy.release();

    await expectLog(server(), tenant, flow.flowId, start, received);
    expect(received.live.stats.overflows).toBeGreaterThanOrEqual(1);
    expect(received.live.stats.subscriptions).toBe(1 + received.live.stats.overflows);
    expect(received.events.every((event) => (event as unknown as { masterFlow: { rawRecords: { edges: unknown[] } } }).masterFlow.rawRecords.edges.length === 20)).toBe(true);
  });
});

describe('with a retention of one second (FLOWGRAPH_EVENT_RETENTION=1s)', () => {
  const server = serverFor('resume_expiry', { FLOWGRAPH_EVENT_RETENTION: '1s', FLOWGRAPH_EVENT_PRUNE_INTERVAL: '200ms' });

  it.each(TRANSPORTS)('over %s, a client away longer than that refetches through onCursorExpired, then continues from its cursor', async (transport) => {
    const tenant = newTenant();
    const flow = await ApiFlow.create(server().url, tenant);
    const proxy = await proxyTo(server());
    const client = clientFor(transport, `http://127.0.0.1:${proxy.port}`, tenant, { retryAttempts: 0 });
    const expirations: string[] = [];
    const refetchedAt: number[] = [];
    const received = follow(client, {
      after: await readFlowEventCursor(client),
      variables: { filter: { masterFlowId: flow.flowId } },
      onCursorExpired: async ({ oldestCursor }) => {
        expirations.push(oldestCursor);
        const cursor = await readFlowEventCursor(client);
        refetchedAt.push(flow.version); // "the state": the flow as it is now
        return cursor;
      },
    });
    const versions = () => received.events.map((event) => event.payload.version);

    for (let index = 0; index < 3; index += 1) await flow.toggle(server().url);
    await received.until(() => received.events.length >= 3, 'the first events');
    const before = versions();
    await proxy.cut();
    for (let index = 0; index < 3; index += 1) await flow.toggle(server().url);
    await sleep(2_500); // pruned meanwhile: every event is older than a second
    await proxy.restore();
    await received.until(() => expirations.length === 1, 'the expiry');
    for (let index = 0; index < 3; index += 1) await flow.toggle(server().url);
    await received.until(() => received.events.length >= 6, 'the events after the refetch');
    await sleep(300);

    expect(received.live.stats.expirations).toBe(1);
    expect(typeof expirations[0]).toBe('string');
    // The events of the time away are gone; the refetched state has them. After it, every event once.
    expect(refetchedAt).toEqual([before.at(-1)! + 3]);
    expect(versions()).toEqual([...before, refetchedAt[0]! + 1, refetchedAt[0]! + 2, refetchedAt[0]! + 3]);
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
