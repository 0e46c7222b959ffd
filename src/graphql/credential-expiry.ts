// Credentials expire; a subscription opened with them must not outlive them. Each subscription ends
// when the caller's token expires, with an UNAUTHENTICATED error as its last event, so a client (SSE
// or graphql-ws) knows to resubscribe with a fresh token. graphql-ws sockets are also closed at
// expiry (src/http/graphql-ws-server.ts).
import { GraphQLError, type ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../context.ts';

/** setTimeout cannot wait longer than this (about 24.8 days): a longer delay fires at once, with a warning. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LongTimer {
  cancel(): void;
}

/**
 * setTimeout for any delay: one that exceeds what setTimeout can wait is waited in steps of at most `stepMs`,
 * so credentials valid for months still expire on time. Written here because the platform has no such timer;
 * `stepMs` is a parameter so that tests can take many steps in little time.
 */
export function setLongTimeout(callback: () => void, delayMs: number, stepMs: number = MAX_TIMER_MS): LongTimer {
  const due = Date.now() + Math.max(0, delayMs);
  let timer: NodeJS.Timeout;
  const wait = () => {
    const remaining = due - Date.now();
    if (remaining <= stepMs) timer = setTimeout(callback, Math.max(0, remaining));
    else timer = setTimeout(wait, stepMs);
  };
  wait();
  return { cancel: () => clearTimeout(timer) };
}

export function credentialsExpiredError(): GraphQLError {
  return new GraphQLError('Your credentials have expired; subscribe again with a fresh token.', {
    extensions: { code: 'UNAUTHENTICATED', reason: 'CREDENTIALS_EXPIRED' },
  });
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * The source's events until the credentials expire, then an UNAUTHENTICATED event and the end. Written
 * as a plain iterator, not an async generator: a generator waiting for the source's next event would
 * hold a client's return() (an unsubscribe) until that event came, and the source would never hear it.
 * It acts only at expiry: an event costs one `then`, not a race against the timer (at fan-out that is
 * paid once per event and subscriber). At expiry a pending next() gets the error at once.
 */
function untilExpiry(source: AsyncIterable<ExecutionResult>, expiresAt: number): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  let finished = false;
  let expired = false;
  /** Settles the next() in progress, if any, before its source event arrives. */
  let settlePending: ((result: IteratorResult<ExecutionResult, undefined>) => void) | undefined;
  const finish = async () => {
    if (finished) return;
    finished = true;
    timer.cancel();
    await iterator.return?.();
  };
  const expiredResult = (): IteratorResult<ExecutionResult, undefined> => {
    void finish();
    return { done: false, value: { errors: [credentialsExpiredError()] } };
  };
  const timer = setLongTimeout(() => {
    expired = true;
    const settle = settlePending;
    settlePending = undefined;
    settle?.(expiredResult());
  }, expiresAt - Date.now());
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next() {
      if (finished) return Promise.resolve(DONE);
      if (expired) return Promise.resolve(expiredResult());
      return new Promise((resolve, reject) => {
        settlePending = resolve;
        iterator.next().then((step) => {
          if (settlePending !== resolve) return; // the expiry answered this next() already
          settlePending = undefined;
          if (step.done) {
            finished = true;
            timer.cancel();
          }
          resolve(step);
        }, reject);
      });
    },
    async return() {
      await finish();
      return DONE;
    },
    async throw(error?: unknown) {
      await finish();
      throw error;
    },
  };
}

export function useCredentialExpiry(): Plugin<GraphQLContext> {
  return {
    onSubscribe({ args }) {
      const expiresAt = args.contextValue.credentialsExpireAt;
      if (expiresAt === null || expiresAt === undefined) return;
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable(result)) setResult(untilExpiry(result, expiresAt));
        },
      };
    },
  };
}
