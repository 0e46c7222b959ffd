// Which web pages may use the API from a browser. By default none but the server's own (the dashboard and
// GraphiQL, which are same-origin and need no CORS): Yoga's default would reflect every origin and every
// requested header, so any page a developer visits could read and write the tenants of a development server
// through the development headers. FLOWGRAPH_CORS_ORIGINS lists the origins of other frontends; they get
// CORS for bearer tokens only, never for the development headers (src/http/viewer.ts).
import type { YogaServerOptions } from 'graphql-yoga';
import { AUTHORIZATION } from '../auth/authenticate.ts';
import { REQUEST_ID_HEADER } from '../observability/request-logging.ts';
import { ROLES_HEADER, VIEWER_HEADERS } from './viewer.ts';

/** Headers a listed origin may send: what a frontend with a bearer token needs, and nothing else. */
const ALLOWED_HEADERS = ['content-type', 'accept', AUTHORIZATION, REQUEST_ID_HEADER, 'x-graphql-yoga-csrf'];

type CorsOption = NonNullable<YogaServerOptions<Record<string, unknown>, Record<string, unknown>>['cors']>;

/** Yoga's `cors` option: headers for the listed origins only; other origins get none (the browser refuses). */
export function corsPolicy(origins: readonly string[]): CorsOption {
  if (origins.length === 0) return false;
  const listed = new Set(origins);
  return ((request: Request) => {
    const origin = request.headers.get('origin');
    if (origin === null || !listed.has(origin)) return false;
    return {
      origin: [origin],
      methods: ['GET', 'POST'],
      allowedHeaders: ALLOWED_HEADERS,
      exposedHeaders: [REQUEST_ID_HEADER],
      // Bearer tokens travel in a header; no cookie is ever read, so credentials mode is not needed.
      credentials: false,
      maxAge: 600,
    };
  }) as unknown as CorsOption;
}

/**
 * Whether a WebSocket upgrade may proceed: browsers send no CORS preflight for WebSockets, only the page's
 * Origin, so a socket from another page is refused here. Clients outside browsers send no Origin.
 */
export function webSocketOriginAllowed(origin: string | undefined, host: string | undefined, origins: readonly string[]): boolean {
  return !isCrossOrigin(origin, host) || (origin !== undefined && origins.includes(origin));
}

/** Whether a request comes from a browser page of another origin than the server's (by its Origin and Host). */
export function isCrossOrigin(origin: string | undefined, host: string | undefined): boolean {
  if (origin === undefined || origin === '') return false;
  try {
    return host === undefined || new URL(origin).host !== host.toLowerCase();
  } catch {
    return true;
  }
}

/** The development headers (and roles), which no page of another origin may use. */
export const DEVELOPMENT_HEADERS: ReadonlySet<string> = new Set([...Object.values(VIEWER_HEADERS), ROLES_HEADER]);

/** Whether an address or host name names this machine only (IPv4 127/8, IPv6 ::1, localhost and *.localhost). */
export function isLoopbackName(name: string): boolean {
  const bare = name.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  return bare === 'localhost' || bare.endsWith('.localhost') || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare);
}

/**
 * Whether a request may be answered, by its Host header, by a server listening on `boundHost`. A server that
 * listens on this machine only can be reached by no other, but a web page can still reach it by DNS rebinding:
 * a name of the attacker's that resolves to 127.0.0.1 makes the page and the server one origin to the browser,
 * and CORS no longer applies. In development mode (whose headers need no proof) such a server answers requests
 * addressed to a loopback name only (as Vite's and webpack's development servers do); a server on another
 * interface (HOST set) answers any name.
 */
export function hostAllowed(host: string | undefined, boundHost: string): boolean {
  if (!isLoopbackName(boundHost)) return true;
  if (host === undefined) return false;
  const name = host.replace(/:\d+$/, '');
  return isLoopbackName(name);
}
