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

/**
 * Streams one user may have reserved (PUT) and not yet opened (GET). graphql-sse keeps a reserved stream until
 * it is opened and closed, so reservations never opened would otherwise pile up without bound. A client opens
 * its stream right after reserving it; more than a few waiting means something is wrong.
 */
export const MAX_UNOPENED_STREAMS = 10;

export interface GraphQLSseOptions {
  authenticator: Authenticator;
  maxBodyBytes: number;
  logger: Logger;
  /** The text an operation runs (trusted documents: the one its hash names), or the error it is refused with. */
  resolveQuery?: (params: { query?: unknown; extensions?: unknown }) => { query: string } | GraphQLError;
}

const STATUS_TEXT: Record<number, string> = {
  401: 'Unauthorized',
  403: 'Forbidden',
  429: 'Too Many Requests',
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

type FetchApi = { Request: typeof Request; Response: typeof Response; Headers: typeof Headers };

function refusedOperation(fetchAPI: FetchApi, error: GraphQLError): Response {
  const { http, ...extensions } = (error.extensions ?? {}) as { http?: { status?: number } };
  return new fetchAPI.Response(JSON.stringify({ errors: [{ message: error.message, extensions }] }), {
    status: http?.status ?? 400,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });
}

/**
 * The request with its operation's query replaced by the one `resolve` gives (a trusted document for a hash),
 * or the response refusing it. Operations come as a JSON body (POST) or in the query string (GET);
 * other requests of the protocol (reserving, opening, completing) carry none and pass unchanged.
 */
async function withResolvedQuery(
  request: Request,
  resolve: NonNullable<GraphQLSseOptions['resolveQuery']>,
  maxBodyBytes: number,
  fetchAPI: FetchApi,
): Promise<Request | Response> {
  const { Request, Headers } = fetchAPI;
  if (request.method === 'GET') {
    const url = new URL(request.url);
    if (!url.searchParams.has('query') && !url.searchParams.has('extensions')) return request;
    let extensions: unknown;
    try {
      extensions = JSON.parse(url.searchParams.get('extensions') ?? 'null');
    } catch {
      return request; // graphql-sse answers the malformed request itself
    }
    const resolved = resolve({ query: url.searchParams.get('query') ?? undefined, extensions });
    if (resolved instanceof GraphQLError) return refusedOperation(fetchAPI, resolved);
    url.searchParams.set('query', resolved.query);
    return new Request(url, { method: 'GET', headers: request.headers });
  }
  if (request.method !== 'POST') return request;
  const declared = request.headers.get('content-length');
  // Left to the authenticate hook below, which refuses it unread.
  if (declared === null || !/^\d+$/.test(declared) || Number(declared) > maxBodyBytes) return request;
  const text = await request.text();
  const rebuilt = (body: string) => new Request(request.url, { method: 'POST', headers: request.headers, body });
  let params: unknown;
  try {
    params = JSON.parse(text);
  } catch {
    return rebuilt(text);
  }
  if (!params || typeof params !== 'object' || Array.isArray(params)) return rebuilt(text);
  const resolved = resolve(params as { query?: unknown; extensions?: unknown });
  if (resolved instanceof GraphQLError) return refusedOperation(fetchAPI, resolved);
  const body = JSON.stringify({ ...params, query: resolved.query });
  const headers = new Headers(request.headers);
  headers.set('content-length', String(Buffer.byteLength(body)));
  return new Request(request.url, { method: 'POST', headers, body });
}

export function useGraphQLSseProtocol({ authenticator, maxBodyBytes, logger, resolveQuery }: GraphQLSseOptions): Plugin {
  // Reserved streams not opened yet: who reserved each (only they may open it), and how many each user has.
  const reservedBy = new Map<string, string>();
  const unopened = new Map<string, number>();
  const protocol = useGraphQLSSE({
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
      let user: string;
      try {
        const { viewer } = await authenticator.authenticate((name) => request.headers.get(name) ?? undefined);
        user = JSON.stringify([viewer.clientAccountId, viewer.engagementId, viewer.userId]);
      } catch (error) {
        return refusal(error, logger);
      }
      if (request.method === 'PUT') {
        // A reservation always gets a fresh token of the server's choosing.
        const count = unopened.get(user) ?? 0;
        if (count >= MAX_UNOPENED_STREAMS) {
          return errorResponse(429, {
            message: `At most ${MAX_UNOPENED_STREAMS} event streams may be reserved and not yet opened; open or drop one first.`,
            extensions: { code: 'TOO_MANY_STREAMS', limit: MAX_UNOPENED_STREAMS },
          });
        }
        const token = randomUUID();
        reservedBy.set(token, user);
        unopened.set(user, count + 1);
        return token;
      }
      const token = request.headers.get(TOKEN_HEADER_KEY) || new URL(request.url, 'http://localhost/').searchParams.get(TOKEN_QUERY_KEY);
      const owner = token ? reservedBy.get(token) : undefined;
      if (token && owner !== undefined && request.method === 'GET' && request.headers.get('accept') === 'text/event-stream') {
        if (owner !== user) {
          return errorResponse(403, { message: 'This event stream was reserved by someone else.', extensions: { code: 'FORBIDDEN' } });
        }
        reservedBy.delete(token);
        const left = (unopened.get(user) ?? 1) - 1;
        if (left > 0) unopened.set(user, left);
        else unopened.delete(user);
      }
      return token || randomUUID();
    },
  }) as Plugin;
  if (!resolveQuery) return protocol;
  return {
    ...protocol,
    onRequest(payload) {
      if (!payload.url.pathname.endsWith(GRAPHQL_SSE_PATH)) return;
      return withResolvedQuery(payload.request, resolveQuery, maxBodyBytes, payload.fetchAPI).then((request) => {
        if (request instanceof payload.fetchAPI.Response) return payload.endResponse(request as Response);
        return protocol.onRequest!({ ...payload, request });
      });
    },
  };
}
