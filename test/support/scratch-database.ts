// A database of a test's own, in any shape (the repair's tests need legacy ones, not the migrated worker
// database): in-memory PGlite by default, or a PostgreSQL database named after TEST_DATABASE_URL
// (`<name>_w<label>_<worker>`) when it is set. reset() empties its schema so one database serves many cases.
import { createHash } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import { pgliteSession, postgresSession, type SqlSession } from '../../src/db/sql-session.ts';
import { dropDatabase, recreateDatabase, workerDatabaseUrl } from './postgres-databases.ts';

export interface ScratchDatabase {
  kind: 'postgres' | 'pglite';
  session: SqlSession;
  /** The connection string (PostgreSQL only). */
  url: string | undefined;
  /** The embedded instance (PGlite only), for openDatabase({ pglite }). */
  pglite: PGlite | undefined;
  /** Drops everything in the current schema (tables, functions, extensions) and recreates it empty. */
  reset(): Promise<void>;
  dispose(): Promise<void>;
}

export async function scratchDatabase(label: string): Promise<ScratchDatabase> {
  const base = process.env.TEST_DATABASE_URL;
  const reset = (session: SqlSession) => session.exec('DROP SCHEMA public CASCADE; CREATE SCHEMA public;');
  if (base) {
    const url = workerDatabaseUrl(base, `${label}_${process.env.VITEST_POOL_ID ?? '1'}`);
    await recreateDatabase(url);
    const session = await postgresSession(url);
    return {
      kind: 'postgres',
      session,
      url,
      pglite: undefined,
      reset: () => reset(session),
      async dispose() {
        await session.close();
        await dropDatabase(url);
      },
    };
  }
  const db = await PGlite.create();
  const session = pgliteSession(db);
  return { kind: 'pglite', session, url: undefined, pglite: db, reset: () => reset(session), dispose: () => db.close() };
}

/** A digest of every row of the legacy tables (and whether _prisma_migrations exists): equal digests, equal data. */
export async function dataFingerprint(session: SqlSession): Promise<string> {
  const [row] = await session.query<{ digest: string }>(
    `SELECT concat_ws('|',
       (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t.id), '')) FROM crewai_flow_state_extensions t),
       (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t.id), '')) FROM data_imports t),
       (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t.id), '')) FROM raw_import_records t),
       (SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t.id), '')) FROM discovery_flows t),
       to_regclass('_prisma_migrations')::text) AS digest`,
  );
  return createHash('sha256').update(row!.digest).digest('hex');
}
