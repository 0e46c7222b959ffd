// graphql-ws on the HTTP server's port: every option of the WebSocket transport lives here.
// - Authentication at connection_init (connectionParams `authorization: "Bearer <token>"`, or the
//   development headers in dev mode); a refused socket is closed with 4403, and a socket whose token
//   expires is closed with 4403 at that moment.
// - Limits: largest message (maxPayload, close 1009), time to send connection_init (close 4408), most
//   operations at once per socket (the extra one gets a TOO_MANY_SUBSCRIPTIONS error), and the caps of
//   src/http/connection-caps.ts: sockets per user (close 4429) and per process (close 1013, try again later),
//   operations per user and per process (TOO_MANY_SUBSCRIPTIONS with `scope`).
// - Every operation runs through Yoga's envelop (yoga.getEnveloped), so plugins, context, limits and
//   error masking are the same as over HTTP.
// - Fan-out: graphql-ws' protocol server (makeServer) with flowgraph's own glue to `ws` in place of
//   graphql-ws/use/ws, for two reasons that matter when one event goes to 1,000 sockets
//   (bench/RESULTS.md, "Live flow events"): a result shared by many subscribers (src/graphql/
//   shared-subscription-execution.ts) is serialized once, not once per subscriber, and a send does not
//   wait for the socket's write to complete unless the socket has fallen behind. And each operation gets
//   an outlet (SubscriptionOutlet, src/context.ts) through which live events are pushed to its socket
//   without passing graphql-ws' per-operation loop.
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { GraphQLError, getOperationAST, type ExecutionArgs, type ExecutionResult, type GraphQLFormattedError } from 'graphql';
import type { YogaServerInstance } from 'graphql-yoga';
import {
  CloseCode,
  DEPRECATED_GRAPHQL_WS_PROTOCOL,
  handleProtocols,
  makeServer,
  type ServerOptions,
  type WebSocket as ProtocolSocket,
} from 'graphql-ws';
import type { Extra } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { DEVELOPMENT_HEADERS, hostAllowed, isCrossOrigin, webSocketOriginAllowed } from './cors.ts';
import { AuthenticationError } from '../auth/auth-errors.ts';
import type { Authenticator, Principal } from '../auth/authenticate.ts';
import type { LimitsConfig } from '../config.ts';
import type { GraphQLContext, SubscriptionOutlet } from '../context.ts';
import { setLongTimeout, type LongTimer } from '../graphql/credential-expiry.ts';
import type { Logger } from '../observability/logger.ts';
import { errorCodes } from '../observability/request-logging.ts';
import { shuttingDownError, type Drain } from './drain.ts';
import { Cap, principalKey, type Release } from './connection-caps.ts';

/** Close code for authentication failures and expiry (graphql-ws' "Forbidden"). */
export const CLOSE_FORBIDDEN = CloseCode.Forbidden;
/** Close code when the identity provider's keys cannot be fetched, or the process holds all the sockets it may. */
export const CLOSE_TRY_AGAIN_LATER = 1013;
/** Close code for a socket that connects while the server shuts down: reconnect (elsewhere). */
export const CLOSE_SERVICE_RESTART = 1012;
/**
 * Close code for a user who has as many sockets open as one user may. graphql-ws' client treats it as fatal
 * (it does not reconnect in a loop); the user closes another tab or connection first.
 */
export const CLOSE_TOO_MANY_SOCKETS = CloseCode.TooManyInitialisationRequests;

/** What flowgraph keeps on each socket, next to graphql-ws' own `socket` and `request`. */
type SocketState = {
  principal: Principal;
  socketId: string;
  expiryTimer?: LongTimer;
  outbox: Outbox;
  /** The socket's slot among its user's sockets. */
  userSlot: Release;
  /** The slots of the operations running on the socket, by id. */
  operations: Map<string, Release>;
};

