// Serves the dashboard (dashboard/dist, built by `npm run build:dashboard` on install) at /dashboard, and,
// when the server hands out development credentials, the session the dashboard signs in with.
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import sirv from 'sirv';

export const DASHBOARD_PATH = '/dashboard';

const DIST = fileURLToPath(new URL('../../dashboard/dist', import.meta.url));

export interface DashboardSession {
  headers: Record<string, string>;
  label: string;
}

/**
 * The dashboard is the bundle Vite builds and nothing else: its own script and stylesheet, the GraphQL API
 * (fetch, and graphql-ws on the same origin; CSP's 'self' covers ws: and wss: there), no inline code, and no
 * page of another site may frame it (clickjacking its delete button). X-Frame-Options for older browsers.
 */
export const DASHBOARD_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "connect-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "manifest-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; '),
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** Returns a request handler for /dashboard/*, or null for other paths. */
export function dashboardHandler(devSession: () => DashboardSession | null) {
  const assets = existsSync(DIST) ? sirv(DIST, { etag: true, gzip: false, single: false }) : null;
  return (request: IncomingMessage, response: ServerResponse): boolean => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== DASHBOARD_PATH && !url.pathname.startsWith(`${DASHBOARD_PATH}/`)) return false;
    for (const [name, value] of Object.entries(DASHBOARD_SECURITY_HEADERS)) response.setHeader(name, value);
    if (url.pathname === DASHBOARD_PATH) {
      response.writeHead(308, { location: `${DASHBOARD_PATH}/` }).end();
      return true;
    }
    if (url.pathname === `${DASHBOARD_PATH}/session.json`) {
      const session = devSession();
      response.writeHead(session ? 200 : 404, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      response.end(JSON.stringify(session ?? { error: 'no development session: sign in with a token' }));
      return true;
    }
    if (!assets) {
      response.writeHead(503, { 'content-type': 'text/plain' }).end('The dashboard is not built: run `npm run build:dashboard`.');
      return true;
    }
    request.url = url.pathname.slice(DASHBOARD_PATH.length) + url.search;
    assets(request, response, () => {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    });
    return true;
  };
}
