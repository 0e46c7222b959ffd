// Executes a subscription event once for all the subscribers that would get the same result, instead of
// once per subscriber. The hub hands every live subscriber the same event object (src/services/
// flow-event-hub.ts), so subscribers with the same document, variables and viewer resolve the same
// selection over the same root value: the first one's execution is shared with the rest. At fan-out
// (1,000 dashboards on one event) execution was most of the per-delivery cost (bench/RESULTS.md).
//
// Pushed delivery. Once executions were shared, what remained per delivery was the chain each result
// passes on its way to a socket: one async iterator per envelop plugin and graphql-ws' loop, several
// promises per event and subscriber. When the operation has an outlet (graphql-ws) and its stream can push
// (src/services/flow-event-stream.ts), live events skip that chain: the stream pushes each event to a
// sink here, inside the hub's fan-out, which takes the shared result, finishes it once for everyone the
// way the skipped plugins would (error masking), and hands it to the outlet, which writes it to the
// socket. Replayed events and the item that ends a stream (overflow, expired cursor, expired credentials)
// still take the chain, in order: pushing starts only when the client has everything before it.
//
// Hand-written because Yoga's executor does not expose its source-stream step; graphql-js's
// createSourceEventStream and execute are the same algorithm ("MapSourceToResponseEvent" of the spec).
// The result is shared read-only: later plugins (error masking) map results to new objects.
import { AsyncResource } from 'node:async_hooks';
import { createSourceEventStream, execute, print, type ExecutionArgs, type ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { SubscriptionOutlet } from '../context.ts';
import { isPushableEventStream } from '../services/flow-event-stream.ts';

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

export interface SharedSubscriptionExecutionOptions<Context> {
  /** What, besides document and variables, the result depends on (the viewer); null to never share. */
  sharingKey: (context: Context) => string | null;
  /** The operation's outlet, when its results may be pushed to it (graphql-ws); undefined otherwise. */
  outletOf?: (context: Context) => SubscriptionOutlet | undefined;
  /**
   * What the plugins a pushed result skips would do to it (error masking), applied once per shared
   * result. Required with `outletOf`.
   */
  finishPushed?: (result: ExecutionResult) => ExecutionResult;
}

export function useSharedSubscriptionExecution<Context extends Record<string, unknown>>(
  options: SharedSubscriptionExecutionOptions<Context>,
): Plugin<Context> {
  const { sharingKey, outletOf, finishPushed } = options;
  if (outletOf && !finishPushed) throw new Error('pushed results need finishPushed');
  // Per event object, per (viewer, document, variables): the execution, replaced by its result once it has
  // settled, so that the other subscribers take it without another promise.
  const shared = new WeakMap<Payload, Map<string, Result>>();
  // Per shared result: what it becomes for the client, computed by the first subscriber it is pushed to.
  const finished = new WeakMap<ExecutionResult, ExecutionResult>();
  const finish = (result: ExecutionResult): ExecutionResult => {
    let done = finished.get(result);
    if (done === undefined) finished.set(result, (done = finishPushed!(result)));
    return done;
  };
  return {
    onSubscribe({ setSubscribeFn }) {
      setSubscribeFn(async (args: ExecutionArgs) => {
        const source = await createSourceEventStream(args);
        if (!isAsyncIterable(source)) return source;
        const context = args.contextValue as Context;
        const viewer = sharingKey(context);
        const key =
          viewer === null
            ? null
            : JSON.stringify([viewer, args.operationName ?? null, print(args.document), args.variableValues ?? null]);
        // Events are executed in the operation's async context (its SQL statement tally), wherever the
        // event comes from: a pushed one arrives inside the hub's fan-out.
        const operation = new AsyncResource('flowgraph.subscription');
        const run = (payload: unknown): Result => operation.runInAsyncScope(() => execute({ ...args, rootValue: payload }));
        const resultOf = (payload: unknown): Result => {
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
        };
        const iterator = source[Symbol.asyncIterator]();
        const outlet = outletOf?.(context);
        if (outlet && isPushableEventStream(iterator)) {
          const send = (result: ExecutionResult) => outlet.send(finish(result));
          iterator.pushLiveEventsTo((payload) => {
            const result = resultOf(payload);
            return result instanceof Promise ? result.then((settled): unknown => send(settled)) : send(result);
          });
        }
        return mapEvents(iterator, resultOf);
      });
    },
  };
}
