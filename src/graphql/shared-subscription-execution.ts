// Executes a subscription event once for all the subscribers that would get the same result, instead of
// once per subscriber. The hub hands every live subscriber the same event object (src/services/
// flow-event-hub.ts), so subscribers with the same document, variables and viewer resolve the same
// selection over the same root value: the first one's execution is shared with the rest. At fan-out
// (1,000 dashboards on one event) execution was most of the per-delivery cost (bench/RESULTS.md).
//
// Hand-written because Yoga's executor does not expose its source-stream step; graphql-js's
// createSourceEventStream and execute are the same algorithm ("MapSourceToResponseEvent" of the spec).
// The result is shared read-only: later plugins (error masking) map results to new objects.
import { createSourceEventStream, execute, print, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';

type Payload = object;

/** Maps an async iterator, forwarding return() at once (a mapped async generator would wait for the next value). */
function mapEvents<T, R>(source: AsyncIterator<T>, map: (value: T) => Promise<R>): AsyncIterableIterator<R> {
  return {
    async next() {
      const step = await source.next();
      if (step.done) return { done: true, value: undefined };
      return { done: false, value: await map(step.value) };
    },
    async return() {
      await source.return?.();
      return { done: true, value: undefined };
    },
    async throw(error?: unknown) {
      if (source.throw) await source.throw(error);
      throw error;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

export function useSharedSubscriptionExecution<Context extends Record<string, unknown>>(
  /** What, besides document and variables, the result depends on (the viewer); null to never share. */
  contextKey: (context: Context) => string | null,
): Plugin<Context> {
  const shared = new WeakMap<Payload, Map<string, Promise<ExecutionResult>>>();
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(async (args: ExecutionArgs) => {
        const source = await createSourceEventStream(args);
        if (!isAsyncIterable(source)) return source;
        const viewer = contextKey(args.contextValue as Context);
        const key =
          viewer === null
            ? null
            : JSON.stringify([viewer, args.operationName ?? null, print(args.document), args.variableValues ?? null]);
        const run = (payload: unknown) => Promise.resolve(execute({ ...args, rootValue: payload }));
        return mapEvents(source[Symbol.asyncIterator](), (payload: unknown) => {
          if (key === null || payload === null || typeof payload !== 'object') return run(payload);
          let results = shared.get(payload);
          if (!results) shared.set(payload, (results = new Map()));
          let result = results.get(key);
          if (!result) results.set(key, (result = run(payload)));
          return result;
        });
      });
    },
  };
}
