// Hostile input against a real server process: a corpus of well over 500 requests derived from the
// schema (test/support/hostile-corpus.ts), sent over HTTP and graphql-ws, several times over. Nothing may answer
// 5xx or INTERNAL_SERVER_ERROR, no row may change, the server answers its health check after every
// batch, and its heap stops growing once the first round has warmed it up. The counts per class are
// printed.
import { request as httpRequest } from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schema } from '../src/schema/index.ts';
import { DEMO_VIEWER } from '../src/services/demo-seed.ts';
import { authHeaders } from './support/auth.ts';
import { operationCases, rawHttpCases, wsFrameCases, type HostileCase, type OperationCase, type RawHttpCase, type WsFramesCase } from './support/hostile-corpus.ts';
import { dropDatabase, recreateDatabase, workerDatabaseUrl } from './support/postgres-databases.ts';
import { operationFor, rootFields } from './support/schema-walker.ts';
import { startServer, type ServerProcess } from './support/server-process.ts';
import { onPostgres } from './support/test-database.ts';
import { openSocket, type RawSocket } from './support/ws-client.ts';

/** The corpus runs this often: the first round warms caches up, later rounds must not grow the heap. */
const ROUNDS = Number(process.env.HOSTILE_ROUNDS ?? 3);

/** Cases in flight at once (each lane has its own graphql-ws socket, well under the per-socket limit). */
const LANES = 6;

/** Close codes that would mean the server failed, not the client. */
const SERVER_FAILURE_CLOSE_CODES = [1011, 4500];

let server: ServerProcess;
let databaseUrl: string | undefined;
const admin = authHeaders(DEMO_VIEWER);
const readOnly = authHeaders({ ...DEMO_VIEWER, roles: ['viewer'] });

interface Failure {
  class: string;
  what: string;
  detail: string;
}

/** A subscription that is accepted streams for as long as it lives; this much of it is read. */
const STREAM_WINDOW_MS = 800;

async function sendOperationHttp(item: OperationCase): Promise<{ status: number; text: string }> {
  // Mutations go as a viewer: no hostile input may change a row, even one a mutation would accept.
  const headers = item.operationType === 'mutation' ? readOnly : admin;
  const subscription = item.operationType === 'subscription';
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 15_000);
  try {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(subscription ? { accept: 'text/event-stream' } : {}), ...headers },
      body: JSON.stringify({ query: item.query, variables: item.variables, operationName: item.operationName }),
      signal: controller.signal,
    });
    if (!subscription || !response.headers.get('content-type')?.includes('text/event-stream')) {
      return { status: response.status, text: await response.text() };
    }
    let text = '';
    const decoder = new TextDecoder();
    const reading = (async () => {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) text += decoder.decode(chunk, { stream: true });
    })().catch(() => undefined);
    await Promise.race([reading, new Promise((resolve) => setTimeout(resolve, STREAM_WINDOW_MS))]);
    controller.abort();
    return { status: response.status, text };
  } catch (error) {
    // A request that hangs or drops is a failure of its own, reported with the case.
    return { status: 599, text: `no answer: ${String(error)}` };
  } finally {
    clearTimeout(timer);
  }
}

function sendRaw(item: RawHttpCase): Promise<{ status: number | 'closed'; text: string }> {
  return new Promise((resolve) => {
    const body = item.body === undefined ? undefined : Buffer.isBuffer(item.body) ? item.body : Buffer.from(item.body);
    const headers: Record<string, string | number> = { ...item.headers };
    if (item.chunked) headers['transfer-encoding'] = 'chunked';
    else if (item.declaredLength !== undefined) headers['content-length'] = item.declaredLength;
    else if (body) headers['content-length'] = body.length;
    let settled = false;
    const finish = (status: number | 'closed', text: string) => {
      if (settled) return;
      settled = true;
      resolve({ status, text });
    };
    const request = httpRequest(`${server.url}${item.path ?? '/graphql'}`, { method: item.method, headers, timeout: 20_000 }, (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => (text += chunk.toString()));
      response.on('end', () => finish(response.statusCode!, text));
      response.on('error', () => finish(response.statusCode!, text));
    });
    request.on('error', () => finish('closed', ''));
    request.on('timeout', () => {
      request.destroy();
      finish('closed', 'timeout');
    });
    if (body) {
      if (item.chunked) for (let offset = 0; offset < body.length; offset += 16_384) request.write(body.subarray(offset, offset + 16_384));
      else request.write(body);
    }
    if (item.declaredLength !== undefined && body && item.declaredLength > body.length) {
      // A body shorter than announced, then the client goes away.
      setTimeout(() => request.destroy(), 200);
      return;
    }
    request.end();
  });
}

