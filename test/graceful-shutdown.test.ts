// SIGTERM as a load balancer's instance sees it, on a real server process: intake stops at once (listener
// closed, `Connection: close`, new requests and operations on open connections refused with a retryable
// SHUTTING_DOWN), what is in flight is answered, nothing is answered with a masked error, and the process exits
// as soon as nothing is in flight. An import still running at the end of the grace period is rolled back and
// answered with SHUTTING_DOWN; nothing of it is stored. On PostgreSQL that import is storing rows as they
// arrive; on PGlite an upload is received into a temporary file before its transaction opens, so there the
// import is still RECEIVING, and its receiving gives up at the deadline the same way.
import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { print } from 'graphql';
import { afterEach, describe, expect, it } from 'vitest';
import { StoreImportDocument } from './generated/graphql.ts';
import { testToken } from './support/auth.ts';
import { newTenant } from './support/factories.ts';
import { viewerHeaders } from './support/graphql.ts';
import { recreateDatabase, workerDatabaseUrl } from './support/postgres-databases.ts';
import { startServer, type ServerProcess } from './support/server-process.ts';
import { onPostgres } from './support/test-database.ts';
import { csvText, streamingUpload } from './support/upload.ts';
import { openSocket } from './support/ws-client.ts';

const STORE_IMPORT = print(StoreImportDocument);

type Outcome = 'stored' | 'shutting_down' | 'not_connected' | 'masked' | 'other';

interface Answer {
  outcome: Outcome;
  sentAt: number;
  answeredAt: number;
  connection: string | null;
  detail?: string;
}

let servers: ServerProcess[] = [];
afterEach(async () => {
  for (const server of servers) await server.stop('SIGKILL');
  servers = [];
});

async function databaseEnv(name: string): Promise<Record<string, string>> {
  if (onPostgres) {
    const url = workerDatabaseUrl(process.env.TEST_DATABASE_URL!, `${name}_${process.env.VITEST_POOL_ID ?? '1'}`);
    await recreateDatabase(url);
    return { DATABASE_URL: url };
  }
  return { DATABASE_URL: '', FLOWGRAPH_DATA_DIR: await mkdtemp(path.join(os.tmpdir(), `flowgraph-${name}-`)) };
}

async function start(env: Record<string, string>): Promise<ServerProcess> {
  const server = await startServer(env);
  servers.push(server);
  return server;
}

/** Exit code and time from `since` until the process exited. */
async function exitOf(server: ServerProcess, since: number): Promise<{ code: number | null; ms: number }> {
  const child = server.child;
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  return { code: child.exitCode, ms: performance.now() - since };
}

async function masterFlowCount(url: string, viewer: ReturnType<typeof newTenant>): Promise<number> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...viewerHeaders(viewer) },
    body: JSON.stringify({ query: '{ masterFlows { totalCount } }' }),
  });
  return ((await response.json()) as { data: { masterFlows: { totalCount: number } } }).data.masterFlows.totalCount;
}

interface InFlight {
  status: string;
  stage: string | null;
  rowsStored: number;
  bytesRead: number | null;
}

async function importProgressOf(url: string, viewer: ReturnType<typeof newTenant>, key: string): Promise<InFlight | null> {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...viewerHeaders(viewer) },
    body: JSON.stringify({ query: 'query($key: String!) { importProgress(idempotencyKey: $key) { status stage rowsStored bytesRead } }', variables: { key } }),
  });
  return ((await response.json()) as { data: { importProgress: InFlight | null } }).data.importProgress;
}

function classify(status: number, body: { data?: { storeImport?: { __typename: string } }; errors?: { extensions?: { code?: string; retryable?: boolean } }[] }): Outcome {
  if (body.data?.storeImport?.__typename === 'MasterFlow' && !body.errors) return 'stored';
  const error = body.errors?.[0]?.extensions;
  if (error?.code === 'SHUTTING_DOWN' && error.retryable === true && status === 503) return 'shutting_down';
  if (error?.code === 'INTERNAL_SERVER_ERROR') return 'masked';
  return 'other';
}

