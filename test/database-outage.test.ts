// A running server loses its PostgreSQL database and gets it back: /ready turns false within seconds,
// requests fail fast with a retryable error instead of hanging, and everything recovers by itself.
// The server runs as a real process and reaches its own throwaway database through a TCP proxy the
// test cuts, black-holes and restores; the test also terminates the server's sessions outright.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_VIEWER } from '../src/services/demo-seed.ts';
import { authHeaders } from './support/auth.ts';
import { dropDatabase, recreateDatabase, workerDatabaseUrl } from './support/postgres-databases.ts';
import { startServer, type ServerProcess } from './support/server-process.ts';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.ts';
import { onPostgres } from './support/test-database.ts';

interface Outcome {
  status: number;
  ms: number;
  codes: unknown[];
  retryable: unknown[];
  totalCount?: number;
  text: string;
}

describe.runIf(onPostgres)('database outage (PostgreSQL)', () => {
  let server: ServerProcess;
  let proxy: TcpProxy;
  let databaseUrl: string;
  let databaseName: string;

  async function query(): Promise<Outcome> {
    const started = Date.now();
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authHeaders(DEMO_VIEWER) },
      body: JSON.stringify({ query: '{ masterFlows { totalCount } }' }),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await response.text();
    const body = JSON.parse(text) as { data?: { masterFlows?: { totalCount: number } } | null; errors?: { extensions?: { code?: unknown; retryable?: unknown } }[] };
    return {
      status: response.status,
      ms: Date.now() - started,
      codes: (body.errors ?? []).map((error) => error.extensions?.code),
      retryable: (body.errors ?? []).map((error) => error.extensions?.retryable),
      totalCount: body.data?.masterFlows?.totalCount,
      text,
    };
  }

  const ready = async () => (await fetch(`${server.url}/ready`, { signal: AbortSignal.timeout(10_000) })).status;

  /** Polls until `check` holds; returns how long it took. */
  async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
    const started = Date.now();
    while (Date.now() - started < ms) {
      if (await check()) return Date.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`not within ${ms} ms`);
  }

  beforeAll(async () => {
    const direct = workerDatabaseUrl(process.env.TEST_DATABASE_URL!, `outage_${process.env.VITEST_POOL_ID ?? '1'}`);
    databaseName = new URL(direct).pathname.slice(1);
    await recreateDatabase(direct);
    const target = new URL(direct);
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
    target.host = `127.0.0.1:${proxy.port}`;
    databaseUrl = target.toString();
    server = await startServer({
      DATABASE_URL: databaseUrl,
      FLOWGRAPH_SEED: '1',
      FLOWGRAPH_DB_CONNECT_TIMEOUT_MS: '1000',
      FLOWGRAPH_READY_TIMEOUT_MS: '1000',
      FLOWGRAPH_REQUEST_TIMEOUT_MS: '3000',
    });
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await proxy?.close();
    if (databaseName) await dropDatabase(workerDatabaseUrl(process.env.TEST_DATABASE_URL!, `outage_${process.env.VITEST_POOL_ID ?? '1'}`));
  });

  it('serves while the database is there', async () => {
    expect(await ready()).toBe(200);
    expect((await query()).totalCount).toBe(3);
  });

  it('when the database goes away: not ready within seconds, fast retryable errors, then recovery on its own', async () => {
    await proxy.cut();
    const notReadyAfter = await within(5_000, async () => (await ready()) === 503);
    expect(notReadyAfter).toBeLessThan(5_000);

    for (let attempt = 0; attempt < 3; attempt += 1) {
      const outcome = await query();
      expect(outcome.ms).toBeLessThan(2_500);
      expect(outcome.status).toBe(503);
      expect(outcome.codes).toEqual(['DATABASE_UNAVAILABLE']);
      expect(outcome.retryable).toEqual([true]);
      expect(outcome.text).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|prisma|postgres/i);
    }
    expect(await fetch(`${server.url}/health`).then((response) => response.status)).toBe(200);

    await proxy.restore();
    await within(10_000, async () => (await ready()) === 200);
    await within(10_000, async () => (await query()).totalCount === 3);
  });

  it('when the network silently drops packets: requests end at the deadline, /ready turns false, and both come back', async () => {
    proxy.blackHole();
    const outcome = await query();
    expect(outcome.ms).toBeLessThan(5_000);
    expect(outcome.codes.length).toBe(1);
    expect(['REQUEST_TIMEOUT', 'DATABASE_UNAVAILABLE']).toContain(outcome.codes[0]);
    expect(outcome.retryable).toEqual([true]);
    expect(outcome.status).toBeLessThan(600);
    await within(6_000, async () => (await ready()) === 503);

    await proxy.restore();
    await within(15_000, async () => (await ready()) === 200);
    await within(15_000, async () => (await query()).totalCount === 3);
  });

  it('when the database terminates the server\'s sessions: the next requests reconnect', async () => {
    const admin = new pg.Client({ connectionString: workerDatabaseUrl(process.env.TEST_DATABASE_URL!, 'admin').replace(/\/[^/]*$/, '/postgres') });
    await admin.connect();
    try {
      const { rows } = await admin.query<{ terminated: boolean }>(
        'SELECT pg_terminate_backend(pid) AS terminated FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
        [databaseName],
      );
      expect(rows.length).toBeGreaterThan(0);
    } finally {
      await admin.end();
    }
    const outcomes = [await query(), await query()];
    for (const outcome of outcomes) {
      if (outcome.totalCount === undefined) expect(outcome.codes).toEqual(['DATABASE_UNAVAILABLE']);
    }
    expect(outcomes[1]!.totalCount).toBe(3);
    await within(5_000, async () => (await ready()) === 200);
    expect(server.child.exitCode).toBeNull();
    expect(server.output()).not.toMatch(/unhandled|uncaught|cannot start/i);
  });
});
