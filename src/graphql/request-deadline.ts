// A per-operation time limit: a query or mutation that has not finished after
// FLOWGRAPH_REQUEST_TIMEOUT_MS answers REQUEST_TIMEOUT instead of holding the client (and a socket)
// indefinitely. The database has its own limit (statement_timeout, src/db/database.ts), so the work
// left behind stops too. A mutation past the deadline may still commit: its error says so, and is not
// marked retryable.
import { getOperationAST, GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export function useRequestDeadline(timeoutMs: number): Plugin {
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const operation = getOperationAST(args.document, args.operationName)?.operation ?? 'query';
      setExecuteFn((executionArgs) => {
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<{ errors: GraphQLError[] }>((resolve) => {
          timer = setTimeout(() => resolve({ errors: [timeoutError(operation, timeoutMs)] }), timeoutMs);
        });
        return Promise.race([Promise.resolve(executeFn(executionArgs)), deadline]).finally(() => clearTimeout(timer));
      });
    },
  };
}

function timeoutError(operation: string, timeoutMs: number): GraphQLError {
  const mutation = operation === 'mutation';
  return new GraphQLError(
    mutation
      ? `The mutation did not finish within ${timeoutMs} ms. It may still complete: read the current state before trying again.`
      : `The ${operation} did not finish within ${timeoutMs} ms and was abandoned; try again, or ask for less.`,
    { extensions: { code: 'REQUEST_TIMEOUT', retryable: !mutation, timeoutMs } },
  );
}
