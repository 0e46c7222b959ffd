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
    async close() {
      if (closeDatabase) await db.close();
    },
  };
}

/** A session on one dedicated PostgreSQL connection (advisory locks and transactions need one). */
export async function postgresSession(connectionString: string): Promise<SqlSession> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  return {
    async query<Row>(sql: string, params: unknown[] = []) {
      const result = await client.query(sql, params);
      return result.rows as Row[];
    },
    async exec(script) {
      await client.query(script);
    },
    async close() {
      await client.end();
    },
  };
}