async function withSocket(current: RawSocket | null): Promise<RawSocket> {
  if (current && current.socket.readyState === current.socket.OPEN) return current;
  const socket = openSocket(`${server.url.replace('http', 'ws')}/graphql`, admin);
  if (!(await socket.acknowledged)) throw new Error('could not open a graphql-ws socket');
  return socket;
}

let wsCounter = 0;

async function sendOperationWs(socket: RawSocket, item: OperationCase): Promise<{ text: string; closed?: number }> {
  wsCounter += 1;
  const id = `h${wsCounter}`;
  const limit = item.operationType === 'subscription' ? STREAM_WINDOW_MS : 10_000;
  const result = await Promise.race([
    socket.operation(id, item.query, item.variables as Record<string, unknown>),
    new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), limit)),
  ]);
  if (result === 'open') {
    if (item.operationType !== 'subscription') return { text: 'no answer within 10 s' };
    // An accepted subscription runs until it is completed.
    socket.send({ id, type: 'complete' });
    return { text: JSON.stringify(socket.frames.filter((frame) => frame.id === id)) };
  }
  const closed = socket.socket.readyState !== socket.socket.OPEN ? (await socket.closed).code : undefined;
  return { text: JSON.stringify(result), closed };
}

async function sendFrames(item: WsFramesCase): Promise<{ text: string; closed?: number }> {
  const socket = openSocket(`${server.url.replace('http', 'ws')}/graphql`, admin, { sendInit: !item.beforeInit });
  await new Promise<void>((resolve) => (socket.socket.readyState === socket.socket.OPEN ? resolve() : socket.socket.once('open', () => resolve())));
  if (!item.beforeInit) await socket.acknowledged;
  for (const frame of item.frames) socket.send(frame);
  const outcome = await Promise.race([socket.closed, new Promise<null>((resolve) => setTimeout(() => resolve(null), 400))]);
  socket.close();
  return { text: JSON.stringify(socket.frames), closed: outcome?.code };
}

async function healthy(): Promise<boolean> {
  const health = await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(10_000) });
  const ready = await fetch(`${server.url}/ready`, { signal: AbortSignal.timeout(10_000) });
  return health.status === 200 && ready.status === 200;
}

async function activeSubscriptions(): Promise<number> {
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  return Number(/^flowgraph_active_subscriptions (\d+)/m.exec(metrics)![1]);
}

async function heapBytes(): Promise<number> {
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  return Number(/^flowgraph_nodejs_heap_size_used_bytes (\d+(\.\d+)?)/m.exec(metrics)![1]);
}

/** Every row the API shows the tenant, and on PostgreSQL every row of every table. */
async function snapshot(): Promise<string> {
  const parts: string[] = [];
  for (const field of rootFields(schema, 'query').filter((candidate) => candidate.args.every((arg) => !String(arg.type).endsWith('!')))) {
    const operation = operationFor(schema, 'query', field, { depth: 8, idFor: () => null });
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...admin },
      body: JSON.stringify({ query: operation.query, variables: operation.variables }),
    });
    // The integrity report says when it was made; that is the only thing allowed to differ.
    parts.push((await response.text()).replace(/"checkedAt":"[^"]*"/g, '"checkedAt":"…"'));
  }
  if (databaseUrl) {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows: tables } = await client.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> '_prisma_migrations' ORDER BY 1`);
      for (const { tablename } of tables) {
        const { rows } = await client.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM "${tablename}" t ORDER BY 1`);
        parts.push(`${tablename}: ${rows.map((row) => row.row).join('\n')}`);
      }
    } finally {
      await client.end();
    }
  }
  return parts.join('\n');
}

