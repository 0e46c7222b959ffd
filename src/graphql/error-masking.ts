// What a client sees when something goes wrong that it did not cause. Errors the schema raises on
// purpose (GraphQL errors with a code) pass through; a database that is unavailable or too slow
// becomes a retryable DATABASE_UNAVAILABLE / QUERY_TIMEOUT; everything else becomes Yoga's masked
// "Unexpected error." with no stack, SQL, message or id of the original, which is logged instead.
import { GraphQLError, type ExecutionResult } from 'graphql';
import { maskError as yogaMaskError, type YogaMaskedErrorOpts } from 'graphql-yoga';
import { classifyDatabaseError } from '../db/database-errors.ts';
import { shuttingDownError } from '../http/drain.ts';
import { WriteAbortedError } from '../services/write-transaction.ts';
import type { Logger } from '../observability/logger.ts';

export const RETRY_AFTER_SECONDS = 2;

/** What a masked error says (Yoga's default, stated so that results masked outside Yoga say the same). */
export const MASKED_ERROR_MESSAGE = 'Unexpected error.';

/**
 * The error of an operation the database could not serve. A subscription that ends this way can say
 * where to resume (`extra: { cursor }`): the client resubscribes from there once the database is back.
 */
export function databaseUnavailableError(from?: GraphQLError, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError('The database is unavailable right now; try again shortly.', {
    nodes: from?.nodes,
    path: from?.path,
    extensions: {
      code: 'DATABASE_UNAVAILABLE',
      retryable: true,
      ...extra,
      http: { status: 503, headers: { 'retry-after': String(RETRY_AFTER_SECONDS) } },
    },
  });
}

export function createErrorMasker(logger: Logger): YogaMaskedErrorOpts['maskError'] {
  return (error, message) => {
    const graphqlError = error instanceof GraphQLError ? error : undefined;
    const original = graphqlError ? graphqlError.originalError : error;
    if (graphqlError && (!original || original instanceof GraphQLError)) return graphqlError;
    // Rolled back because the server is shutting down: nothing was stored, the client may send it again.
    if (original instanceof WriteAbortedError) {
      const error = shuttingDownError();
      return new GraphQLError(error.message, { nodes: graphqlError?.nodes, path: graphqlError?.path, extensions: error.extensions });
    }
    const failure = classifyDatabaseError(original);
    if (failure === 'unavailable') return databaseUnavailableError(graphqlError);
    if (failure === 'statement_timeout') {
      return new GraphQLError('The database stopped a statement that ran too long; try again, or ask for less.', {
        nodes: graphqlError?.nodes,
        path: graphqlError?.path,
        extensions: { code: 'QUERY_TIMEOUT', retryable: true },
      });
    }
    if (failure === 'invalid_value') {
      return new GraphQLError('A value in the request does not fit its field (for example an id that is not a uuid, or a number out of range).', {
        nodes: graphqlError?.nodes,
        path: graphqlError?.path,
        extensions: { code: 'BAD_USER_INPUT' },
      });
    }
    logger.error({ err: original, path: graphqlError?.path }, 'unexpected error, masked for the client');
    // isDev false: Yoga would otherwise attach the original error (message and stack) in development.
    return yogaMaskError(error, message, false);
  };
}

/**
 * A result with its errors masked as Yoga's masking plugin masks a subscription's results, for results
 * that do not pass through it (pushed subscription results, src/graphql/shared-subscription-execution.ts).
 */
export function maskResultErrors(result: ExecutionResult, maskError: NonNullable<YogaMaskedErrorOpts['maskError']>): ExecutionResult {
  if (!result.errors) return result;
  // Masked errors are serializable Errors, not GraphQLErrors; Yoga's plugin puts them in results the same way.
  return { ...result, errors: result.errors.map((error) => maskError(error, MASKED_ERROR_MESSAGE) as GraphQLError) };
}
