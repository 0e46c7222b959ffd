// Start-up and `npm run db:migrate` as real processes: migrations are applied once, and a migration that
// cannot be applied stops the start-up with a clear message and leaves nothing half-done.
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { TEST_AUTH_ENV } from './support/auth.ts';
import { runScript, startServer } from './support/server-process.ts';
import { onPostgres } from './support/test-database.ts';

async function dataDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'flowgraph-'));
}

describe('npm run db:migrate', () => {
  it('applies the migrations to the embedded database once', async () => {
    const dir = await dataDir();
    const env = { FLOWGRAPH_DATA_DIR: dir, DATABASE_URL: '' };
    const first = await runScript('src/cli/migrate.ts', [], env);
    expect(first.code).toBe(0);
    expect(first.output).toMatch(/applied: \d+_init/);
    const second = await runScript('src/cli/migrate.ts', [], env);
    expect(second.code).toBe(0);
    expect(second.output).toContain('no pending migrations');
  });

  it('refuses a DATABASE_URL that is not a PostgreSQL URL', async () => {
    const result = await runScript('src/cli/migrate.ts', [], { DATABASE_URL: 'mysql://somewhere/db' });
    expect(result.code).toBe(1);
    expect(result.output).toContain('DATABASE_URL must be a postgres:// or postgresql:// URL');
  });
});

describe('a migration that fails at start-up', () => {
  it('stops the server with a clear message, and the database keeps nothing of it', async () => {
    // A database that already holds a table of the same name (an unrepaired legacy database, say).
    const dir = await dataDir();
    const existing = await PGlite.create(dir);
    await existing.exec('CREATE TABLE data_imports (id int PRIMARY KEY); INSERT INTO data_imports VALUES (42);');
    await existing.close();

    const error = await startServer({ FLOWGRAPH_DATA_DIR: dir, DATABASE_URL: '' }).catch((caught: Error) => caught);
    expect(error).toBeInstanceOf(Error);
    const output = (error as Error).message;
    expect(output).toMatch(/cannot start\. Migration \d+_init failed and was rolled back/);
    expect(output).toContain('relation "data_imports" already exists');
    expect(output).not.toMatch(/\n\s+at /); // a message, not a stack trace

    const after = await PGlite.create(dir);
    const tables = await after.query<{ tablename: string }>(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`);
    expect(tables.rows.map((row) => row.tablename)).toEqual(['_prisma_migrations', 'data_imports']);
    const rows = await after.query<{ id: number }>('SELECT id FROM data_imports');
    expect(rows.rows).toEqual([{ id: 42 }]);
    const history = await after.query<{ finished_at: Date | null; rolled_back_at: Date | null }>(
      'SELECT finished_at, rolled_back_at FROM _prisma_migrations',
    );
    expect(history.rows).toHaveLength(1);
    expect(history.rows[0]?.finished_at).toBeNull();
    expect(history.rows[0]?.rolled_back_at).not.toBeNull();
    await after.close();
  });
});

// Once, in the PGlite suite: none of these depends on the database the suite runs on.
describe.runIf(!onPostgres)('a start-up that cannot succeed', () => {
  /** The server's output must be the failure in one line, with no stack. */
  function oneLine(output: string): string {
    expect(output).not.toMatch(/\n\s+at /);
    const failures = output.split('\n').filter((line) => line.includes('cannot start'));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/^flowgraph: cannot start\. /);
    return failures[0]!;
  }

  it('refuses a NODE_ENV it does not know, before it touches anything', async () => {
    const dir = path.join(await dataDir(), 'not-created');
    for (const nodeEnv of ['prod', 'Production', 'staging']) {
      const { code, output } = await runScript('src/server.ts', [], { NODE_ENV: nodeEnv, FLOWGRAPH_DATA_DIR: dir, DATABASE_URL: '', PORT: '0' });
      expect(code).toBe(1);
      expect(oneLine(output)).toBe(`flowgraph: cannot start. NODE_ENV must be one of development, production, test, got "${nodeEnv}"`);
    }
    expect(existsSync(dir)).toBe(false);
  });

  it('finds a port in use before it opens the database, and says so in one line', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    const dir = path.join(await dataDir(), 'not-created');
    try {
      const { code, output } = await runScript('src/server.ts', [], { FLOWGRAPH_DATA_DIR: dir, DATABASE_URL: '', PORT: String(port), HOST: '127.0.0.1' });
      expect(code).toBe(1);
      expect(oneLine(output)).toBe(
        `flowgraph: cannot start. port ${port} on 127.0.0.1 is already in use (PORT, HOST): stop what listens there or choose another port`,
      );
      // Nothing was opened, migrated or seeded: the port is bound first.
      expect(existsSync(dir)).toBe(false);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('says in one line that PostgreSQL is unreachable, without its password', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const { code, output } = await runScript('src/server.ts', [], {
      ...TEST_AUTH_ENV,
      DATABASE_URL: `postgres://flowgraph:s3cret-password@127.0.0.1:${port}/flowgraph`,
      FLOWGRAPH_DB_CONNECT_TIMEOUT_MS: '2000',
      PORT: '0',
    });
    expect(code).toBe(1);
    expect(oneLine(output)).toBe(
      `flowgraph: cannot start. PostgreSQL at postgres://flowgraph:***@127.0.0.1:${port}/flowgraph is unreachable (connect ECONNREFUSED 127.0.0.1:${port}): check DATABASE_URL and that the server runs`,
    );
    expect(output).not.toContain('s3cret-password');
  });

  it('in production, refuses /metrics without a token, and seeds nothing unless asked', async () => {
    const dir = path.join(await dataDir(), 'not-created');
    const production = { ...TEST_AUTH_ENV, NODE_ENV: 'production', FLOWGRAPH_DATA_DIR: dir, DATABASE_URL: '', PORT: '0' };
    const { code, output } = await runScript('src/server.ts', [], production);
    expect(code).toBe(1);
    expect(oneLine(output)).toContain('In production /metrics needs FLOWGRAPH_METRICS_TOKEN');
    expect(existsSync(dir)).toBe(false);

    const server = await startServer({ ...production, FLOWGRAPH_METRICS_TOKEN: 'metrics-token-0123456789', FLOWGRAPH_SEED: '' });
    try {
      expect(server.output()).not.toContain('seeded the demo tenant');
      expect((await fetch(`${server.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer metrics-token-012345678X' } })).status).toBe(401);
      const scraped = await fetch(`${server.url}/metrics`, { headers: { authorization: 'Bearer metrics-token-0123456789' } });
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain('flowgraph_http_responses_total');
    } finally {
      expect(await server.stop('SIGTERM')).toBe(0);
    }
  });
});
