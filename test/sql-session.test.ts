// The raw-SQL session (src/db/sql-session.ts) on both databases: concurrent callers get their own answers,
// and on PostgreSQL their statements go to the connection one at a time (pg deprecates sending a query
// while another runs, and pg 9 removes it).
import pg from 'pg';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/database.ts';
import { onPostgres, testDatabase } from './support/test-database.ts';

let database: Database;

beforeAll(async () => {
  database = await testDatabase();
});

describe('SqlSession', () => {
  const originalQuery = pg.Client.prototype.query;
  afterEach(() => {
    pg.Client.prototype.query = originalQuery;
  });

  it('answers concurrent callers, each with its own rows, and a failing statement fails only its caller', async () => {
    const statements = Array.from({ length: 8 }, (_, index) => database.sql.query<{ n: number }>(`SELECT $1::int AS n, pg_sleep(0.01)`, [index]));
    const failing = database.sql.query('SELECT no_such_column FROM flow_events');
    const after = database.sql.query<{ n: number }>('SELECT 42 AS n');
    expect((await Promise.all(statements)).map((rows) => rows[0]!.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    await expect(failing).rejects.toThrow(/no_such_column/);
    expect(await after).toEqual([{ n: 42 }]);
  });

  it.runIf(onPostgres)('sends one statement at a time on its PostgreSQL connection', async () => {
    // Watches pg's clients (not a stand-in: every statement still goes to PostgreSQL) for a query sent
    // while another is unanswered on the same connection.
    const inFlight = new WeakMap<object, number>();
    let most = 0;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      const running = (inFlight.get(this) ?? 0) + 1;
      inFlight.set(this, running);
      most = Math.max(most, running);
      const result = (originalQuery as (...args: unknown[]) => unknown).apply(this, args);
      const settled = () => inFlight.set(this, inFlight.get(this)! - 1);
      if (result instanceof Promise) result.then(settled, settled);
      else settled();
      return result;
    } as typeof originalQuery;

    const answers = await Promise.all(Array.from({ length: 5 }, (_, index) => database.sql.query<{ n: number }>('SELECT $1::int AS n, pg_sleep(0.02)', [index])));
    expect(answers.map((rows) => rows[0]!.n)).toEqual([0, 1, 2, 3, 4]);
    expect(most).toBe(1);
  });
});
