// Graceful shutdown: what is running is let finish, nothing new is taken in, and nothing is answered with a
// masked error. On SIGTERM (App.stop(), src/app.ts):
// 1. intake stops: the listener closes, idle keep-alive connections are closed, in-flight responses go out
//    with `Connection: close`, and a request that still arrives on an open connection gets a retryable 503
//    SHUTTING_DOWN (so does a new graphql-ws operation; new SSE streams are requests like any other);
// 2. subscriptions are cut as before (a cut stream tells its client to reconnect elsewhere and resume);
// 3. queries and mutations in flight run to their end, and the process exits as soon as the last one has
//    been answered;
// 4. near the end of the grace period (FLOWGRAPH_SHUTDOWN_GRACE_MS) whatever still runs gives up: writes
//    roll back (src/services/write-transaction.ts) and reads stop waiting, and both are answered with the
//    retryable SHUTTING_DOWN; at the end of the grace period every connection is closed;
// 5. the database closes only after that (src/server.ts).
import { GraphQLError, getOperationAST, type ExecutionArgs, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { ServerResponse } from 'node:http';
import { withWriteAbort } from '../services/write-transaction.ts';

export const SHUTTING_DOWN = 'SHUTTING_DOWN';
const RETRY_AFTER_SECONDS = 1;
const MESSAGE = 'The server is shutting down; send the request again (another instance answers it).';

export function shuttingDownError(): GraphQLError {
  return new GraphQLError(MESSAGE, {
    extensions: { code: SHUTTING_DOWN, retryable: true, http: { status: 503, headers: { 'retry-after': String(RETRY_AFTER_SECONDS) } } },
  });
}

/** How long before the end of the grace period in-flight work is told to give up, to be answered in time. */
export function settleWindowMs(graceMs: number): number {
  return Math.min(1_000, Math.floor(graceMs / 4));
}

export class Drain {
  /** Set when shutdown begins: nothing new is accepted from then on. */
  draining = false;
  private readonly controller = new AbortController();
  private executions = 0;
  private idleWaiters: (() => void)[] = [];

  /** Aborted when in-flight work must give up. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  begin(): void {
    this.draining = true;
  }

  abort(): void {
    this.controller.abort();
  }

  /** Resolves once no operation is executing. */
  idle(): Promise<void> {
    if (this.executions === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Runs one operation's execution: its writes obey the abort signal; a query stops waiting for its result
   * when the signal aborts (it changes nothing, so it can be answered at once).
   */
  run(args: ExecutionArgs, execute: () => ExecutionResult | Promise<ExecutionResult>): Promise<ExecutionResult> {
    this.executions += 1;
    const execution = Promise.resolve()
      .then(() => withWriteAbort(this.signal, execute))
      .finally(() => {
        this.executions -= 1;
        if (this.executions === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      });
    if (getOperationAST(args.document, args.operationName)?.operation !== 'query') return execution;
    execution.catch(() => {});
    return new Promise((resolve, reject) => {
      const abort = () => resolve({ errors: [shuttingDownError()] });
      if (this.signal.aborted) return abort();
      this.signal.addEventListener('abort', abort, { once: true });
      execution.then(resolve, reject).finally(() => this.signal.removeEventListener('abort', abort));
    });
  }

  /** The Yoga plugin through which every query and mutation (HTTP and graphql-ws) runs. */
  plugin(): Plugin {
    return {
      onExecute: ({ args, executeFn, setExecuteFn }) => {
        setExecuteFn((executionArgs) => this.run(executionArgs, () => executeFn(executionArgs) as ExecutionResult | Promise<ExecutionResult>));
      },
    };
  }
}

/** The answer to an HTTP request that arrives while the server drains (on a connection opened before). */
export function refuseWhileDraining(response: ServerResponse, path: string): void {
  const body =
    path === '/ready'
      ? { ready: false, error: 'the server is shutting down' }
      : { errors: [{ message: MESSAGE, extensions: { code: SHUTTING_DOWN, retryable: true } }] };
  response.writeHead(503, { 'content-type': 'application/json', 'retry-after': String(RETRY_AFTER_SECONDS), connection: 'close' });
  response.end(JSON.stringify(body));
}