/**
 * V8 collects old garbage lazily, so the heap of a healthy server can climb for a while; with the old
 * space capped, a real leak ends in an out-of-memory crash (the health checks fail) instead of
 * hiding behind collections that have not happened yet.
 */
const HEAP_CAP = { NODE_OPTIONS: '--max-old-space-size=256' };

/** Small body limits, so that oversized bodies are cheap to send. */
const BODY_LIMITS = { maxBodyBytes: 1_048_576, maxUploadBytes: 4 * 1_048_576 };
const LIMIT_ENV = { FLOWGRAPH_MAX_BODY_BYTES: String(BODY_LIMITS.maxBodyBytes), FLOWGRAPH_MAX_UPLOAD_BYTES: String(BODY_LIMITS.maxUploadBytes) };

beforeAll(async () => {
  if (onPostgres) {
    databaseUrl = workerDatabaseUrl(process.env.TEST_DATABASE_URL!, `hostile_${process.env.VITEST_POOL_ID ?? '1'}`);
    await recreateDatabase(databaseUrl);
    server = await startServer({ ...HEAP_CAP, ...LIMIT_ENV, DATABASE_URL: databaseUrl, FLOWGRAPH_SEED: '1', FLOWGRAPH_HTTP_RECEIVE_TIMEOUT_MS: '5000' });
  } else {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flowgraph-hostile-'));
    server = await startServer({ ...HEAP_CAP, ...LIMIT_ENV, DATABASE_URL: '', FLOWGRAPH_DATA_DIR: dataDir, FLOWGRAPH_SEED: '1', FLOWGRAPH_HTTP_RECEIVE_TIMEOUT_MS: '5000' });
  }
});
afterAll(async () => {
  await server?.stop('SIGKILL');
  if (databaseUrl) await dropDatabase(databaseUrl);
});

