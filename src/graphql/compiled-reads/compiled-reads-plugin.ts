// Answers the query operations the read compiler covers (read-compiler.ts) with one SQL statement, and
// hands every other operation to the executor it wraps (graphql-jit over the Pothos resolvers).
//
// The compiled path keeps the reference path's rules: it runs after the same parsing, validation, operation
// limits and page-size checks (plugins before execution); it answers only callers the Query type's role
// check would admit (others get FORBIDDEN from the resolvers); every table it reads is scoped to the
// viewer's tenant; its statement is counted like Prisma's. A value the GraphQL type would refuse makes the
// resolvers answer instead, with their own errors. A database failure (unreachable, statement_timeout) is
// reported as the resolvers would report it, on each root field, and masked into DATABASE_UNAVAILABLE or
// QUERY_TIMEOUT (src/graphql/error-masking.ts); trying again through the resolvers would only double the
// wait for the same failure.
import { getOperationAST, getVariableValues, GraphQLError, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { authScopesFor } from '../../auth/scopes.ts';
import type { GraphQLContext } from '../../context.ts';
import { classifyDatabaseError } from '../../db/database-errors.ts';
import type { Database } from '../../db/database.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { responseTooLargeError } from '../response-size-limit.ts';
import { compileRead, NotCompilable, parametersFor, UnbindableValue, type CoercedVariables, type CompiledRead } from './read-compiler.ts';

/** Compiled forms kept per document and operation (different page sizes, directives, orderings). */
const VARIANTS_PER_OPERATION = 16;

/**
 * Heap bytes a compiled read is taken to hold per byte of its SQL text: the text itself, the closures that
 * shape each object, their slot tables and the parameters' binders took 8 to 11 bytes per byte of SQL on three
 * queries measured with --expose-gc (94 KB for the 1.7 KB query of test/memory-budget.test.ts, whose SQL is
 * 8.4 KB); the measuring statement kept next to it is one byte more.
 */
export const HEAP_BYTES_PER_SQL_BYTE = 12;
const FIXED_BYTES_PER_READ = 4_096;

interface Variant {
  /** What the variables must give (`structuralKey`) for this read to answer them. */
  key: string;
  /** null: this operation is not compilable with such variables; the resolvers answer. */
  read: CompiledRead | null;
  bound: ReadonlySet<string>;
  /** The statement that also measures the result before it is sent (see sizedStatement). */
  sql: string;
  bytes: number;
}

interface DocumentEntry {
  variants: Map<string, Variant[]>;
  bytes: number;
}

/**
 * The variables as far as they shape a compiled read: a bound variable by its nullness only (its value is a
 * parameter, bound per request), every other one by its value.
 */
function structuralKey(variables: CoercedVariables, bound: ReadonlySet<string>): string {
  return JSON.stringify(Object.entries(variables).map(([name, value]) => (bound.has(name) ? [name, value === null ? 0 : 1] : [name, value])));
}

/**
 * The compiled statement with its result measured by PostgreSQL: a result larger than the response limit is
 * not sent (the server would have to hold it whole to answer, and a page of large rows is hundreds of MiB).
 */
function sizedStatement(sql: string, maxBytes: number): string {
  return (
    `SELECT CASE WHEN octet_length(r.t) <= ${maxBytes} THEN r.t END AS data, octet_length(r.t) AS bytes ` +
    `FROM (SELECT q.data::text AS t FROM (${sql}) q OFFSET 0) r`
  );
}

/**
 * Compiled reads by document, bounded in (estimated) heap bytes, least recently used first out. A document's
 * reads are keyed by the shape of its variables, not their values: one query sent with ever new flow ids
 * keeps one compiled read (it kept one per value before, ~0.8 MB each, and crashed a 256 MiB server).
 */
export class CompiledReadCache {
  private readonly documents = new Map<DocumentNode, DocumentEntry>();
  private total = 0;

  constructor(readonly maxBytes: number) {}

  get bytes(): number {
    return this.total;
  }

  get size(): number {
    let count = 0;
    for (const entry of this.documents.values()) for (const variants of entry.variants.values()) count += variants.length;
    return count;
  }

  find(document: DocumentNode, operation: string, variables: CoercedVariables): Variant | undefined {
    const entry = this.documents.get(document);
    const variants = entry?.variants.get(operation);
    if (!entry || !variants) return undefined;
    // Most recently used last in the map.
    this.documents.delete(document);
    this.documents.set(document, entry);
    return variants.find((variant) => variant.key === structuralKey(variables, variant.bound));
  }

  add(document: DocumentNode, operation: string, variant: Variant): void {
    if (variant.bytes > this.maxBytes) return;
    let entry = this.documents.get(document);
    if (!entry) this.documents.set(document, (entry = { variants: new Map(), bytes: 0 }));
    let variants = entry.variants.get(operation);
    if (!variants) entry.variants.set(operation, (variants = []));
    if (variants.length >= VARIANTS_PER_OPERATION) {
      const dropped = variants.shift()!;
      entry.bytes -= dropped.bytes;
      this.total -= dropped.bytes;
    }
    variants.push(variant);
    entry.bytes += variant.bytes;
    this.total += variant.bytes;
    for (const [oldest, old] of this.documents) {
      if (this.total <= this.maxBytes) break;
      this.documents.delete(oldest);
      this.total -= old.bytes;
    }
  }
}

export interface CompiledReadsOptions {
  /** Largest response (the statement's JSON result), in bytes. */
  maxResponseBytes: number;
  /** Budget of the compiled-read cache, in estimated heap bytes. */
  cacheBytes: number;
}

/** What graphql-js gives when every root field's resolver fails with `error`. */
function databaseFailure(read: CompiledRead, error: unknown): ExecutionResult {
  const fields = read.rootFields;
  const original = error instanceof Error ? error : new Error(String(error));
  const errors = fields.map(
    ({ key, nodes }) => new GraphQLError(original.message, { nodes, path: [key], originalError: original }),
  );
  const data = fields.some((field) => field.nonNull) ? null : Object.fromEntries(fields.map(({ key }) => [key, null]));
  return { data, errors };
}

export function useCompiledReads(
  database: Pick<Database, 'read'>,
  metrics: Pick<Metrics, 'queryPaths'>,
  options: CompiledReadsOptions,
): Plugin<GraphQLContext> {
  const cache = new CompiledReadCache(options.cacheBytes);

  // Not compilable is an answer; any other failure of the compiler is a bug, logged, and the resolvers
  // answer (the operation has passed validation, so they give it the answer or the error it deserves).
  const compile = (args: ExecutionArgs): CompiledRead | null | 'unbindable' => {
    try {
      return compileRead(args);
    } catch (error) {
      if (error instanceof UnbindableValue) return 'unbindable';
      if (!(error instanceof NotCompilable)) {
        (args.contextValue as GraphQLContext).log.warn({ err: error }, 'the read compiler failed; the resolvers answer');
      }
      return null;
    }
  };

  /** The compiled read of this operation, with its statement and this request's parameters; null: the resolvers answer. */
  const compiledFor = (args: ExecutionArgs): { read: CompiledRead; sql: string; params: unknown[] } | null => {
    const operation = getOperationAST(args.document, args.operationName);
    if (!operation || operation.operation !== 'query') return null;
    const coerced = getVariableValues(args.schema, operation.variableDefinitions ?? [], args.variableValues ?? {});
    if (coerced.errors) return null;
    const variables = coerced.coerced;
    const name = args.operationName ?? '';
    const known = cache.find(args.document, name, variables);
    if (known) {
      if (!known.read) return null;
      try {
        return { read: known.read, sql: known.sql, params: known.read.bind(variables) };
      } catch (error) {
        if (error instanceof UnbindableValue) return null;
        throw error;
      }
    }
    const read = compile(args);
    if (read === 'unbindable') return null;
    const bound = read?.boundVariables ?? new Set<string>();
    const key = structuralKey(variables, bound);
    const sql = read ? sizedStatement(read.sql, options.maxResponseBytes) : '';
    cache.add(args.document, name, {
      key,
      read,
      bound,
      sql,
      bytes: FIXED_BYTES_PER_READ + 2 * key.length + HEAP_BYTES_PER_SQL_BYTE * (read?.sql.length ?? 0),
    });
    return read ? { read, sql, params: read.params } : null;
  };

  return {
    onExecute({ executeFn, setExecuteFn }) {
      setExecuteFn(async (args) => {
        const context = args.contextValue as GraphQLContext;
        const compiled = authScopesFor(context.viewer).viewer ? compiledFor(args) : null;
        if (!compiled) {
          metrics.queryPaths.inc({ path: 'resolvers' });
          return executeFn(args);
        }
        const { read } = compiled;
        // Nothing to read (`{ __typename }`, a liveness probe): answered without a connection, which a busy pool
        // may not have to spare.
        if (read.rootFields.length === 0) {
          metrics.queryPaths.inc({ path: 'compiled' });
          return { data: read.shape([]) };
        }
        try {
          const rows = await database.read<{ data: string | null; bytes: number }>(compiled.sql, parametersFor(read, context.viewer, compiled.params));
          const row = rows[0]!;
          metrics.queryPaths.inc({ path: 'compiled' });
          if (row.data === null) return { data: null, errors: [responseTooLargeError(Number(row.bytes), options.maxResponseBytes)] };
          return { data: read.shape(JSON.parse(row.data)) };
        } catch (error) {
          if (classifyDatabaseError(error) !== null) {
            metrics.queryPaths.inc({ path: 'compiled' });
            return databaseFailure(read, error);
          }
          metrics.queryPaths.inc({ path: 'fallback' });
          context.log.debug({ err: error }, 'compiled read failed; the resolvers answer');
          return executeFn(args);
        }
      });
    },
  };
}
