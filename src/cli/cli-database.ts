// What `npm run doctor` and `npm run repair` share: which database to open, and how. PostgreSQL with
// --database-url (or DATABASE_URL), an embedded PGlite data directory with --data-dir. Both tools only
// ever open an existing database: a data directory that holds none is an error, never created.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { lockDataDir } from '../db/data-dir-lock.ts';
import { pgliteSession, postgresSession, type SqlSession } from '../db/sql-session.ts';

/** Exit codes shared by both tools. */
export const EXIT = { ok: 0, problems: 1, cannotInspect: 2 } as const;

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface DatabaseTarget {
  databaseUrl?: string | undefined;
  dataDir?: string | undefined;
}

export function describeTarget(target: DatabaseTarget): string {
  if (target.databaseUrl) {
    const url = new URL(target.databaseUrl);
    url.password = url.password ? '***' : '';
    return `PostgreSQL ${url.toString()}`;
  }
  return `PGlite ${target.dataDir}`;
}

export function resolveTarget(options: { 'database-url'?: string | undefined; 'data-dir'?: string | undefined }, env: NodeJS.ProcessEnv): DatabaseTarget {
  const databaseUrl = options['database-url'] ?? (options['data-dir'] ? undefined : env.DATABASE_URL || undefined);
  if (databaseUrl && options['data-dir']) throw new UsageError('give either --database-url or --data-dir, not both');
  if (databaseUrl) {
    if (!/^postgres(ql)?:\/\//.test(databaseUrl)) throw new UsageError('--database-url must be a postgres:// or postgresql:// URL');
    return { databaseUrl };
  }
  if (options['data-dir']) return { dataDir: path.resolve(options['data-dir']) };
  throw new UsageError('name the database: --database-url postgres://… (PostgreSQL) or --data-dir DIR (an embedded PGlite database)');
}

export async function openSession(target: DatabaseTarget, command: string): Promise<SqlSession> {
  if (target.databaseUrl) return postgresSession(target.databaseUrl);
  const dir = target.dataDir!;
  if (!existsSync(path.join(dir, 'PG_VERSION'))) throw new UsageError(`${dir} holds no PGlite database`);
  // A running server holds this lock: opening its directory as well would damage it (src/db/data-dir-lock.ts).
  const lock = await lockDataDir(dir, command);
  let session: SqlSession;
  try {
    session = pgliteSession(await PGlite.create(dir), { closeDatabase: true });
  } catch (error) {
    await lock.release();
    throw error;
  }
  return {
    ...session,
    async close() {
      try {
        await session.close();
      } finally {
        await lock.release();
      }
    },
  };
}

/**
 * What doctor and repair share: open the database the arguments name, run `work` on it, close it. A
 * database that cannot be opened is exit 2, with the usage when the arguments were the problem.
 */
export async function withTargetSession(
  command: string,
  usage: string,
  options: { 'database-url'?: string | undefined; 'data-dir'?: string | undefined },
  work: (session: SqlSession, where: string) => Promise<number>,
): Promise<number> {
  let session: SqlSession;
  let where: string;
  try {
    const target = resolveTarget(options, process.env);
    where = describeTarget(target);
    session = await openSession(target, command);
  } catch (error) {
    console.error(`flowgraph ${command}: could not open the database: ${(error as Error).message}${error instanceof UsageError ? `\n${usage}` : ''}`);
    return EXIT.cannotInspect;
  }
  try {
    return await work(session, where);
  } finally {
    await session.close().catch(() => {});
  }
}
