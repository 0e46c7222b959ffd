// Development mode is for this machine only. A server in development mode (as `npm start` runs it) listens on
// 127.0.0.1 unless HOST says otherwise, and a web page of another origin, in a real Chromium, can neither read
// nor write its tenants: not with fetch and the development headers, not with the printed token, not over a
// WebSocket. The dashboard, on the server's own origin, still works, live. Origins listed in
// FLOWGRAPH_CORS_ORIGINS may call the API with a bearer token, never with the development headers.
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/app.ts';
import { mintDevToken } from '../../src/auth/dev-token.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { DEMO_VIEWER, seedDemoTenant } from '../../src/services/demo-seed.ts';
import { TEST_AUTH } from '../support/auth.ts';
import { testAppConfig } from '../support/graphql.ts';
import { resetDatabase, testDatabase } from '../support/test-database.ts';
import { hasChromium, launchBrowser } from '../support/browser.ts';
import { startServer, type ServerProcess } from '../support/server-process.ts';

const DEV_HEADERS = {
  'x-client-account-id': DEMO_VIEWER.clientAccountId,
  'x-engagement-id': DEMO_VIEWER.engagementId,
  'x-user-id': DEMO_VIEWER.userId,
};

/** What a page of another origin tries; each attempt reports what it could read, or its error. */
async function attack(page: Page, api: string, token: string) {
  return page.evaluate(
    async ({ api, token, devHeaders }) => {
      const post = async (headers: Record<string, string>, query: string) => {
        try {
          const response = await fetch(`${api}/graphql`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...headers },
            body: JSON.stringify({ query }),
          });
          return { read: await response.text() };
        } catch (error) {
          return { error: String(error) };
        }
      };
      const socket = (payload: Record<string, string>) =>
        new Promise<{ read?: string; error?: string }>((resolve) => {
          const ws = new WebSocket(`${api.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
          ws.onopen = () => ws.send(JSON.stringify({ type: 'connection_init', payload }));
          ws.onmessage = (message) => {
            const frame = JSON.parse(String(message.data)) as { type: string };
            if (frame.type === 'connection_ack') {
              ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: '{ masterFlows { totalCount } }' } }));
            } else {
              resolve({ read: String(message.data) });
              ws.close();
            }
          };
          ws.onclose = (event) => resolve({ error: `closed ${event.code}` });
          ws.onerror = () => resolve({ error: 'socket refused' });
        });
      const flowsQuery = '{ masterFlows { totalCount edges { node { flowId flowName } } } }';
      return {
        readWithDevHeaders: await post(devHeaders, flowsQuery),
        readWithToken: await post({ authorization: `Bearer ${token}` }, flowsQuery),
        writeWithDevHeaders: await post(
          devHeaders,
          'mutation { storeImport(input: { rows: [{ hostname: "evil" }], filename: "evil.json", importType: "servers" }) { __typename } }',
        ),
        socketWithDevHeaders: await socket(devHeaders),
        socketWithToken: await socket({ authorization: `Bearer ${token}` }),
      };
    },
    { api, token, devHeaders: DEV_HEADERS },
  );
}

/** A page on an origin of its own (another port of this machine), where the attack runs. */
async function otherOrigin(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>another site</title><p>hello</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://localhost:${(server.address() as AddressInfo).port}` };
}

function tokenOf(server: ServerProcess): string {
  const match = /authorization: Bearer (\S+)/.exec(server.output());
  if (!match) throw new Error(`no development token printed:\n${server.output()}`);
  return match[1]!;
}

async function flowCount(server: { url: string }): Promise<number> {
  // From Node, not a browser: no Origin, the development headers work as always.
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...DEV_HEADERS },
    body: JSON.stringify({ query: '{ masterFlows { totalCount } }' }),
  });
  return ((await response.json()) as { data: { masterFlows: { totalCount: number } } }).data.masterFlows.totalCount;
}

/** Whether a TCP connection to host:port is accepted. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function devServer(env: Record<string, string | undefined> = {}): Promise<ServerProcess> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flowgraph-cross-origin-'));
  // HOST undefined: the default of development mode, not the 127.0.0.1 test servers are given.
  return startServer({ FLOWGRAPH_DATA_DIR: dataDir, FLOWGRAPH_SEED: '1', DATABASE_URL: '', FLOWGRAPH_AUTH: 'dev', HOST: undefined, ...env });
}

/**
 * The same server in this process, in development mode on 0.0.0.0 with `origins` listed: what it allows does not
 * depend on a process, and a second process would double the start-up time of this file.
 */
async function listedApp(origins: string[]): Promise<{ app: App; url: string; port: number; token: string }> {
  const database = await testDatabase();
  await resetDatabase(database);
  await seedDemoTenant(database.prisma);
  const auth = { ...TEST_AUTH, mode: 'dev' as const };
  const token = await mintDevToken(auth, DEMO_VIEWER);
  const app = buildApp(testAppConfig({ auth, host: '0.0.0.0', corsOrigins: origins }), database, { logger: createLogger('silent'), devToken: token });
  const port = await app.start();
  return { app, url: `http://127.0.0.1:${port}`, port, token };
}

