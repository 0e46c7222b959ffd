// graphql-ws on the HTTP server's port: every option of the WebSocket transport lives here.
// - Authentication at connection_init (connectionParams `authorization: "Bearer <token>"`, or the
//   development headers in dev mode); a refused socket is closed with 4403, and a socket whose token
//   expires is closed with 4403 at that moment.
// - Limits: largest message (maxPayload, close 1009), time to send connection_init (close 4408), most
//   operations at once per socket (the extra one gets a TOO_MANY_SUBSCRIPTIONS error).
// - Every operation runs through Yoga's envelop (yoga.getEnveloped), so plugins, context, limits and
//   error masking are the same as over HTTP.
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { GraphQLError, type ExecutionArgs, type GraphQLFormattedError } from 'graphql';
import type { YogaServerInstance } from 'graphql-yoga';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { AuthenticationError } from '../auth/auth-errors.ts';
import type { Authenticator, Principal } from '../auth/authenticate.ts';
import type { LimitsConfig } from '../config.ts';
import type { GraphQLContext } from '../context.ts';
import { MAX_TIMER_MS } from '../graphql/credential-expiry.ts';
import type { Logger } from '../observability/logger.ts';
import { errorCodes } from '../observability/request-logging.ts';

/** Close code for authentication failures and expiry (graphql-ws' "Forbidden"). */
export const CLOSE_FORBIDDEN = CloseCode.Forbidden;
/** Close code when the identity provider's keys cannot be fetched: try again later. */
export const CLOSE_TRY_AGAIN_LATER = 1013;

/** What flowgraph keeps on each socket, next to graphql-ws' own `socket` and `request`. */
type SocketState = {
  principal: Principal;
  socketId: string;
  expiryTimer: NodeJS.Timeout;
};

export interface GraphQLWsOptions {
  path: string;
  yoga: YogaServerInstance<Record<string, unknown>, GraphQLContext>;
  authenticator: Authenticator;
  limits: Pick<LimitsConfig, 'wsMaxPayloadBytes' | 'wsInitTimeoutMs' | 'wsMaxSubscriptions'>;
  logger: Logger;
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

/** `extensions.http` tells Yoga how to answer over HTTP; it means nothing to a socket client. */
function formatted(error: GraphQLError | GraphQLFormattedError): GraphQLFormattedError {
  const json = error instanceof GraphQLError ? error.toJSON() : error;
  if (!json.extensions || !('http' in json.extensions)) return json;
  const { http: _http, ...extensions } = json.extensions;
  return { ...json, extensions };
}

/** A GraphQL error raised on purpose passes; anything else is logged and masked, as over HTTP. */
function asOperationError(error: unknown, logger: Logger, requestId?: string): GraphQLError {
  if (error instanceof GraphQLError && (!error.originalError || error.originalError instanceof GraphQLError)) return error;
  logger.error({ requestId, err: error }, 'graphql-ws operation failed outside execution');
  return new GraphQLError('Unexpected error.', { extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}

export function attachGraphQLWs(server: Server, options: GraphQLWsOptions): { dispose(): Promise<void> } {
  const { yoga, authenticator, limits, logger } = options;
  const webSockets = new WebSocketServer({ server, path: options.path, maxPayload: limits.wsMaxPayloadBytes });

  const disposable = useServer<Record<string, unknown>, SocketState>(
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
        ctx.extra.socketId = randomUUID();
        try {
          const principal = await authenticator.authenticate((name) => lookup(ctx.connectionParams, name));
          ctx.extra.principal = principal;
          const remaining = principal.expiresAt === null ? null : principal.expiresAt - Date.now();
          if (remaining !== null && remaining <= MAX_TIMER_MS) {
            ctx.extra.expiryTimer = setTimeout(
              () => socket.close(CLOSE_FORBIDDEN, 'Forbidden: credentials expired'),
              Math.max(0, remaining),
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
      onNext: (_ctx, _id, _payload, _args, result) => (result.errors ? { ...result, errors: result.errors.map(formatted) } : undefined),
      onError: (_ctx, _id, _payload, errors) => errors.map(formatted),
      onClose: (ctx) => {
        clearTimeout(ctx.extra.expiryTimer);
      },
      onSubscribe: async (ctx, id, params) => {
        // graphql-ws has already reserved this id in ctx.subscriptions.
        if (Object.keys(ctx.subscriptions).length > limits.wsMaxSubscriptions) {
          return [
            new GraphQLError(`At most ${limits.wsMaxSubscriptions} operations may run at once on one socket.`, {
              extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', limit: limits.wsMaxSubscriptions },
            }),
          ];
        }
        const requestId = `${ctx.extra.socketId ?? 'socket'}:${id.slice(0, 64)}`;
        const { schema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          req: ctx.extra.socket,
          params,
          connectionParams: ctx.connectionParams ?? {},
          principal: ctx.extra.principal,
          requestId,
        });
        try {
          const document = parse(params.query);
          const errors = validate(schema, document);
          if (errors.length > 0) return [...errors];
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
          return [asOperationError(error, logger, requestId)];
        }
      },
    },
    webSockets,
  );
  return { dispose: async () => disposable.dispose() };
}
