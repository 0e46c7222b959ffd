// A bound on what one Prisma statement may load (the resolver path of the response size limit, issue 16): a
// page of 500 raw records of ~900 KB each is 450 MB, loaded whole before any GraphQL code could look at it.
// Every value a statement returns passes through a type parser; these wrap them, count the text they are
// given and, past the budget, throw. The driver then drops the rest of the result unparsed (pg keeps
// reading the rows off the socket and discards them; PGlite stops turning them into values), the statement
// fails, and the operation that sent it is marked so that the client hears RESPONSE_TOO_LARGE rather than a
// masked error (src/graphql/response-size-limit.ts). The compiled read path measures its result in the
// database instead (src/graphql/compiled-reads/compiled-reads-plugin.ts).
import type { PGlite } from '@electric-sql/pglite';
import { types as pgliteTypes } from '@electric-sql/pglite';
import type pg from 'pg';
import { currentStatementTally } from './statement-counter.ts';

export class ResultTooLargeError extends Error {
  override name = 'ResultTooLargeError';
  constructor(readonly maxBytes: number) {
    super(`A statement returned more than ${maxBytes} bytes.`);
  }
}

type Parser = (text: string, typeId?: number) => unknown;

/** A counter for one statement: `charge` throws once more than `maxBytes` have passed. */
function statementBudget(maxBytes: number): (text: unknown) => void {
  const tally = currentStatementTally();
  let bytes = 0;
  return (text) => {
    bytes += typeof text === 'string' ? text.length : 8;
    if (bytes > maxBytes) {
      if (tally) tally.resultTooLarge = true;
      throw new ResultTooLargeError(maxBytes);
    }
  };
}

type PgQueryConfig = { types?: { getTypeParser(oid: number, format?: string): Parser } } & Record<string, unknown>;

function budgetedConfig(config: unknown, maxBytes: number): unknown {
  if (typeof config !== 'object' || config === null) return config;
  const original = (config as PgQueryConfig).types;
  if (!original) return config;
  const charge = statementBudget(maxBytes);
  return {
    ...config,
    types: {
      getTypeParser: (oid: number, format?: string) => {
        const parse = original.getTypeParser(oid, format);
        return (text: string) => {
          charge(text);
          return parse(text);
        };
      },
    },
  };
}

function budgetedClient<T extends pg.PoolClient>(client: T, maxBytes: number): T {
  return new Proxy(client, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property === 'query' && typeof value === 'function') {
        return (config: unknown, ...rest: unknown[]) => value.call(target, budgetedConfig(config, maxBytes), ...rest);
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** The pool Prisma's adapter uses, with every statement it sends (queries with type parsers) budgeted. */
export function budgetedPool(pool: pg.Pool, maxBytes: number): pg.Pool {
  return new Proxy(pool, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property === 'query' && typeof value === 'function') {
        return (config: unknown, ...rest: unknown[]) => value.call(target, budgetedConfig(config, maxBytes), ...rest);
      }
      if (property === 'connect' && typeof value === 'function') {
        return async () => budgetedClient(await (value as () => Promise<pg.PoolClient>).call(target), maxBytes);
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

type PGliteQueryOptions = { parsers?: Record<number, Parser> } & Record<string, unknown>;

/** The types whose values can be large: json, jsonb, text, varchar, bytea. */
const LARGE_TYPES = [pgliteTypes.JSON, pgliteTypes.JSONB, pgliteTypes.TEXT, pgliteTypes.VARCHAR, pgliteTypes.BYTEA];

function budgetedOptions(options: unknown, maxBytes: number): PGliteQueryOptions {
  const given = (options ?? {}) as PGliteQueryOptions;
  const charge = statementBudget(maxBytes);
  const parsers: Record<number, Parser> = { ...given.parsers };
  for (const oid of LARGE_TYPES) {
    const parse = given.parsers?.[oid] ?? (pgliteTypes.parsers as Record<number, Parser>)[oid] ?? ((text: string) => text);
    parsers[oid] = (text, typeId) => {
      charge(text);
      return parse(text, typeId);
    };
  }
  return { ...given, parsers };
}

function budgetedQueryable<T extends object>(queryable: T, maxBytes: number): T {
  return new Proxy(queryable, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property === 'query' && typeof value === 'function') {
        return (sql: unknown, params: unknown, options: unknown) => value.call(target, sql, params, budgetedOptions(options, maxBytes));
      }
      if (property === 'transaction' && typeof value === 'function') {
        return (work: (tx: object) => unknown) => value.call(target, (tx: object) => work(budgetedQueryable(tx, maxBytes)));
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** The PGlite instance Prisma's adapter uses, with every statement it sends budgeted. */
export function budgetedPGlite(pglite: PGlite, maxBytes: number): PGlite {
  return budgetedQueryable(pglite, maxBytes);
}
