// Applies prisma/migrations in-process, on PostgreSQL and PGlite alike, keeping the same
// `_prisma_migrations` bookkeeping as `prisma migrate deploy` (same table, same sha256 checksums, same
// advisory lock), so either tool can take over a database the other one migrated.
//
// Written here rather than driving Prisma's wasm schema engine because that engine's `applyMigrations`
// goes through driver adapters that mishandle scripts (pglite-prisma-adapter does not await `exec`, so
// a failing migration is recorded as applied; adapter-pg splits on ";" and breaks function bodies).
// Each migration runs in its own transaction: PostgreSQL DDL is transactional, so a failure leaves no
// trace but a row marked rolled back, and the next start tries again.
import { createHash, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqlSession } from './sql-session.ts';

export const defaultMigrationsDir = fileURLToPath(new URL('../../prisma/migrations', import.meta.url));

/** Prisma's own lock key, so `prisma migrate deploy` and flowgraph never migrate at the same time. */
export const PRISMA_MIGRATE_LOCK_KEY = 72707369;

/**
 * `_prisma_migrations.logs` of the first migration while `npm run repair` is validating the constraints it
 * added to a legacy database (src/services/legacy-repair.ts); the row is finished when the repair is.
 */
export const REPAIR_MARKER = 'flowgraph repair in progress';

/** The table every legacy database of the old platform has (test/fixtures/legacy-schema.sql). */
const LEGACY_MASTER_TABLE = 'crewai_flow_state_extensions';

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrationStatus {
  applied: string[];
  pending: string[];
  /** Applied migrations whose file changed afterwards (Prisma warns about these too). */
  modified: string[];
}

export class MigrationFailedError extends Error {
  override name = 'MigrationFailedError';
  constructor(
    readonly migration: string,
    readonly reason: string,
  ) {
    super(
      `Migration ${migration} failed and was rolled back, so none of it was applied: ${reason}\n` +
        'Fix the migration (or the database) and start again; the next start retries it.',
    );
  }
}

export class MigrationHistoryError extends Error {
  override name = 'MigrationHistoryError';
}

export function checksum(sql: string): string {
  return createHash('sha256').update(sql).digest('hex');
}

export async function readMigrations(dir = defaultMigrationsDir): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name)
    .sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(path.join(dir, name, 'migration.sql'), 'utf8');
      return { name, sql, checksum: checksum(sql) };
    }),
  );
}

export const CREATE_HISTORY_TABLE = `
  CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                  VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"            VARCHAR(64) NOT NULL,
    "finished_at"         TIMESTAMPTZ,
    "migration_name"      VARCHAR(255) NOT NULL,
    "logs"                TEXT,
    "rolled_back_at"      TIMESTAMPTZ,
    "started_at"          TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count" INTEGER NOT NULL DEFAULT 0
  )`;

interface HistoryRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  logs: string | null;
}

async function readHistory(session: SqlSession): Promise<HistoryRow[]> {
  const [exists] = await session.query<{ present: boolean }>(
    `SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS present`,
  );
  if (!exists?.present) return [];
  return session.query<HistoryRow>(
    `SELECT migration_name, checksum, finished_at, rolled_back_at, logs FROM "_prisma_migrations" ORDER BY started_at`,
  );
}

function compare(migrations: Migration[], history: HistoryRow[]): MigrationStatus {
  const finished = new Map(
    history.filter((row) => row.finished_at !== null && row.rolled_back_at === null).map((row) => [row.migration_name, row]),
  );
  const unfinished = history.find((row) => row.finished_at === null && row.rolled_back_at === null);
  if (unfinished?.logs?.startsWith(REPAIR_MARKER)) {
    throw new MigrationHistoryError(
      'A repair of this legacy database was interrupted while it validated its constraints. ' +
        'Run `npm run repair -- --apply` (with the same database) to finish it.',
    );
  }
  if (unfinished) {
    // Left by `prisma migrate deploy` (which does not use transactions): the database may hold part of it.
    throw new MigrationHistoryError(
      `Migration ${unfinished.migration_name} is marked as started but never finished in _prisma_migrations. ` +
        'Inspect the database, then mark it with `prisma migrate resolve --rolled-back` or `--applied`.',
    );
  }
  return {
    applied: migrations.filter((m) => finished.has(m.name)).map((m) => m.name),
    pending: migrations.filter((m) => !finished.has(m.name)).map((m) => m.name),
    modified: migrations.filter((m) => finished.has(m.name) && finished.get(m.name)!.checksum !== m.checksum).map((m) => m.name),
  };
}

/** What is applied and what is pending, without changing anything (used by /ready). */
export async function migrationStatus(session: SqlSession, migrations?: Migration[]): Promise<MigrationStatus> {
  return compare(migrations ?? (await readMigrations()), await readHistory(session));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A database of the old platform has flowgraph's tables with the wrong constraints: the first migration
 * would fail on it, and only `npm run repair` can turn it into one flowgraph serves. Refused before
 * anything is written (not even `_prisma_migrations`).
 */
async function refuseLegacy(session: SqlSession): Promise<void> {
  const [legacy] = await session.query<{ present: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS present`, [LEGACY_MASTER_TABLE]);
  if (legacy?.present) {
    throw new MigrationHistoryError(
      `This database holds the tables of the old discovery platform (${LEGACY_MASTER_TABLE}) but none of flowgraph's ` +
        'migrations. Inspect it with `npm run doctor -- --database-url URL`, then repair it with ' +
        '`npm run repair -- --database-url URL --apply` (README: "Migrating an existing database").',
    );
  }
}

/**
 * Applies every pending migration, in name order, each in its own transaction. Returns the names
 * applied. Throws MigrationFailedError (after recording the failure) when one fails.
 */
export async function applyMigrations(
  session: SqlSession,
  migrations?: Migration[],
  { useAdvisoryLock = true } = {},
): Promise<string[]> {
  const all = migrations ?? (await readMigrations());
  if (useAdvisoryLock) await session.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
  try {
    const history = await readHistory(session);
    const status = compare(all, history); // throws on an unfinished migration, an interrupted repair included
    if (status.applied.length === 0) await refuseLegacy(session);
    await session.exec(CREATE_HISTORY_TABLE);
    const applied: string[] = [];
    for (const migration of all.filter((m) => status.pending.includes(m.name))) {
      const id = randomUUID();
      await session.exec('BEGIN');
      try {
        await session.exec(migration.sql);
        await session.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count)
           VALUES ($1, $2, now(), $3, 1)`,
          [id, migration.checksum, migration.name],
        );
        await session.exec('COMMIT');
        applied.push(migration.name);
      } catch (error) {
        await session.exec('ROLLBACK');
        await session.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, rolled_back_at, applied_steps_count)
           VALUES ($1, $2, $3, $4, now(), 0)`,
          [id, migration.checksum, migration.name, describe(error)],
        );
        throw new MigrationFailedError(migration.name, describe(error));
      }
    }
    return applied;
  } finally {
    if (useAdvisoryLock) await session.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
  }
}
