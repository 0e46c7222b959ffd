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

/** Returns a request handler for /dashboard/*, or null for other paths. */
export function dashboardHandler(devSession: () => DashboardSession | null) {
  const assets = existsSync(DIST) ? sirv(DIST, { etag: true, gzip: false, single: false }) : null;
  return (request: IncomingMessage, response: ServerResponse): boolean => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (url.pathname !== DASHBOARD_PATH && !url.pathname.startsWith(`${DASHBOARD_PATH}/`)) return false;
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