describe.runIf(hasChromium)('development mode and other origins', () => {
  let server: ServerProcess;
  let listed: Awaited<ReturnType<typeof listedApp>>;
  let site: { server: Server; origin: string };
  let browser: Browser;

  beforeAll(async () => {
    site = await otherOrigin();
    [server, listed] = await Promise.all([devServer(), listedApp([site.origin])]);
    browser = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop('SIGKILL');
    await listed?.app.stop();
    await new Promise((resolve) => site?.server.close(resolve));
  });

  it('listens on 127.0.0.1 only, unless HOST is set', async () => {
    // Linux routes all of 127.0.0.0/8 to the loopback interface: a server on 0.0.0.0 accepts on 127.0.0.2 too.
    expect(await accepts('127.0.0.1', server.port)).toBe(true);
    expect(await accepts('127.0.0.2', server.port)).toBe(false);
    expect(server.output()).toMatch(/listening at http:\/\/localhost:\d+\/graphql on 127\.0\.0\.1/);
    // Bound to 0.0.0.0 (HOST=0.0.0.0; src/config.ts and test/config.test.ts map the variable), it does.
    expect(await accepts('127.0.0.2', listed.port)).toBe(true);
  });

  it('lets a page of another origin neither read nor write, nor open a socket', async () => {
    const before = await flowCount(server);
    expect(before).toBe(3);
    const page = await browser.newPage();
    await page.goto(site.origin);
    const result = await attack(page, server.url, tokenOf(server));
    expect(result.readWithDevHeaders).toEqual({ error: expect.stringContaining('Failed to fetch') });
    expect(result.readWithToken).toEqual({ error: expect.stringContaining('Failed to fetch') });
    expect(result.writeWithDevHeaders).toEqual({ error: expect.stringContaining('Failed to fetch') });
    expect(result.socketWithDevHeaders).toEqual({ error: 'socket refused' });
    expect(result.socketWithToken).toEqual({ error: 'socket refused' });
    // The preflighted write never ran.
    expect(await flowCount(server)).toBe(before);
    await page.close();
  });

  it('lets a listed origin call the API with a bearer token, never with the development headers', async () => {
    const before = await flowCount(listed);
    const page = await browser.newPage();
    await page.goto(site.origin);
    const result = await attack(page, listed.url, listed.token);
    expect(result.readWithToken.read).toContain('"totalCount":3');
    expect(result.readWithDevHeaders).toEqual({ error: expect.stringContaining('Failed to fetch') });
    expect(result.writeWithDevHeaders).toEqual({ error: expect.stringContaining('Failed to fetch') });
    // A listed origin may open a socket, with a token only.
    expect(result.socketWithToken.read).toContain('"totalCount":3');
    expect(result.socketWithDevHeaders).toEqual({ error: 'closed 4403' });
    expect(await flowCount(listed)).toBe(before);
    await page.close();
  });

  it('serves the dashboard on its own origin, live, under a Content-Security-Policy that refuses inline code', async () => {
    const page = await browser.newPage();
    const violations: string[] = [];
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    const response = await page.goto(`${server.url}/dashboard/`);
    expect(response!.headers()['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(response!.headers()['x-frame-options']).toBe('DENY');
    await page.locator('#connection[data-state=live]').waitFor();
    await page.locator('[data-testid=flows-table] tbody tr').first().waitFor();
    expect(await page.locator('[data-testid=flows-table] tbody tr').count()).toBe(3);
    // The dashboard itself needs nothing the policy refuses …
    expect(violations).toEqual([]);
    // … and an injected inline script does not run.
    await expect(page.addScriptTag({ content: 'window.injected = true;' })).rejects.toThrow();
    expect(await page.evaluate(() => (window as { injected?: boolean }).injected)).toBeUndefined();
    await page.close();
  });

  it('answers no page that reaches it through a name of its own (DNS rebinding), over HTTP or WebSocket', async () => {
    // A name of the attacker's that resolves to this machine: to the browser, page and server are one origin.
    const rebinding = await launchBrowser(['--host-resolver-rules=MAP rebound.test 127.0.0.1']);
    try {
      const page = await rebinding.newPage();
      const response = await page.goto(`http://rebound.test:${server.port}/dashboard/`);
      expect(response!.status()).toBe(403);
      const sameOrigin = await page.evaluate(async (devHeaders) => {
        const answer = await fetch('/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...devHeaders },
          body: JSON.stringify({ query: '{ masterFlows { totalCount } }' }),
        });
        const socket = await new Promise<string>((resolve) => {
          const ws = new WebSocket(`ws://${location.host}/graphql`, 'graphql-transport-ws');
          ws.onopen = () => resolve('open');
          ws.onerror = () => resolve('refused');
        });
        return { status: answer.status, body: await answer.text(), socket };
      }, DEV_HEADERS);
      expect(sameOrigin).toEqual({ status: 403, body: expect.not.stringContaining('totalCount'), socket: 'refused' });
      // The names of this machine still work.
      expect((await page.goto(`http://localhost:${server.port}/dashboard/`))!.status()).toBe(200);
    } finally {
      await rebinding.close();
    }
  });

  it('cannot be framed by a page of another origin', async () => {
    const page = await browser.newPage();
    await page.goto(site.origin);
    await page.evaluate((src) => {
      const frame = document.createElement('iframe');
      frame.src = src;
      document.body.append(frame);
      return new Promise((resolve) => frame.addEventListener('load', resolve));
    }, `${server.url}/dashboard/`);
    const framed = page.frames().find((frame) => frame !== page.mainFrame())!;
    // Chromium shows its own error page in place of a frame the site refuses.
    expect(framed.url()).not.toContain('/dashboard/');
    expect(await framed.locator('[data-testid=flows-table]').count()).toBe(0);
    await page.close();
  });
});
