// Responses have a size limit (FLOWGRAPH_MAX_RESPONSE_BYTES, 1/16 of the heap by default): a response is
// held whole while it is serialized, and one page of rows of ~900 KB each, asked twice under two aliases,
// crashed a 256 MiB server on both read paths (issue 16). Past the limit the client gets no data and a
// RESPONSE_TOO_LARGE error, and asks for smaller pages.
// - The compiled path has PostgreSQL measure the result before it is sent (compiled-reads-plugin.ts), so a
//   result over the limit is never loaded.
// - The resolver path's statements are bounded as their values are parsed (src/db/result-budget.ts), so a page
//   of large rows is not loaded whole either.
// - Every query result (both paths) is measured here before it is serialized, as the JSON it becomes,
//   stopping at the limit.
import { GraphQLError, type ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { StatementTally } from '../db/statement-counter.ts';

export function responseTooLargeError(bytes: number | null, maxBytes: number): GraphQLError {
  return new GraphQLError(
    `The response would be larger than ${maxBytes} bytes${bytes === null ? '' : ` (${bytes})`}; ask for smaller pages or fewer fields.`,
    { extensions: { code: 'RESPONSE_TOO_LARGE', maxBytes } },
  );
}

/** The size of `value` as JSON, or Infinity as soon as it exceeds `budget` (UTF-16 units for strings). */
export function jsonSizeWithin(value: unknown, budget: number): number {
  let size = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === 'string') size += item.length + 2;
    else if (typeof item === 'number') size += String(item).length;
    else if (typeof item === 'boolean') size += 5;
    else if (item === null || item === undefined) size += 4;
    else if (Array.isArray(item)) {
      size += 1 + item.length;
      for (const element of item) stack.push(element);
    } else if (typeof item === 'object') {
      if (typeof (item as { toJSON?: unknown }).toJSON === 'function') {
        stack.push((item as { toJSON(): unknown }).toJSON());
        continue;
      }
      size += 1;
      for (const key in item) {
        size += key.length + 4;
        stack.push((item as Record<string, unknown>)[key]);
      }
    } else size += 8;
    if (size > budget) return Infinity;
  }
  return size;
}

export function useResponseSizeLimit(maxBytes: number): Plugin {
  return {
    onExecute({ args }) {
      return {
        onExecuteDone({ result, setResult }) {
          if (isAsyncIterable(result)) return;
          // A statement loaded more than it may (src/db/result-budget.ts): whatever failed with it, this is why.
          if ((args.contextValue as { statements?: StatementTally }).statements?.resultTooLarge) {
            setResult({ data: null, errors: [responseTooLargeError(null, maxBytes)] });
            return;
          }
          const single = result as ExecutionResult;
          if (single.data == null || jsonSizeWithin(single.data, maxBytes) !== Infinity) return;
          setResult({ data: null, errors: [responseTooLargeError(null, maxBytes)] });
        },
      };
    },
  };
}