describe('SIGTERM under a stream of mutations on kept-alive connections', () => {
  it('stops the intake at once, answers what is in flight, masks nothing, loses nothing and exits without waiting for the grace period', async () => {
    const env = { ...(await databaseEnv('drain')), FLOWGRAPH_SHUTDOWN_GRACE_MS: '20000' };
    let server = await start(env);
    const viewer = newTenant('drainer');
    const answers: Answer[] = [];
    let sigtermAt = Number.POSITIVE_INFINITY;
    let exited = false;
    void once(server.child, 'exit').then(() => (exited = true));

    // Each worker sends one mutation after another on its own kept-alive connection (fetch keeps them open).
    const worker = async (index: number) => {
      for (let sent = 0; sent < 2_000 && !exited; sent += 1) {
        const sentAt = performance.now();
        try {
          const response = await fetch(`${server.url}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...viewerHeaders(viewer) },
            body: JSON.stringify({ query: STORE_IMPORT, variables: { input: { filename: `w${index}-${sent}.json`, importType: 'servers', rows: [{ worker: index, n: sent }] } } }),
          });
          const body = (await response.json()) as Parameters<typeof classify>[1];
          const outcome = classify(response.status, body);
          answers.push({ outcome, sentAt, answeredAt: performance.now(), connection: response.headers.get('connection'), detail: outcome === 'other' ? JSON.stringify(body) : undefined });
        } catch (error) {
          // The listener is closed, or an idle connection was closed before this request reached the server.
          answers.push({ outcome: 'not_connected', sentAt, answeredAt: performance.now(), connection: null, detail: String((error as Error).cause ?? error) });
          if (performance.now() > sigtermAt) return;
        }
      }
    };
    const workers = Array.from({ length: 6 }, (_unused, index) => worker(index));
    while (answers.filter((answer) => answer.outcome === 'stored').length < 30) await new Promise((resolve) => setTimeout(resolve, 20));
    // When the server has taken the signal in (a busy event loop takes it in a little later).
    let drainingAt = Number.POSITIVE_INFINITY;
    server.child.stdout!.on('data', () => {
      if (drainingAt === Number.POSITIVE_INFINITY && server.output().includes('SIGTERM received')) drainingAt = performance.now();
    });
    sigtermAt = performance.now();
    server.child.kill('SIGTERM');
    const exit = await exitOf(server, sigtermAt);
    await Promise.all(workers);

    const count = (outcome: Outcome) => answers.filter((answer) => answer.outcome === outcome).length;
    expect(answers.filter((answer) => answer.outcome === 'other' || answer.outcome === 'masked')).toEqual([]);
    expect(exit.code).toBe(0);
    // The grace period is 20 s; with only short mutations in flight the process is gone long before (the
    // bound leaves room for a machine under load).
    expect(exit.ms).toBeLessThan(8_000);
    expect(server.output()).toMatch(/flowgraph: stopped \(\d+ ms\)/);
    expect(server.output()).not.toContain('unexpected error');
    // Intake stopped: a request sent once the server had taken SIGTERM in was refused with SHUTTING_DOWN and
    // its connection closed, or found no connection; the mutations in flight then were answered with
    // `Connection: close`.
    const sentLater = answers.filter((answer) => answer.sentAt > drainingAt && answer.outcome !== 'not_connected');
    for (const answer of sentLater) expect(answer).toMatchObject({ outcome: 'shutting_down', connection: 'close' });
    const answeredLater = answers.filter((answer) => answer.answeredAt > drainingAt + 500);
    expect(answeredLater.filter((answer) => answer.connection === 'keep-alive')).toEqual([]);
    console.log(
      `drain: ${answers.length} answers, ${count('stored')} stored (${answers.filter((a) => a.outcome === 'stored' && a.answeredAt > sigtermAt).length} after SIGTERM), ` +
        `${count('shutting_down')} SHUTTING_DOWN, ${count('not_connected')} not connected; exit ${Math.round(exit.ms)} ms after SIGTERM`,
    );

    // Nothing lost, nothing extra: every mutation answered as stored is in the database, and no other.
    server = await start(env);
    expect(await masterFlowCount(server.url, viewer)).toBe(count('stored'));
    expect(count('stored')).toBeGreaterThanOrEqual(30);
  }, 180_000);
});

describe('SIGTERM while an import runs past the grace period', () => {
  it('refuses new operations with SHUTTING_DOWN, rolls the import back, answers it with SHUTTING_DOWN and exits within the grace period', async () => {
    const env = { ...(await databaseEnv('drain_import')), FLOWGRAPH_SHUTDOWN_GRACE_MS: '3000', FLOWGRAPH_IMPORT_PROGRESS_ROWS: '2000' };
    let server = await start(env);
    const viewer = newTenant('uploader');
    const key = 'drain-import';
    const variables = { input: { filename: 'big.csv', importType: 'servers', idempotencyKey: key } };
    const content = csvText(40_000);
    const upload = streamingUpload({ url: server.url, viewer, document: StoreImportDocument, variables, filename: 'big.csv' });
    upload.write(content.slice(0, content.indexOf('\n', content.length / 2) + 1));
    const deadline = Date.now() + 60_000;
    if (onPostgres) {
      while (!/rows stored, not committed yet/.test(server.output())) {
        if (Date.now() > deadline) throw new Error(`no import progress:\n${server.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    } else {
      // Nothing is stored before the whole upload has arrived: wait until the server has received most of
      // the half sent (the multipart parser may hold the last bytes back).
      const half = content.indexOf('\n', content.length / 2) + 1;
      for (;;) {
        const progress = await importProgressOf(server.url, viewer, key);
        if (progress?.stage === 'RECEIVING' && (progress.bytesRead ?? 0) >= half - 64 * 1024) {
          expect(progress).toMatchObject({ status: 'PROCESSING', rowsStored: 0 });
          break;
        }
        if (Date.now() > deadline) throw new Error(`upload not received: ${JSON.stringify(progress)}\n${server.output()}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }

    const socketUrl = `${server.url.replace('http', 'ws')}/graphql`;
    const params = { authorization: `Bearer ${testToken(viewer)}` };
    // An idle socket, and one with a mutation in flight: the same idempotency key waits for the import's
    // transaction. On PGlite no transaction is open while an upload is received, so no write waits there: a
    // mutation sent now is stored at once (with a key of its own), and both sockets are idle at SIGTERM.
    const idle = openSocket(socketUrl, params);
    const busy = openSocket(socketUrl, params);
    expect(await idle.acknowledged).toBe(true);
    expect(await busy.acknowledged).toBe(true);
    const queued = onPostgres
      ? busy.operation('m1', STORE_IMPORT, { input: { filename: 'inline.json', importType: 'servers', idempotencyKey: key, rows: [{ a: 1 }] } })
      : undefined;
    if (!onPostgres) {
      const frames = await busy.operation('m1', STORE_IMPORT, { input: { filename: 'inline.json', importType: 'servers', idempotencyKey: 'not-held', rows: [{ a: 1 }] } });
      expect(JSON.stringify(frames)).toContain('"__typename":"MasterFlow"');
    }
    // A connection that has sent half a request: the rest arrives during the shutdown.
    const raw = net.connect(server.port, '127.0.0.1');
    await once(raw, 'connect');
    const request = JSON.stringify({ query: '{ masterFlows { totalCount } }' });
    raw.write(`POST /graphql HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n`);
    let rawAnswer = '';
    raw.on('data', (chunk: Buffer) => (rawAnswer += chunk.toString()));
    const rawClosed = once(raw, 'close');
    await new Promise((resolve) => setTimeout(resolve, 200));

    const sigtermAt = performance.now();
    server.child.kill('SIGTERM');
    // The idle socket is cut at once with 1001 (its client reconnects elsewhere).
    expect((await idle.closed).code).toBe(1001);
    if (onPostgres) {
      // The busy socket stays open for its mutation, and refuses a new operation.
      const refusedSubscription = await busy.operation('s1', 'subscription { flowEvents { __typename } }');
      expect(refusedSubscription).toMatchObject([{ type: 'error', payload: [{ extensions: { code: 'SHUTTING_DOWN', retryable: true } }] }]);
    } else {
      expect((await busy.closed).code).toBe(1001);
    }
    raw.write(`authorization: Bearer ${testToken(viewer)}\r\ncontent-length: ${Buffer.byteLength(request)}\r\n\r\n${request}`);
    await rawClosed;
    expect(rawAnswer).toMatch(/^HTTP\/1\.1 503 /);
    expect(rawAnswer.toLowerCase()).toContain('connection: close');
    expect(rawAnswer).toContain('"code":"SHUTTING_DOWN"');
    // A new connection finds the listener closed.
    await expect(fetch(`${server.url}/health`)).rejects.toThrow();

    const answered = await upload.response;
    const body = (await answered.json()) as { errors?: { message: string; extensions: { code: string; retryable: boolean } }[] };
    expect(answered.status).toBe(503);
    expect(answered.headers.get('retry-after')).toBe('1');
    expect(body.errors).toMatchObject([{ extensions: { code: 'SHUTTING_DOWN', retryable: true } }]);
    if (queued) {
      const queuedFrames = await queued;
      expect(JSON.stringify(queuedFrames)).toContain('"code":"SHUTTING_DOWN"');
      expect(JSON.stringify(queuedFrames)).not.toContain('INTERNAL_SERVER_ERROR');
      expect((await busy.closed).code).toBe(1001);
    }

    const exit = await exitOf(server, sigtermAt);
    expect(exit.code).toBe(0);
    expect(exit.ms).toBeLessThan(3_000 + 1_500);
    expect(server.output()).not.toContain('unexpected error');
    expect(server.output()).not.toContain('Transaction');

    server = await start(env);
    // Nothing of the upload is stored (on PGlite only the mutation stored before SIGTERM is).
    expect(await masterFlowCount(server.url, viewer)).toBe(onPostgres ? 0 : 1);
    expect(await importProgressOf(server.url, viewer, key)).toBeNull();
  }, 180_000);
});
