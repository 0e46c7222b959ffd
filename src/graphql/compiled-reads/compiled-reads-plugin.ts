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
import { GraphQLError, type DocumentNode, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { authScopesFor } from '../../auth/scopes.ts';
import type { GraphQLContext } from '../../context.ts';
import { classifyDatabaseError } from '../../db/database-errors.ts';
import type { Database } from '../../db/database.ts';
import type { Metrics } from '../../observability/metrics.ts';
import { compileRead, NotCompilable, parametersFor, type CompiledRead } from './read-compiler.ts';

/** Compiled reads kept per document (Yoga's parser cache hands out the same document for the same text). */
const VARIANTS_PER_DOCUMENT = 256;
/** Variables longer than this (as JSON) are compiled for their request only, so that they cannot fill memory. */
const MAX_CACHED_VARIABLES_LENGTH = 2_048;

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

export function useCompiledReads(database: Pick<Database, 'read'>, metrics: Pick<Metrics, 'queryPaths'>): Plugin<GraphQLContext> {
  const compiled = new WeakMap<DocumentNode, Map<string, CompiledRead | null>>();

  // Not compilable is an answer; any other failure of the compiler is a bug, logged, and the resolvers
  // answer (the operation has passed validation, so they give it the answer or the error it deserves).
  const compile = (args: ExecutionArgs): CompiledRead | null => {
    try {
      return compileRead(args);
    } catch (error) {
      if (!(error instanceof NotCompilable)) {
        (args.contextValue as GraphQLContext).log.warn({ err: error }, 'the read compiler failed; the resolvers answer');
      }
      return null;
    }
  };

  /** The compiled read of this operation and these variables; null when it is not compilable. */
  const compiledFor = (args: ExecutionArgs): CompiledRead | null => {
    const key = `${args.operationName ?? ''}\u0000${JSON.stringify(args.variableValues ?? {})}`;
    if (key.length > MAX_CACHED_VARIABLES_LENGTH) return compile(args);
    let variants = compiled.get(args.document);
    if (!variants) compiled.set(args.document, (variants = new Map()));
    let read = variants.get(key);
    if (read === undefined) {
      read = compile(args);
      if (variants.size >= VARIANTS_PER_DOCUMENT) variants.clear();
      variants.set(key, read);
    }
    return read;
  };

  return {
    onExecute({ executeFn, setExecuteFn }) {
      setExecuteFn(async (args) => {
        const context = args.contextValue as GraphQLContext;
        const read = authScopesFor(context.viewer).viewer ? compiledFor(args) : null;
        if (!read) {
          metrics.queryPaths.inc({ path: 'resolvers' });
          return executeFn(args);
        }
        try {
          const rows = await database.read<{ data: unknown }>(read.sql, parametersFor(read, context.viewer));
          const data = read.shape(rows[0]!.data);
          metrics.queryPaths.inc({ path: 'compiled' });
          return { data };
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
