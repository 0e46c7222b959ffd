// The smallest raw-SQL surface the migrator and other infrastructure need, implemented for both
// databases flowgraph runs on. Prisma stays the interface for application data; this is for DDL,
// advisory locks and catalog queries, which Prisma's driver adapters do not cover well (the pg
// adapter splits scripts on ";" and breaks function bodies; the PGlite adapter does not await exec).
import type { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

export interface SqlSession {
  /** Runs one parameterised statement and returns its rows. */
  query<Row = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Runs a script of several statements (no parameters), as one simple-protocol request. */
  exec(script: string): Promise<void>;
  /** Drops the connection, if the session has one; the next statement opens a new one. */
  reset(): void;
  close(): Promise<void>;
}

export function pgliteSession(db: PGlite, { closeDatabase = false } = {}): SqlSession {
  return {
    async query<Row>(sql: string, params: unknown[] = []) {
      const result = await db.query<Row>(sql, params);
      return result.rows;
    },
    async exec(script) {
      await db.exec(script);
    },
    reset() {},
    async close() {
      if (closeDatabase) await db.close();
    },
  };
}

/** Whether a pg error means the connection itself is gone (rather than one statement failing). */
function isConnectionLoss(error: unknown): boolean {
  const { code, severity } = (error ?? {}) as { code?: unknown; severity?: unknown };
  if (typeof code === 'string' && (code.startsWith('08') || code.startsWith('57P'))) return true;
  // Errors the server sent carry a severity; socket and protocol failures do not.
  return severity === undefined;
}

/**
 * A session on one dedicated PostgreSQL connection (advisory locks and transactions need one). When
 * the connection is lost (the server restarted, the network dropped) the session opens a new one for
 * the next statement, so a long-running server recovers once the database is back.
 */
export async function postgresSession(
  connectionString: string,
  { connectTimeoutMs = 10_000 }: { connectTimeoutMs?: number } = {},
): Promise<SqlSession> {
  let current: pg.Client | null = null;

  const open = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString, connectionTimeoutMillis: connectTimeoutMs, keepAlive: true });
    // A terminated idle connection emits 'error'; unhandled, it would end the process.
    client.on('error', () => drop(client));
    try {
      await client.connect();
    } catch (error) {
      void client.end().catch(() => {});
      throw error;
    }
    current = client;
    return client;
  };
  const drop = (client: pg.Client) => {
    if (current === client) current = null;
    void client.end().catch(() => {});
  };
  const runNow = async (sql: string, params?: unknown[]) => {
    const client = current ?? (await open());
    try {
      return await client.query(sql, params);
    } catch (error) {
      if (isConnectionLoss(error)) drop(client);
      throw error;
    }
  };
  // Statements of concurrent callers run one after another, as on PGlite: pg queues a query sent while
  // another runs, but deprecates that (pg 9 removes it), and with no connection two callers would each
  // open one.
  let previous: Promise<unknown> = Promise.resolve();
  const run = (sql: string, params?: unknown[]) => {
    const result = previous.then(() => runNow(sql, params));
    previous = result.catch(() => {});
    return result;
  };

  await open();
  return {
    async query<Row>(sql: string, params: unknown[] = []) {
      const result = await run(sql, params);
      return result.rows as Row[];
    },
    async exec(script) {
      await run(script);
    },
    reset() {
      if (current) drop(current);
    },
    async close() {
      const client = current;
      current = null;
      if (client) await client.end();
    },
  };
}
