// Credentials expire; a subscription opened with them must not outlive them. Each subscription ends
// when the caller's token expires, with an UNAUTHENTICATED error as its last event, so a client (SSE
// or graphql-ws) knows to resubscribe with a fresh token. graphql-ws sockets are also closed at
// expiry (src/http/graphql-ws-server.ts).
import { GraphQLError, type ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../context.ts';

/** setTimeout cannot wait longer than this; credentials valid for longer are not timed. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export function credentialsExpiredError(): GraphQLError {
  return new GraphQLError('Your credentials have expired; subscribe again with a fresh token.', {
    extensions: { code: 'UNAUTHENTICATED', reason: 'CREDENTIALS_EXPIRED' },
  });
}

const EXPIRED = Symbol('expired');

/**
 * The source's results until the credentials expire, then the expiry error. Written as a plain iterator
 * rather than an async generator: a generator suspended in `await` cannot be returned until its await
 * settles, so an unsubscribing client would stay registered until the next event arrived.
 */
function untilExpiry(source: AsyncIterable<ExecutionResult>, expiresAt: number): AsyncIterableIterator<ExecutionResult> {
  const iterator = source[Symbol.asyncIterator]();
  let timer: NodeJS.Timeout | undefined;
  let finished = false;
  const expired = new Promise<typeof EXPIRED>((resolve) => {
    timer = setTimeout(() => resolve(EXPIRED), Math.max(0, expiresAt - Date.now()));
  });
  const finish = async () => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    await iterator.return?.();
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    async next(): Promise<IteratorResult<ExecutionResult>> {
      if (finished) return { done: true, value: undefined };
      const next = await Promise.race([iterator.next(), expired]);
      if (next === EXPIRED) {
        await finish();
        return { done: false, value: { errors: [credentialsExpiredError()] } };
      }
      if (next.done) await finish();
      return next;
    },
    async return(): Promise<IteratorResult<ExecutionResult>> {
      await finish();
      return { done: true, value: undefined };
    },
    async throw(error: unknown): Promise<IteratorResult<ExecutionResult>> {
      await finish();
      throw error;
    },
  };
}

export function useCredentialExpiry(): Plugin<GraphQLContext> {
  return {
    onSubscribe({ args }) {
      const expiresAt = args.contextValue.credentialsExpireAt;
      if (expiresAt === null || expiresAt === undefined || expiresAt - Date.now() > MAX_TIMER_MS) return;
      return {
        onSubscribeResult({ result, setResult }) {
          if (isAsyncIterable(result)) setResult(untilExpiry(result, expiresAt));
        },
      };
    },
  };
}
