// Migrations: applied in-process with prisma-compatible bookkeeping, failures reported and rolled back,
// and prisma/migrations always in agreement with prisma/schema.prisma.
import { mkdtemp, mkdir, writeFile, cp } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgliteSession, postgresSession, type SqlSession } from '../src/db/sql-session.ts';
import {
  applyMigrations,
  checksum,
  defaultMigrationsDir,
  migrationStatus,
  MigrationFailedError,
  readMigrations,
} from '../src/db/migrator.ts';
import { diffMigrationsToSchema, schemaFile } from '../src/db/schema-engine.ts';
import { DISCOVERY_PHASES } from '../src/domain/discovery-phases.ts';
import { FLOW_EVENT_KINDS } from '../src/domain/flow-event-kinds.ts';
import { FLOW_TYPES } from '../src/domain/flow-types.ts';
import { IMPORT_STATUSES } from '../src/domain/import-status.ts';
import { DISCOVERY_FLOW_STATUSES, MASTER_FLOW_STATUSES } from '../src/domain/master-flow-status.ts';
import { dropDatabase, recreateDatabase, workerDatabaseUrl } from './support/postgres-databases.ts';
import { onPostgres, testDatabase } from './support/test-database.ts';

/** A fresh, empty database of the kind this run tests (PGlite, or PostgreSQL with TEST_DATABASE_URL). */
async function emptyDatabase(label: string): Promise<{ session: SqlSession; dispose(): Promise<void> }> {
  const base = process.env.TEST_DATABASE_URL;
  if (base) {
    const url = workerDatabaseUrl(base, `${label}_${process.env.VITEST_POOL_ID ?? '1'}`);
    await recreateDatabase(url);
    const session = await postgresSession(url);
    return {
      session,
      async dispose() {
        await session.close();
        await dropDatabase(url);
      },
    };
  }
  const db = await PGlite.create();
  return { session: pgliteSession(db, { closeDatabase: true }), dispose: () => db.close() };
}

describe('applyMigrations', () => {
  let db: Awaited<ReturnType<typeof emptyDatabase>>;
  beforeAll(async () => {
    db = await emptyDatabase('migrate');
  });
  afterAll(async () => db.dispose());

  it('applies every migration once, with the bookkeeping of prisma migrate deploy', async () => {
    const migrations = await readMigrations();
    expect(migrations.length).toBeGreaterThan(0);
    expect(await applyMigrations(db.session)).toEqual(migrations.map((m) => m.name));
    expect(await applyMigrations(db.session)).toEqual([]);

    const rows = await db.session.query<{ migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number }>(
      'SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name',
    );
    expect(rows.map((row) => row.migration_name)).toEqual(migrations.map((m) => m.name));
    for (const [index, row] of rows.entries()) {
      const file = readFileSync(path.join(defaultMigrationsDir, row.migration_name, 'migration.sql'));
      expect(row.checksum).toBe(checksum(file.toString('utf8')));
      expect(row.finished_at).not.toBeNull();
      expect(row.applied_steps_count).toBe(1);
      expect(migrations[index]!.checksum).toHaveLength(64);
    }
    expect(await migrationStatus(db.session)).toEqual({ applied: migrations.map((m) => m.name), pending: [], modified: [] });
  });

  it('enforces the value lists of src/domain with CHECK constraints', async () => {
    const constraints = await db.session.query<{ conname: string; definition: string }>(
      `SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint WHERE contype = 'c'`,
    );
    const definition = (name: string) => constraints.find((c) => c.conname === name)?.definition ?? '';
    const listed = (name: string) => [...definition(name).matchAll(/'([a-z_]+)'/g)].map((match) => match[1]).sort();
    expect(listed('crewai_flow_state_extensions_flow_type_check')).toEqual([...FLOW_TYPES].sort());
    expect(listed('crewai_flow_state_extensions_flow_status_check')).toEqual([...MASTER_FLOW_STATUSES].sort());
    expect(listed('data_imports_status_check')).toEqual([...IMPORT_STATUSES].sort());
    expect(listed('discovery_flows_status_check')).toEqual([...DISCOVERY_FLOW_STATUSES].sort());
    expect(listed('discovery_flows_current_phase_check')).toEqual([...DISCOVERY_PHASES].sort());
    expect(listed('flow_events_kind_check')).toEqual([...FLOW_EVENT_KINDS].sort());
    expect(listed('flow_event_outbox_kind_check')).toEqual([...FLOW_EVENT_KINDS].sort());
  });
});

describe('a failing migration', () => {
  let db: Awaited<ReturnType<typeof emptyDatabase>>;
  let dir: string;
  beforeAll(async () => {
    db = await emptyDatabase('failing');
    dir = await mkdtemp(path.join(os.tmpdir(), 'flowgraph-migrations-'));
    await cp(defaultMigrationsDir, dir, { recursive: true });
    await mkdir(path.join(dir, '29990101000000_broken'));
    await writeFile(
      path.join(dir, '29990101000000_broken', 'migration.sql'),
      'CREATE TABLE half_done (id int);\nALTER TABLE no_such_table ADD COLUMN x int;\n',
    );
  });
  afterAll(async () => db.dispose());

  it('is reported as failed, rolled back whole, recorded, and retried on the next run', async () => {
    const migrations = await readMigrations(dir);
    const error = await applyMigrations(db.session, migrations).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MigrationFailedError);
    expect((error as MigrationFailedError).migration).toBe('29990101000000_broken');
    expect((error as Error).message).toMatch(/29990101000000_broken failed.*no_such_table/s);

    const [halfDone] = await db.session.query<{ present: boolean }>(`SELECT to_regclass('half_done') IS NOT NULL AS present`);
    expect(halfDone?.present).toBe(false);
    const [row] = await db.session.query<{ finished_at: Date | null; rolled_back_at: Date | null; logs: string }>(
      `SELECT finished_at, rolled_back_at, logs FROM _prisma_migrations WHERE migration_name = '29990101000000_broken'`,
    );
    expect(row?.finished_at).toBeNull();
    expect(row?.rolled_back_at).not.toBeNull();
    expect(row?.logs).toMatch(/no_such_table/);
    // The migrations before it stay applied; the broken one stays pending and is tried again.
    const status = await migrationStatus(db.session, migrations);
    expect(status.pending).toEqual(['29990101000000_broken']);
    await expect(applyMigrations(db.session, migrations)).rejects.toBeInstanceOf(MigrationFailedError);
  });
});

describe('prisma/migrations and prisma/schema.prisma', () => {
  it('agree: applying the migrations gives exactly the schema (npm run db:diff prints the difference)', async () => {
    expect(await diffMigrationsToSchema()).toBe('');
  });

  it('disagree as soon as the schema gains a column the migrations lack', async () => {
    const schema = readFileSync(schemaFile, 'utf8').replace(
      /(\n\s+version\s+Int\s+@default\(0\))/,
      '$1\n  driftProbe Int? @map("drift_probe")',
    );
    expect(schema).toContain('drift_probe');
    expect(await diffMigrationsToSchema(schema)).toMatch(/ADD COLUMN\s+"drift_probe" INTEGER/);
  });
});

describe('the shared test database', () => {
  it(`is migrated (${onPostgres ? 'PostgreSQL' : 'PGlite'})`, async () => {
    const database = await testDatabase();
    expect((await migrationStatus(database.sql)).pending).toEqual([]);
  });
});