/**
 * A socket with less than this waiting in its buffers takes the next message at once; beyond it, the
 * operation's next event waits for the write to complete (graphql-ws' loop awaits the send; a stream pushing
 * live events holds them in its queue). That wait is what lets a slow client's queue in the hub fill up and
 * overflow (a bounded buffer per subscription) instead of the socket's.
 */
const SEND_HIGH_WATER_BYTES = 64 * 1024;

/**
 * What the onNext hook hands graphql-ws in place of a result: it serializes `{"id":…,"type":"next","payload":{}}`,
 * and `send` puts the payload's JSON, serialized once per result, where the `{}` is. No execution result is
 * `{}` (it has `data` or `errors`), so the placeholder cannot be mistaken for one.
 */
const PAYLOAD_PLACEHOLDER = Object.freeze({});
const PLACEHOLDER_TAIL = ',"type":"next","payload":{}}';

/** The JSON of each result object: subscribers that share a result share its text. */
const serializedPayloads = new WeakMap<ExecutionResult, string>();

function serializedPayload(result: ExecutionResult): string {
  let json = serializedPayloads.get(result);
  if (json === undefined) {
    json = JSON.stringify(result.errors ? { ...result, errors: result.errors.map(formatted) } : result);
    serializedPayloads.set(result, json);
  }
  return json;
}

const SENT: Promise<void> = Promise.resolve();

/**
 * Sockets corked in this pass, uncorked together by one process.nextTick callback when the pass's
 * synchronous work is done: one event fanned out to 1,000 sockets corks 1,000 of them, and a callback each
 * would cost as much again.
 */
let corkedOutboxes: Outbox[] = [];

function uncorkAll(): void {
  const outboxes = corkedOutboxes;
  corkedOutboxes = [];
  for (const outbox of outboxes) outbox.uncork();
}

/** One graphql-ws connection's way out. */
class Outbox {
  /** Serialized payloads of `next` messages on their way out, by operation id (see PAYLOAD_PLACEHOLDER). */
  readonly payloads = new Map<string, string>();
  private corked = false;

  constructor(
    private readonly socket: WebSocket,
    /** ws' TCP socket (not part of its typed API, present on every server-side socket). */
    private readonly tcp = (socket as unknown as { _socket?: Socket })._socket,
  ) {}

  /** graphql-ws' way out: its messages, with a placeholder payload replaced by the result's JSON. */
  send(data: string): Promise<void> {
    if (this.socket.readyState !== this.socket.OPEN) return SENT;
    let text = data;
    if (data.endsWith(PLACEHOLDER_TAIL)) {
      // `{"id":<id>` + PLACEHOLDER_TAIL; an id with nothing to escape is its JSON without the quotes.
      const idJson = data.slice(6, data.length - PLACEHOLDER_TAIL.length);
      const id = idJson.includes('\\') ? (JSON.parse(idJson) as string) : idJson.slice(1, -1);
      const payload = this.payloads.get(id);
      if (payload === undefined) throw new Error(`no payload for the next message of operation ${id}`);
      this.payloads.delete(id);
      text = `${data.slice(0, -3)}${payload}}`;
    }
    const written = this.write(text);
    return written === true ? SENT : written;
  }

  /**
   * The outlet of operation `id`: its pushed results go out as `next` messages in the order they come,
   * after whatever graphql-ws has sent for the operation before. `active` says whether graphql-ws still
   * runs the operation (the client may have completed it, or the socket closed).
   */
  outlet(id: string, active: () => boolean): SubscriptionOutlet {
    const head = `{"id":${JSON.stringify(id)},"type":"next","payload":`;
    const listeners: ((result: ExecutionResult) => void)[] = [];
    return {
      listeners,
      send: (result) => {
        if (this.socket.readyState !== this.socket.OPEN || !active()) return true;
        const written = this.write(`${head}${serializedPayload(result)}}`);
        for (const listener of listeners) listener(result);
        return written;
      },
    };
  }

