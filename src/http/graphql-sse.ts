// The GraphQL over SSE protocol (graphql-sse) at /graphql/stream, in both of its modes, by Yoga's GraphQL-SSE
// plugin: "distinct connections" (one POST or GET per operation, its events in the response) and "single
// connection" (PUT reserves a stream token, GET opens the one event stream, POST runs operations on it,
// DELETE completes one). POST /graphql with `accept: text/event-stream` stays as it was (Yoga's own SSE,
// the same distinct-connections protocol).
//
// Operations run through Yoga's envelop like every other transport (same plugins, context, limits, error
// masking); the context authenticates each operation's own request. This file adds what the plugin leaves
// to its user, since these requests never reach Yoga's request parsing: every request (the reservation and
// the event stream too) must carry valid credentials, stream tokens are random UUIDs from node:crypto (the
// plugin's default uses Math.random), and a body must declare its length within the body limit.
import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { TOKEN_HEADER_KEY, TOKEN_QUERY_KEY, type Response as SseResponse } from 'graphql-sse';
import { useGraphQLSSE } from '@graphql-yoga/plugin-graphql-sse';
import type { Authenticator } from '../auth/authenticate.ts';
import type { Logger } from '../observability/logger.ts';

export const GRAPHQL_SSE_PATH = '/graphql/stream';

export interface GraphQLSseOptions {
  authenticator: Authenticator;
  maxBodyBytes: number;
  logger: Logger;
}

const STATUS_TEXT: Record<number, string> = {
  401: 'Unauthorized',
  411: 'Length Required',
  413: 'Payload Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** graphql-sse's response: a [body, init] pair. */
function errorResponse(status: number, error: { message: string; extensions?: Record<string, unknown> }, headers: Record<string, string> = {}): SseResponse {
  return [
    JSON.stringify({ errors: [error] }),
    { status, statusText: STATUS_TEXT[status] ?? 'Error', headers: { 'content-type': 'application/json; charset=utf-8', ...headers } },
  ];
}

/** An authentication failure as Yoga answers one over HTTP: its status, headers and code, nothing else. */
function refusal(error: unknown, logger: Logger): SseResponse {
  if (error instanceof GraphQLError) {
    const { http, ...extensions } = (error.extensions ?? {}) as { http?: { status?: number; headers?: Record<string, string> } };
    return errorResponse(http?.status ?? 401, { message: error.message, extensions }, http?.headers);
  }
  logger.error({ err: error }, 'graphql-sse authentication failed unexpectedly');
  return errorResponse(500, { message: 'Unexpected error.', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
}

export function useGraphQLSseProtocol({ authenticator, maxBodyBytes, logger }: GraphQLSseOptions): Plugin {
  return useGraphQLSSE({
    endpoint: GRAPHQL_SSE_PATH,
    // Runs first for every request of the protocol. A string is the request's stream token (single
    // connection mode when a reserved stream has it); a Response ends the request.
    authenticate: async (request) => {
      const declared = request.headers.get('content-length') ?? null;
      if (declared === null ? Boolean(request.headers.get('transfer-encoding')) : !/^\d+$/.test(declared) || Number(declared) > maxBodyBytes) {
        // graphql-sse reads a body whole; only a declared length can be refused before it is read.
        const status = declared === null ? 411 : 413;
        const message = declared === null ? 'A request body needs a Content-Length.' : `The request body is larger than ${maxBodyBytes} bytes.`;
        return errorResponse(status, { message, extensions: { code: declared === null ? 'BAD_REQUEST' : 'REQUEST_ENTITY_TOO_LARGE' } });
      }
      try {
        await authenticator.authenticate((name) => request.headers.get(name) ?? undefined);
      } catch (error) {
        return refusal(error, logger);
      }
      const token = request.headers.get(TOKEN_HEADER_KEY) || new URL(request.url, 'http://localhost/').searchParams.get(TOKEN_QUERY_KEY);
      return token || randomUUID();
    },
  }) as Plugin;
}
