// Start-up and `npm run db:migrate` as real processes: migrations are applied once, and a migration that
// cannot be applied stops the start-up with a clear message and leaves nothing half-done.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { runScript, startServer } from './support/server-process.ts';

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