  uncork(): void {
    this.corked = false;
    this.tcp?.uncork();
  }

  /** Writes a message: true when the socket took it, or a promise settled when it has been written out. */
  private write(text: string): true | Promise<void> {
    const socket = this.socket;
    // Messages sent to one socket in one pass (a client behind by several events, or with several
    // subscriptions) leave in one write: the socket stays corked until the end of the pass (uncorkAll).
    if (!this.corked && this.tcp) {
      this.corked = true;
      this.tcp.cork();
      corkedOutboxes.push(this);
      if (corkedOutboxes.length === 1) process.nextTick(uncorkAll);
    }
    if (socket.bufferedAmount < SEND_HIGH_WATER_BYTES) {
      socket.send(text);
      return true;
    }
    return new Promise((resolve, reject) => socket.send(text, (error) => (error ? reject(error) : resolve())));
  }
}

/**
 * graphql-ws/use/ws' useServer, with flowgraph's `send` (above). Everything else is as graphql-ws does it:
 * subprotocol negotiation, keep-alive pings (a socket that does not answer one within `keepAlive` is
 * terminated), 4500 on internal errors, 1001 on dispose.
 */
function serveGraphQLWs(
  options: ServerOptions<Record<string, unknown>, Extra & Partial<SocketState>>,
  webSockets: WebSocketServer,
  sockets: Cap,
  keepAlive = 12_000,
): { dispose(): Promise<void> } {
  const isProd = process.env.NODE_ENV === 'production';
  const internalError = (error: unknown) =>
    isProd ? 'Internal server error' : closeReason(error instanceof Error ? error.message : String(error));
  const server = makeServer(options);
  webSockets.options.handleProtocols = handleProtocols;
  webSockets.once('error', (error) => {
    console.error('Internal error emitted on the WebSocket server. Please check your implementation.', error);
    for (const client of webSockets.clients) client.close(CloseCode.InternalServerError, internalError(error));
  });
  webSockets.on('connection', (socket, request) => {
    // Counted from the upgrade: a socket holds memory before it sends connection_init.
    const slot = sockets.acquire();
    if (typeof slot === 'string') {
      socket.close(CLOSE_TRY_AGAIN_LATER, `Try again later: this server holds ${sockets.perProcess} sockets`);
      return;
    }
    socket.once('close', slot);
    socket.once('error', (error) => {
      console.error('Internal error emitted on a WebSocket socket. Please check your implementation.', error);
      socket.close(CloseCode.InternalServerError, internalError(error));
    });
    let pongWait: NodeJS.Timeout | null = null;
    const pingInterval = setInterval(() => {
      if (socket.readyState !== socket.OPEN) return;
      pongWait = setTimeout(() => socket.terminate(), keepAlive);
      socket.once('pong', () => {
        if (pongWait) clearTimeout(pongWait);
        pongWait = null;
      });
      socket.ping();
    }, keepAlive);
    const outbox = new Outbox(socket);
    const protocolSocket: ProtocolSocket = {
      protocol: socket.protocol,
      send: (data) => outbox.send(data),
      close: (code, reason) => socket.close(code, reason),
      onMessage: (callback) =>
        socket.on('message', async (message) => {
          try {
            await callback(String(message));
          } catch (error) {
            console.error('Internal error occurred during message handling. Please check your implementation.', error);
            socket.close(CloseCode.InternalServerError, internalError(error));
          }
        }),
    };
    const closed = server.opened(protocolSocket, { socket, request, outbox });
    socket.once('close', (code, reason) => {
      if (pongWait) clearTimeout(pongWait);
      clearInterval(pingInterval);
      if (!isProd && code === CloseCode.SubprotocolNotAcceptable && socket.protocol === DEPRECATED_GRAPHQL_WS_PROTOCOL) {
        console.warn('Client provided the unsupported and deprecated subprotocol of subscriptions-transport-ws.');
      }
      void closed(code, String(reason));
    });
  });
  return {
    dispose: async () => {
      for (const client of webSockets.clients) client.close(1001, 'Going away');
      webSockets.removeAllListeners();
      await new Promise<void>((resolve, reject) => webSockets.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

export interface GraphQLWsOptions {
  path: string;
  yoga: YogaServerInstance<Record<string, unknown>, GraphQLContext>;
  authenticator: Authenticator;
  limits: Pick<
    LimitsConfig,
    'wsMaxPayloadBytes' | 'wsInitTimeoutMs' | 'wsMaxSubscriptions' | 'wsMaxSocketsPerUser' | 'wsMaxSockets' | 'maxSubscriptionsPerUser' | 'maxSubscriptions'
  >;
  logger: Logger;
  /** Shutdown: while it drains, new operations are refused and sockets close once their queries and mutations end. */
  drain?: Drain;
  /** Origins of other web pages allowed to open sockets (src/http/cors.ts); the server's own always may. */
  corsOrigins?: readonly string[];
  /** In development mode, the interface the server listens on: on a loopback one, sockets addressed to other names are refused. */
  boundHost?: string;
  /**
   * The text an operation runs (trusted documents: the document its hash names), or the error it is refused
   * with; `params.query` when absent.
   */
  resolveQuery?: (params: { query?: unknown; extensions?: unknown }) => { query: string } | GraphQLError;
}

export interface GraphQLWsServer {
  /** Shutdown begins: sockets with no query or mutation running close now (1001), the others when theirs end. */
  drain(): void;
  /** The grace period is over: every socket is dropped. */
  terminate(): void;
  dispose(): Promise<void>;
  /** Sockets open now (process-wide) and per user. */
  readonly sockets: Cap;
  readonly userSockets: Cap;
  /** Operations running now. */
  readonly operations: Cap;
}

/** Close reasons are limited to 123 bytes by the WebSocket protocol. */
function closeReason(text: string): string {
  let reason = text;
  while (Buffer.byteLength(reason) > 123) reason = reason.slice(0, -1);
  return reason;
}

function lookup(params: Record<string, unknown> | undefined, name: string): unknown {
  if (!params) return undefined;
  if (name in params) return params[name];
  const key = Object.keys(params).find((candidate) => candidate.toLowerCase() === name);
  return key === undefined ? undefined : params[key];
}

/**
 * An error as a socket client receives it: as Yoga serializes errors for HTTP responses, without
 * `extensions.http` (how to answer over HTTP) and `extensions.unexpected` (Yoga's mark on masked errors),
 * so that both transports send the same error.
 */
function formatted(error: GraphQLError | GraphQLFormattedError): GraphQLFormattedError {
  const json = error instanceof GraphQLError ? error.toJSON() : error;
  if (!json.extensions || !('http' in json.extensions || 'unexpected' in json.extensions)) return json;
  const { http: _http, unexpected: _unexpected, ...extensions } = json.extensions;
  return { ...json, extensions };
}

/** A GraphQL error raised on purpose passes; anything else is logged and masked, as over HTTP. */
function asOperationError(error: unknown, logger: Logger, requestId?: string): GraphQLError {
  if (error instanceof GraphQLError && (!error.originalError || error.originalError instanceof GraphQLError)) return error;
  logger.error({ requestId, err: error }, 'graphql-ws operation failed outside execution');
  return new GraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}

function tooManyOperations(scope: 'socket' | 'user' | 'process', limit: number): GraphQLError {
  const where = { socket: 'on one socket', user: 'for one user', process: 'on this server' }[scope];
  return new GraphQLError(`At most ${limit} operations may run at once ${where}.`, {
    extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', scope, limit, ...(scope === 'process' ? { retryable: true } : {}) },
  });
}

export function attachGraphQLWs(server: Server, options: GraphQLWsOptions): GraphQLWsServer {
  const { yoga, authenticator, limits, logger } = options;
  const sockets = new Cap(Number.MAX_SAFE_INTEGER, limits.wsMaxSockets);
  const userSockets = new Cap(limits.wsMaxSocketsPerUser, Number.MAX_SAFE_INTEGER);
  const operations = new Cap(limits.maxSubscriptionsPerUser, limits.maxSubscriptions);
  // Ids of the queries and mutations running on each socket: a draining socket closes once they are answered.
  const running = new WeakMap<WebSocket, Set<string>>();
  const goingAway = (socket: WebSocket) => socket.close(1001, 'Going away');
  const finished = (socket: WebSocket, id: string) => {
    const ids = running.get(socket);
    ids?.delete(id);
    // After graphql-ws has sent the operation's last message (it sends it right after this hook returns).
    if (options.drain?.draining && !ids?.size) setImmediate(() => goingAway(socket));
  };
  const webSockets = new WebSocketServer({
    server,
    path: options.path,
    maxPayload: limits.wsMaxPayloadBytes,
    // ws' default, stated because it matters: compressing would cost a deflate per message and subscriber,
    // since each subscriber's message differs (its operation id), and hold a zlib context per socket.
    perMessageDeflate: false,
    // Browsers send no preflight for WebSockets: a socket opened by another page is refused at the upgrade (403).
    verifyClient: ({ origin, req }: { origin: string | undefined; req: import('node:http').IncomingMessage }) =>
      (options.boundHost === undefined || hostAllowed(req.headers.host, options.boundHost)) &&
      webSocketOriginAllowed(origin, req.headers.host, options.corsOrigins ?? []),
  });

  const disposable = serveGraphQLWs(
    {
      connectionInitWaitTimeout: limits.wsInitTimeoutMs,
      // An exception escaping here would make graphql-ws close the whole socket with 4500; it is
      // this operation's error instead.
      execute: async (args) => {
        try {
          return await (args.rootValue as { execute: typeof import('graphql').execute }).execute(args);
        } catch (error) {
          return { errors: [asOperationError(error, logger)] };
        }
      },
      subscribe: async (args) => {
        try {
          return await (args.rootValue as { subscribe: typeof import('graphql').subscribe }).subscribe(args);
        } catch (error) {
          return { errors: [asOperationError(error, logger)] };
        }
      },
      onConnect: async (ctx) => {
        const { socket } = ctx.extra;
        if (options.drain?.draining) {
          socket.close(CLOSE_SERVICE_RESTART, 'Service restart: the server is shutting down');
          return false;
        }
        ctx.extra.socketId = randomUUID();
        try {
          // A page of another (listed) origin authenticates with a bearer token, never the development headers.
          const foreign = isCrossOrigin(ctx.extra.request.headers.origin, ctx.extra.request.headers.host);
          const principal = await authenticator.authenticate((name) =>
            foreign && DEVELOPMENT_HEADERS.has(name) ? undefined : lookup(ctx.connectionParams, name),
          );
          const userSlot = userSockets.acquire(principalKey(principal.viewer));
          if (typeof userSlot === 'string') {
            logger.info({ socketId: ctx.extra.socketId, errorCodes: ['TOO_MANY_SOCKETS'] }, 'graphql-ws connection refused');
            socket.close(CLOSE_TOO_MANY_SOCKETS, closeReason(`Too many sockets: at most ${limits.wsMaxSocketsPerUser} per user`));
            return false;
          }
          ctx.extra.userSlot = userSlot;
          ctx.extra.operations = new Map();
          ctx.extra.principal = principal;
          if (principal.expiresAt !== null) {
            ctx.extra.expiryTimer = setLongTimeout(
              () => socket.close(CLOSE_FORBIDDEN, 'Forbidden: credentials expired'),
              principal.expiresAt - Date.now(),
            );
          }
          return true;
        } catch (error) {
          const authentication = error instanceof AuthenticationError;
          logger.info({ socketId: ctx.extra.socketId, errorCodes: errorCodes([error]) }, 'graphql-ws connection refused');
          if (error instanceof GraphQLError && !authentication) {
            socket.close(CLOSE_TRY_AGAIN_LATER, closeReason(error.message));
          } else {
            socket.close(CLOSE_FORBIDDEN, closeReason(`Forbidden: ${authentication ? error.message : 'authentication failed'}`));
          }
          return false;
        }
      },
      onNext: (ctx, id, _payload, _args, result) => {
        ctx.extra.outbox!.payloads.set(id, serializedPayload(result));
        return PAYLOAD_PLACEHOLDER;
      },
      onError: (ctx, id, _payload, errors) => {
        finished(ctx.extra.socket, id);
        return errors.map(formatted);
      },
      onClose: (ctx) => {
        ctx.extra.expiryTimer?.cancel();
        ctx.extra.userSlot?.();
        for (const release of ctx.extra.operations?.values() ?? []) release();
        ctx.extra.operations?.clear();
      },
      onComplete: (ctx, id) => {
        ctx.extra.operations?.get(id)?.();
        ctx.extra.operations?.delete(id);
        finished(ctx.extra.socket, id);
      },
      onSubscribe: async (ctx, id, params) => {
        if (options.drain?.draining) return [shuttingDownError()];
        // graphql-ws has already reserved this id in ctx.subscriptions.
        if (Object.keys(ctx.subscriptions).length > limits.wsMaxSubscriptions) return [tooManyOperations('socket', limits.wsMaxSubscriptions)];
        const slot = operations.acquire(principalKey(ctx.extra.principal!.viewer));
        if (typeof slot === 'string') {
          return [tooManyOperations(slot, slot === 'user' ? limits.maxSubscriptionsPerUser : limits.maxSubscriptions)];
        }
        // Given back when the operation completes (onComplete) or its socket closes (onClose), whichever is first;
        // an operation refused below is never started, so its slot goes back at once.
        ctx.extra.operations!.set(id, slot);
        const refuse = <T>(errors: T): T => {
          slot();
          ctx.extra.operations!.delete(id);
          return errors;
        };
        const requestId = `${ctx.extra.socketId ?? 'socket'}:${id.slice(0, 64)}`;
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          req: ctx.extra.socket,
          params,
          connectionParams: ctx.connectionParams ?? {},
          principal: ctx.extra.principal,
          requestId,
          outlet: ctx.extra.outbox!.outlet(id, () => id in ctx.subscriptions),
        });
        try {
          const resolved = options.resolveQuery ? options.resolveQuery(params) : { query: params.query };
          if (resolved instanceof GraphQLError) return [resolved];
          const document = parse(resolved.query);
          const errors = validate(schema, document);
          if (errors.length > 0) return refuse([...errors]);
          if (getOperationAST(document, params.operationName)?.operation !== 'subscription') {
            const ids = running.get(ctx.extra.socket) ?? new Set<string>();
            running.set(ctx.extra.socket, ids.add(id));
          }
          const args: ExecutionArgs = {
            schema,
            operationName: params.operationName,
            document,
            variableValues: params.variables,
            contextValue: await contextFactory(),
            rootValue: { execute, subscribe },
          };
          return args;
        } catch (error) {
          // Syntax errors, token limits and context failures arrive as GraphQL errors.
          return refuse([asOperationError(error, logger, requestId)]);
        }
      },
    },
    webSockets,
    sockets,
  );
  return {
    drain() {
      for (const socket of webSockets.clients) if (!running.get(socket)?.size) goingAway(socket);
    },
    terminate() {
      for (const socket of webSockets.clients) socket.terminate();
    },
    dispose: async () => disposable.dispose(),
    sockets,
    userSockets,
    operations,
  };
}
