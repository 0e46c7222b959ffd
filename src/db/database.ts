// One database handle per process: Prisma for application data, a raw SqlSession for infrastructure
// (migrations, readiness). PostgreSQL when a URL is given, embedded PGlite otherwise.
// Nothing here runs at import time; openDatabase() does the I/O.
import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import pg from 'pg';
import { PrismaClient } from '../generated/prisma/client.ts';
import { lockDataDir, type DataDirLock } from './data-dir-lock.ts';
import { budgetedPGlite, budgetedPool } from './result-budget.ts';
import { countStatement, withStatementCounting } from './statement-counter.ts';
import { statementSpan } from '../observability/tracing-hooks.ts';
import { pgliteSession, postgresSession, type SqlSession } from './sql-session.ts';

export type DatabaseKind = 'postgres' | 'pglite';

export interface Database {
  kind: DatabaseKind;
  prisma: PrismaClient;
  /** A dedicated raw connection for infrastructure work; never used inside a Prisma transaction. */
  sql: SqlSession;
  /** The embedded instance, when running on PGlite. */
  pglite?: PGlite;
  /** The PostgreSQL URL, for connections of their own (the event listener's LISTEN). */
  connectionString?: string;
  /**
   * Plain reads outside Prisma, for the compiled read path (src/graphql/compiled-reads/) and the event hub's
   * reads of new events (src/services/event-log.ts): on PostgreSQL the
   * pool Prisma's adapter uses (same limits, same timeouts), on PGlite the embedded instance (whose
   * queries wait for an open transaction to end). Every statement is counted like Prisma's.
   */
  read<Row = Record<string, unknown>>(sql: string, params: unknown[]): Promise<Row[]>;
  /**
   * PostgreSQL: whether a pooled connection can be had within `timeoutMs` (false while every one is held, by
   * imports for instance). /ready reports it; the raw `sql` session it otherwise checks is not in the pool.
   */
  probePool?(timeoutMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  databaseUrl?: string | undefined;
  /** PGlite data directory; `memory://` for a throwaway in-memory database. */
  dataDir?: string;
  /** An already-created PGlite instance (tests share one per worker; creating one takes seconds). */
  pglite?: PGlite;
  /** Largest number of connections Prisma opens to PostgreSQL. */
  poolSize?: number;
  /** How long opening a PostgreSQL connection may take; past it the query fails as unavailable. */
  connectTimeoutMs?: number;
  /** PostgreSQL's statement_timeout for every connection Prisma opens (0: none). */
  statementTimeoutMs?: number;
  /**
   * Send the most used compiled reads as named prepared statements (PostgreSQL only): each connection parses
   * and plans them once instead of on every request. Off behind a pooler in transaction mode that does not
   * keep prepared statements (PgBouncer before 1.21).
   */
  prepareReads?: boolean;
  /**
   * Who opens a PGlite data directory, named in another process's refusal (src/db/data-dir-lock.ts): the
   * directory is locked for as long as the database is open.
   */
  command?: string;
  /** Most bytes of values one Prisma statement may return (src/db/result-budget.ts); unbounded without it. */
  maxResultBytes?: number;
}

/**
 * Prepared statements live in every pooled connection's server process until it closes, so only this many
 * distinct compiled reads are prepared per process; clients that send ever new documents get plain statements.
 */
export const MAX_PREPARED_READS = 64;

/** Chooses the names of prepared compiled reads: the first MAX_PREPARED_READS distinct statements get one. */
export function preparedNames(): (sql: string) => string | undefined {
  const names = new Map<string, string>();
  return (sql) => {
    const known = names.get(sql);
    if (known || names.size >= MAX_PREPARED_READS) return known;
    const name = `flowgraph_read_${createHash('sha256').update(sql).digest('hex').slice(0, 32)}`;
    names.set(sql, name);
    return name;
  };
}

/** Defaults for embedders and tests that name none (the server passes its configuration). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
export const DEFAULT_STATEMENT_TIMEOUT_MS = 20_000;

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    // The pool is created here rather than by the adapter so that compiled reads share it.
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      // Without these a request waits as long as the operating system keeps a dead connection
      // attempt alive, and a runaway statement holds its connection forever.
      connectionTimeoutMillis: connectTimeoutMs,
      statement_timeout: options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
      // No JIT compilation: flowgraph's statements read a page of rows, and PostgreSQL's cost estimate of a
      // large compiled read (many nested subqueries) crosses jit_above_cost although it runs in milliseconds;
      // compiling it took seconds, on every request. A DATABASE_URL with its own `options` replaces this.
      options: '-c jit=off',
      keepAlive: true,
    });
    // An idle connection the server drops must not crash the process; the pool replaces it.
    pool.on('error', () => {});
    const adapter = withStatementCounting(new PrismaPg(options.maxResultBytes ? budgetedPool(pool, options.maxResultBytes) : pool));
    const nameOf = options.prepareReads === false ? undefined : preparedNames();
    const prisma = new PrismaClient({ adapter });
    const sql = await postgresSession(options.databaseUrl, { connectTimeoutMs });
    return {
      kind: 'postgres',
      prisma,
      sql,
      connectionString: options.databaseUrl,
      async read<Row>(text: string, params: unknown[]) {
        countStatement();
        const name = nameOf?.(text);
        return statementSpan(text, async () => (await pool.query(name ? { name, text, values: params } : { text, values: params })).rows as Row[]);
      },
      async probePool(timeoutMs: number) {
        // A connect that loses the race still gets its connection later: it is given back then.
        const connecting = pool.connect();
        const got = connecting.then(
          (client) => {
            client.release();
            return true;
          },
          () => false,
        );
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
        try {
          return await Promise.race([got, late]);
        } finally {
          clearTimeout(timer);
        }
      },
      async close() {
        await prisma.$disconnect();
        await pool.end();
        await sql.close();
      },
    };
  }

  const ownsInstance = !options.pglite;
  let pglite = options.pglite;
  let lock: DataDirLock | undefined;
  if (!pglite) {
    const dataDir = options.dataDir ?? 'memory://';
    if (!dataDir.startsWith('memory://')) {
      await mkdir(dataDir, { recursive: true });
      // Before PGlite touches a file: a second process must change nothing.
      lock = await lockDataDir(path.resolve(dataDir), options.command ?? 'flowgraph');
    }
    try {
      pglite = await PGlite.create(dataDir);
    } catch (error) {
      await lock?.release();
      throw error;
    }
  }
  const embedded = pglite;
  const prisma = new PrismaClient({
    adapter: withStatementCounting(new PrismaPGlite(options.maxResultBytes ? budgetedPGlite(pglite, options.maxResultBytes) : pglite)),
  });
  return {
    kind: 'pglite',
    prisma,
    sql: pgliteSession(pglite),
    pglite,
    async read<Row>(text: string, params: unknown[]) {
      countStatement();
      return statementSpan(text, async () => (await embedded.query<Row>(text, params)).rows);
    },
    async close() {
      await prisma.$disconnect();
      if (ownsInstance) await pglite.close();
      await lock?.release();
    },
  };
}
