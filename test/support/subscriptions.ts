// Real subscription clients for tests: graphql-ws over a WebSocket, and graphql-sse over HTTP
// (server-sent events, Yoga's "distinct connections" mode). Both collect what they receive, so a test can
// wait for a number of items and then look at all of them.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print } from 'graphql';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import type { Viewer } from '../../src/context.ts';
import { decodeFlowEventCursor } from '../../src/domain/flow-event-cursor.ts';
import { viewerHeaders } from './graphql.ts';

export type Transport = 'graphql-ws' | 'sse';

/** What either client delivers per item. */
export interface Result<TData> {
  data?: TData | null;
  errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
}

/** A subscription being received: every result so far, how it ended, and a way to wait for more. */
export class Received<TData> {
  readonly results: Result<TData>[] = [];
  completed = false;
  error: unknown;
  private waiters: (() => void)[] = [];

  constructor(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the two clients type their results differently
    private readonly iterator: AsyncIterableIterator<any>,
    private readonly onDispose: () => void | Promise<void> = () => {},
  ) {
    void this.consume();
  }

  private async consume(): Promise<void> {
    try {
      for await (const result of this.iterator) {
        this.results.push(result);
        this.notify();
      }
    } catch (error) {
      this.error = error;
    } finally {
      this.completed = true;
      this.notify();
    }
  }

  private notify(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }

  private summary(): string {
    return `received ${this.results.length} results, the last ones: ${JSON.stringify(this.results.slice(-3)).slice(0, 1_500)}`;
  }

  get data(): TData[] {
    return this.results.map((result) => {
      if (result.errors?.length) throw new Error(`subscription errors: ${JSON.stringify(result.errors)}`);
      return result.data as TData;
    });
  }

  /** Waits until `predicate` holds (checked after every result and at the end); fails after `timeoutMs`. */
  async until(predicate: (received: this) => boolean, what: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      if (this.completed && !predicate(this)) {
        throw new Error(`subscription ended before ${what}: ${this.summary()}; error: ${String(this.error)}`);
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; ${this.summary()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Waits for at least `count` results. */
  atLeast(count: number, timeoutMs?: number): Promise<void> {
    return this.until((received) => received.results.length >= count, `${count} results`, timeoutMs);
  }

  /** Waits for the end of the subscription. */
  ended(timeoutMs?: number): Promise<void> {
    return this.until((received) => received.completed, 'the end of the subscription', timeoutMs);
  }

  async dispose(): Promise<void> {
    await this.iterator.return?.();
    await this.onDispose();
  }
}

export interface WsConnection {
  client: WsClient;
  /** The WebSocket under the client, once connected (tests pause it to play a slow reader). */
  socket(): WebSocket | undefined;
  dispose(): Promise<void>;
}

export function connectWs(url: string, viewer: Viewer, options: { retryAttempts?: number } = {}): WsConnection {
  let current: WebSocket | undefined;
  class TrackedWebSocket extends WebSocket {
    constructor(address: string, protocols?: string | string[]) {
      super(address, protocols);
      current = this;
    }
  }
  const client = createWsClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: TrackedWebSocket,
    // The same credentials as over HTTP (a bearer token), in connectionParams.
    connectionParams: viewerHeaders(viewer),
    retryAttempts: options.retryAttempts ?? 0,
    lazy: true,
  });
  return { client, socket: () => current, dispose: async () => client.dispose() };
}

export function subscribeWs<TData, TVariables extends Record<string, unknown>>(
  connection: WsConnection,
  document: TypedDocumentNode<TData, TVariables>,
  variables: TVariables,
): Received<TData> {
  const iterator = connection.client.iterate<TData>({ query: print(document), variables });
  return new Received(iterator);
}

export function subscribeSse<TData, TVariables extends Record<string, unknown>>(
  url: string,
  viewer: Viewer | null,
  document: TypedDocumentNode<TData, TVariables>,
  variables: TVariables,
): Received<TData> {
  const client = createSseClient({
    url,
    headers: viewer ? viewerHeaders(viewer) : {},
    singleConnection: false,
    retryAttempts: 0,
  });
  const iterator = client.iterate<TData>({ query: print(document), variables });
  return new Received(iterator, () => client.dispose());
}

export function subscribe<TData, TVariables extends Record<string, unknown>>(
  transport: Transport,
  target: { url: string; ws: WsConnection; viewer: Viewer },
  document: TypedDocumentNode<TData, TVariables>,
  variables: TVariables,
): Received<TData> {
  return transport === 'sse' ? subscribeSse(target.url, target.viewer, document, variables) : subscribeWs(target.ws, document, variables);
}

/** The sequence a cursor names (tests compare positions; clients never need to). */
export function sequenceOf(cursor: string): number {
  const sequence = decodeFlowEventCursor(cursor);
  if (sequence === null) throw new Error(`not a cursor: ${cursor}`);
  return Number(sequence);
}
