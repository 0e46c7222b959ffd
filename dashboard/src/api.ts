// flowgraph's public GraphQL API, as the dashboard uses it: queries and mutations over HTTP, live events
// over graphql-ws, with the same credentials. Nothing here is private to the dashboard.
import { createClient, type Client } from 'graphql-ws';
import type { SubscribingClient } from '../../src/client/flow-event-resume';
import * as generated from './generated/graphql';
import type { TypedDocumentString } from './generated/graphql';

export type ConnectionState = 'connecting' | 'live' | 'reconnecting' | 'offline';

export interface Credentials {
  /** Request headers that identify the user: a bearer token, or the development headers. */
  headers: Record<string, string>;
  /** What the header bar shows about who is signed in. */
  label: string;
}

export class GraphQLRequestError extends Error {
  constructor(
    message: string,
    readonly codes: string[],
  ) {
    super(message);
  }
}

const ENDPOINT = '/graphql';

/**
 * The trusted-document hash of each generated document, by its text (codegen embeds the hash; the server
 * knows the dashboard's manifest). Operations are sent as their hash, so the dashboard also works against a
 * server that runs only trusted documents (FLOWGRAPH_TRUSTED_DOCUMENTS).
 */
const HASHES = new Map<string, string>();
for (const value of Object.values(generated)) {
  const hash = value instanceof generated.TypedDocumentString ? (value.__meta__?.hash as string | undefined) : undefined;
  if (hash) HASHES.set(value.toString(), hash);
}

/** An operation's request parameters: its hash when it is a trusted document, else its text. */
function operation(query: string, variables: unknown): { query?: string; variables: unknown; extensions?: Record<string, unknown> } {
  const hash = HASHES.get(query);
  return hash ? { variables, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } } : { query, variables };
}

/** The server refused the credentials (HTTP 401, graphql-ws close 4403); `message` is the server's reason. */
export class CredentialsRefused extends GraphQLRequestError {
  constructor(message: string) {
    super(message, ['UNAUTHENTICATED']);
  }
}

type ErrorBody = { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };

/** A response body as JSON, or null when it is not JSON (a proxy's error page, an empty body). */
function parseBody(text: string): ErrorBody | null {
  try {
    return JSON.parse(text) as ErrorBody;
  } catch {
    return null;
  }
}

export class Api {
  private socket: Client | undefined;
  private readonly stateListeners = new Set<(state: ConnectionState) => void>();
  private readonly refusedListeners = new Set<(message: string) => void>();

  constructor(private readonly credentials: Credentials) {}

  async request<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables?: TVariables): Promise<TResult> {
    const response = await fetch(ENDPOINT, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', ...this.credentials.headers },
      body: JSON.stringify(operation(document.toString(), variables)),
    });
    const body = parseBody(await response.text());
    if (response.status === 401) throw this.refused(body?.errors?.[0]?.message ?? 'The server refused the credentials.');
    if (!body || body.errors?.length || !body.data) {
      const errors = body?.errors ?? [{ message: `the server answered HTTP ${response.status}` }];
      throw new GraphQLRequestError(errors.map((error) => error.message).join('; '), errors.map((error) => error.extensions?.code ?? ''));
    }
    return body.data as TResult;
  }

  /** Told when the server refuses the credentials, with its message (the dashboard asks to sign in again). */
  onCredentialsRefused(listener: (message: string) => void): void {
    this.refusedListeners.add(listener);
  }

  private refused(message: string): CredentialsRefused {
    for (const listener of this.refusedListeners) listener(message);
    return new CredentialsRefused(message);
  }

  /** Sends a multipart request (GraphQL multipart request spec) with one file, reporting upload progress. */
  upload<TResult>(query: string, variables: Record<string, unknown>, filePath: string, file: File, onProgress: (share: number) => void): Promise<TResult> {
    const form = new FormData();
    form.append('operations', JSON.stringify(operation(query, variables)));
    form.append('map', JSON.stringify({ 0: [filePath] }));
    form.append('0', file, file.name);
    // fetch() cannot report upload progress; XMLHttpRequest can.
    return new Promise((resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open('POST', ENDPOINT);
      for (const [name, value] of Object.entries(this.credentials.headers)) request.setRequestHeader(name, value);
      request.setRequestHeader('graphql-require-preflight', '1');
      request.upload.onprogress = (event) => event.lengthComputable && onProgress(event.loaded / event.total);
      request.onerror = () => reject(new GraphQLRequestError('the upload failed', []));
      request.onload = () => {
        const body = parseBody(request.responseText);
        if (request.status === 401) reject(this.refused(body?.errors?.[0]?.message ?? 'The server refused the credentials.'));
        else if (!body || body.errors?.length || !body.data) {
          reject(new GraphQLRequestError((body?.errors ?? []).map((error) => error.message).join('; ') || `the server answered HTTP ${request.status}`, []));
        } else resolve(body.data as TResult);
      };
      request.send(form);
    });
  }

  onConnectionState(listener: (state: ConnectionState) => void): void {
    this.stateListeners.add(listener);
  }

  private emit(state: ConnectionState): void {
    for (const listener of this.stateListeners) listener(state);
  }

  /** One shared graphql-ws connection, retried forever with backoff; its state drives the badge. */
  private client(): Client {
    if (this.socket) return this.socket;
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${ENDPOINT}`;
    let connectedOnce = false;
    this.socket = createClient({
      url,
      lazy: false,
      keepAlive: 10_000,
      retryAttempts: Number.POSITIVE_INFINITY,
      shouldRetry: () => true,
      retryWait: (retries) => new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** retries, 5_000))),
      connectionParams: () => this.credentials.headers,
      on: {
        connecting: () => this.emit(connectedOnce ? 'reconnecting' : 'connecting'),
        connected: () => {
          connectedOnce = true;
          this.emit('live');
        },
        closed: (event) => {
          // 4403: the server refused the token or it expired; the user has to sign in again.
          const close = event as { code?: number; reason?: string };
          if (close.code === 4403) this.refused(close.reason || 'The server refused the credentials.');
          this.emit(connectedOnce ? 'reconnecting' : 'offline');
        },
      },
    });
    return this.socket;
  }

  /**
   * The shared graphql-ws connection as the client flowgraph/client's helpers take, each operation sent by its
   * hash when it is a trusted document. The variables object is passed on as it is: the resume helper reads its
   * `after` at the moment graphql-ws sends it (on a silent retry too).
   */
  subscribingClient(): SubscribingClient {
    return {
      subscribe: (request, sink) =>
        this.client().subscribe({ query: '', ...operation(request.query, request.variables ?? {}) } as never, sink as never),
    };
  }
}
