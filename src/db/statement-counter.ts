// Counts the SQL statements a GraphQL operation issues, so tests (and FLOWGRAPH_DEBUG_SQL=1 responses)
// can prove that a nested flow-graph query costs a constant number of statements.
//
// Prisma 7's query events are not tied to the request that caused them, so the count is taken one level
// lower: a wrapper around the driver adapter counts every statement sent, and attributes it to the
// operation running in the current AsyncLocalStorage context (see the execute wrapper in src/app.ts).
import { AsyncLocalStorage } from 'node:async_hooks';
import type { SqlDriverAdapter, SqlDriverAdapterFactory, Transaction } from '@prisma/driver-adapter-utils';
import { statementSpan } from '../observability/tracing-hooks.ts';

export interface StatementTally {
  statements: number;
  /** Set when a statement of the operation returned more than it may load (src/db/result-budget.ts). */
  resultTooLarge?: boolean;
}

const currentTally = new AsyncLocalStorage<StatementTally>();

/** Runs `fn` with every SQL statement it causes counted into `tally`. */
export function countStatements<T>(tally: StatementTally, fn: () => T): T {
  return currentTally.run(tally, fn);
}

/** The tally of the operation running in the current context, if any. */
export function currentStatementTally(): StatementTally | undefined {
  return currentTally.getStore();
}

/** Counts one statement sent outside Prisma (compiled reads) into the current operation's tally. */
export function countStatement(): void {
  const tally = currentTally.getStore();
  if (tally) tally.statements += 1;
}

function countingQueryable<T extends SqlDriverAdapter | Transaction>(target: T): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (typeof value !== 'function') return value;
      if (property === 'queryRaw' || property === 'executeRaw') {
        return (...args: unknown[]) => {
          countStatement();
          // A span per statement when tracing is on (src/observability/tracing-hooks.ts).
          return statementSpan((args[0] as { sql?: string } | undefined)?.sql, () => value.apply(object, args) as Promise<unknown>);
        };
      }
      if (property === 'startTransaction') {
        return async (...args: unknown[]) => countingQueryable(await value.apply(object, args));
      }
      return value.bind(object);
    },
  });
}

/** Wraps a driver adapter factory so that every statement its connections send is counted. */
export function withStatementCounting<F extends SqlDriverAdapterFactory>(factory: F): F {
  return new Proxy(factory, {
    get(object, property, receiver) {
      const value = Reflect.get(object, property, receiver);
      if (property === 'connect' && typeof value === 'function') {
        return async () => countingQueryable(await value.apply(object, []));
      }
      return typeof value === 'function' ? value.bind(object) : value;
    },
  });
}
