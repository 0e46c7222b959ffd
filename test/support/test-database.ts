// The database a test file runs against: PGlite in memory by default, PostgreSQL with TEST_DATABASE_URL.
// One per worker, created on first use; resetDatabase() empties it between tests.
import { PGlite } from '@electric-sql/pglite';
import { openDatabase, type Database } from '../../src/db/database.ts';
import { applyMigrations } from '../../src/db/migrator.ts';
import { workerDatabaseUrl } from './postgres-databases.ts';

let shared: Promise<Database> | undefined;

export const onPostgres = Boolean(process.env.TEST_DATABASE_URL);

async function create(): Promise<Database> {
  const base = process.env.TEST_DATABASE_URL;
  if (base) {
    // The global setup created and migrated this worker's database.
    return openDatabase({ databaseUrl: workerDatabaseUrl(base, process.env.VITEST_POOL_ID ?? '1'), poolSize: 10 });
  }
  const database = await openDatabase({ pglite: await PGlite.create() });
  await applyMigrations(database.sql);
  return database;
}

export function testDatabase(): Promise<Database> {
  shared ??= create();
  return shared;
}

/** Empties every application table (the migration history and the event counter's row stay). */
export async function resetDatabase(database: Database): Promise<void> {
  const tables = await database.sql.query<{ tablename: string }>(
    `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()
       AND tablename NOT IN ('_prisma_migrations', 'flow_event_sequence')`,
  );
  await database.sql.exec(
    `TRUNCATE ${tables.map((table) => `"${table.tablename}"`).join(', ')} CASCADE;
     UPDATE flow_event_sequence SET last_sequence = 0, pruned_through = 0;`,
  );
}
