// A per-request time limit for reads: a query that has not finished after FLOWGRAPH_REQUEST_TIMEOUT_MS
// answers REQUEST_TIMEOUT (retryable) instead of holding the client, and a socket, indefinitely. The
// database has its own limit (statement_timeout, src/db/database.ts), so the work left behind stops
// too. Mutations are not cut off here: an import streams for as long as its upload takes (bounded by
// FLOWGRAPH_IMPORT_TIMEOUT_MS), and answering "timed out" while a transaction goes on to commit would
// tell the client something false; their transactions and statements carry their own timeouts.
import { getOperationAST, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export function useRequestDeadline(timeoutMs: number): Plugin {
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      if (getOperationAST(args.document, args.operationName)?.operation !== 'query') return;
      setExecuteFn((executionArgs) => {
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<{ errors: GraphQLError[] }>((resolve) => {
          timer = setTimeout(() => resolve({ errors: [timeoutError(timeoutMs)] }), timeoutMs);
        });
        return Promise.race([Promise.resolve(executeFn(executionArgs)), deadline]).finally(() => clearTimeout(timer));
      });
    },
  };
}

function timeoutError(timeoutMs: number): GraphQLError {
  return new GraphQLError(`The query did not finish within ${timeoutMs} ms and was abandoned; try again, or ask for less.`, {
    extensions: { code: 'REQUEST_TIMEOUT', retryable: true, timeoutMs },
  });
}
