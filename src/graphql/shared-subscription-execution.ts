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
type Result = ExecutionResult | Promise<ExecutionResult>;

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * Maps an async iterator, forwarding return() at once (a mapped async generator would wait for the next
 * value). One `then` per event, and none more when `map` answers synchronously: this runs once per event
 * and subscriber.
 */
function mapEvents<T, R>(source: AsyncIterator<T>, map: (value: T) => R | Promise<R>): AsyncIterableIterator<R> {
  const step = (item: IteratorResult<T>): IteratorResult<R, undefined> | Promise<IteratorResult<R, undefined>> => {
    if (item.done) return DONE;
    const mapped = map(item.value);
    return mapped instanceof Promise ? mapped.then((value) => ({ done: false, value })) : { done: false, value: mapped };
  };
  return {
    next() {
      return source.next().then(step);
    },
    async return() {
      await source.return?.();
      return DONE;
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
  // Per event object, per (viewer, document, variables): the execution, replaced by its result once it has
  // settled, so that the other subscribers take it without another promise.
  const shared = new WeakMap<Payload, Map<string, Result>>();
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
        const run = (payload: unknown): Result => execute({ ...args, rootValue: payload });
        return mapEvents(source[Symbol.asyncIterator](), (payload: unknown): Result => {
          if (key === null || payload === null || typeof payload !== 'object') return run(payload);
          let results = shared.get(payload);
          if (!results) shared.set(payload, (results = new Map()));
          let result = results.get(key);
          if (result === undefined) {
            result = run(payload);
            results.set(key, result);
            if (result instanceof Promise) {
              const entries = results;
              result.then(
                (settled) => entries.set(key, settled),
                () => {},
              );
            }
          }
          return result;
        });
      });
    },
  };
}