describe('hostile input', () => {
  it('never answers 5xx or INTERNAL_SERVER_ERROR, changes no row, stays healthy and keeps its memory', async () => {
    const own = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...admin },
      body: JSON.stringify({ query: '{ masterFlows { edges { node { id flowId } } } }' }),
    });
    const ownIds = ((await own.json()) as { data: { masterFlows: { edges: { node: { id: string; flowId: string } }[] } } }).data.masterFlows.edges.flatMap(
      (edge) => [edge.node.id, edge.node.flowId],
    );
    expect(ownIds.length).toBe(6);

    const corpus: HostileCase[] = [
      ...operationCases(schema, { own: ownIds, foreign: [crypto.randomUUID(), Buffer.from(`MasterFlow:${crypto.randomUUID()}`).toString('base64')] }),
      ...rawHttpCases(admin, BODY_LIMITS),
      ...wsFrameCases(),
    ];
    const classes = [...new Set(corpus.map((item) => item.class))];
    const before = await snapshot();
    const failures: Failure[] = [];
    const tried: Record<string, number> = {};
    // The heap is sampled after every batch, without forcing a collection; the smallest sample of a
    // round is the closest to what that round keeps alive.
    const heap: number[] = [];
    const samples: number[] = [];

    /** Sends one case and records what went wrong; `lane.socket` is the lane's graphql-ws socket. */
    const send = async (name: string, item: HostileCase, lane: { socket: RawSocket | null }): Promise<void> => {
      const fail = (what: string, detail: string) => failures.push({ class: name, what, detail: detail.slice(0, 300) });
      if (item.kind === 'operation') {
        const http = await sendOperationHttp(item);
        tried[`${name} (http)`] = (tried[`${name} (http)`] ?? 0) + 1;
        if (http.status >= 500 || http.text.includes('INTERNAL_SERVER_ERROR')) fail(`http ${item.query.slice(0, 80)}`, `${http.status} ${http.text}`);
        lane.socket = await withSocket(lane.socket);
        const ws = await sendOperationWs(lane.socket, item);
        tried[`${name} (graphql-ws)`] = (tried[`${name} (graphql-ws)`] ?? 0) + 1;
        if (ws.text.includes('INTERNAL_SERVER_ERROR') || SERVER_FAILURE_CLOSE_CODES.includes(ws.closed ?? 0) || ws.text.startsWith('no answer')) {
          fail(`graphql-ws ${item.query.slice(0, 80)}`, `${ws.closed ?? ''} ${ws.text}`);
        }
      } else if (item.kind === 'raw-http') {
        const raw = await sendRaw(item);
        tried[`${name} (http)`] = (tried[`${name} (http)`] ?? 0) + 1;
        const mayClose = name === 'oversized-bodies' || name === 'truncated-bodies';
        if ((raw.status === 'closed' && !mayClose) || (typeof raw.status === 'number' && raw.status >= 500) || raw.text.includes('INTERNAL_SERVER_ERROR')) {
          fail(`${item.method} ${item.headers['content-type'] ?? ''} ${String(item.body ?? item.path).slice(0, 60)}`, `${raw.status} ${raw.text}`);
        }
      } else {
        const ws = await sendFrames(item);
        tried[`${name} (graphql-ws)`] = (tried[`${name} (graphql-ws)`] ?? 0) + 1;
        if (ws.text.includes('INTERNAL_SERVER_ERROR') || SERVER_FAILURE_CLOSE_CODES.includes(ws.closed ?? 0)) fail(`frames ${String(item.frames[0]).slice(0, 60)}`, `${ws.closed} ${ws.text}`);
      }
    };

    for (let round = 0; round < ROUNDS; round += 1) {
      // A few cases at a time, each lane with its own socket: most of a case is waiting (a stream read for
      // STREAM_WINDOW_MS, a socket watched for a close), and one case at a time made this the slowest test.
      const lanes = Array.from({ length: LANES }, () => ({ socket: null as RawSocket | null }));
      for (const name of classes) {
        const items = corpus.filter((candidate) => candidate.class === name);
        let next = 0;
        await Promise.all(
          lanes.map(async (lane) => {
            while (next < items.length) await send(name, items[next++]!, lane);
          }),
        );
        expect({ afterClass: name, healthy: await healthy() }).toEqual({ afterClass: name, healthy: true });
        samples.push(await heapBytes());
      }
      for (const lane of lanes) lane.socket?.close();
      heap.push(Math.min(...samples.splice(0)));
      // Every subscription the corpus started has been cancelled by now: none may linger.
      let lingering = await activeSubscriptions();
      for (let attempt = 0; lingering > 0 && attempt < 50; attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        lingering = await activeSubscriptions();
      }
      expect({ round, lingering }).toEqual({ round, lingering: 0 });
    }

    const total = Object.values(tried).reduce((sum, count) => sum + count, 0);
    console.log(
      `hostile input: ${total} requests in ${ROUNDS} rounds (${total / ROUNDS} per round), smallest heap sample of each round: ${heap.map((bytes) => `${Math.round(bytes / 1_048_576)} MiB`).join(', ')}\n` +
        Object.entries(tried)
          .sort()
          .map(([name, count]) => `  ${name}: ${count / ROUNDS}`)
          .join('\n'),
    );
    expect(failures).toEqual([]);
    expect(total / ROUNDS).toBeGreaterThanOrEqual(500);
    for (const name of ['wrong-types', 'invalid-ids', 'huge-numbers', 'huge-strings', 'deep-nesting', 'alias-bombs', 'fragment-cycles', 'unknown-fields', 'invalid-utf8', 'oversized-bodies', 'truncated-bodies', 'wrong-content-types', 'multipart-tricks', 'ws-frames']) {
      expect(classes).toContain(name);
    }
    expect(await snapshot()).toBe(before);
    // Later rounds ran the same corpus as the first: a leak would show as steady growth.
    expect(heap.at(-1)! - heap[1]!).toBeLessThan(32 * 1_048_576);
    expect(server.output()).not.toMatch(/unhandled|uncaught/i);
  }, 600_000);
});
