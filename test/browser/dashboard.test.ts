// The dashboard in a real browser against a real server process with the demo tenant: what an operator
// reads (flows named by their files, an overview chart, invalid rows with their values and messages), the
// URL keeping view, filters and page, a phone's width, and signing in and out with bearer tokens.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../src/auth/dev-token.ts';
import { DEMO_VIEWER } from '../../src/services/demo-seed.ts';
import { ARTIFACTS, hasChromium, launchBrowser } from '../support/browser.ts';
import { viewerHeaders } from '../support/graphql.ts';
import { freePort, startServer, type ServerProcess } from '../support/server-process.ts';
import { uploadFile } from '../support/upload.ts';

async function api<T>(server: ServerProcess, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...viewerHeaders(DEMO_VIEWER) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data?: T; errors?: unknown };
  if (body.errors || !body.data) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

const STORE = `mutation($input: StoreImportInput!) { storeImport(input: $input) { __typename ... on MasterFlow { flowId } ... on Error { message } } }`;
type Stored = { storeImport: { __typename: string; flowId?: string; message?: string } };

/** Page-level problems a user would see in the console: failed requests (a favicon 404), errors. */
function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on('response', (response) => response.status() >= 400 && problems.push(`HTTP ${response.status()} ${response.url()}`));
  page.on('console', (message) => message.type() === 'error' && problems.push(`console: ${message.text()}`));
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  return problems;
}

const noSidewaysScroll = (page: Page) =>
  page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, viewport: window.innerWidth }));

describe.runIf(hasChromium)('the dashboard', () => {
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;
  let problems: string[];
  let env: Record<string, string>;
  const rows = () => page.locator('[data-testid=flows-table] tbody tr');

  beforeAll(async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flowgraph-dashboard-'));
    // Development mode, as `npm start` runs: the dashboard signs in with the dev token it is handed.
    env = { FLOWGRAPH_DATA_DIR: dataDir, FLOWGRAPH_SEED: '1', DATABASE_URL: '', FLOWGRAPH_AUTH: 'dev', PORT: String(await freePort()) };
    server = await startServer(env);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    problems = watchProblems(page);
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop('SIGKILL');
  });

  it('shows the seeded flows in the table, named by their files, with the overview chart', async () => {
    await page.goto(`${server.url}/dashboard/`);
    await rows().first().waitFor();
    expect(await rows().count()).toBe(3);
    const text = await page.locator('[data-testid=flows-table]').innerText();
    expect(text).toContain('Wave 1 assessment');
    expect(text).toMatch(/paused/);
    expect(text).toMatch(/field mapping/);
    // The imports' flows carry the generated name `Discovery Import <uuid>`: they are called by file and type.
    expect(text).not.toContain('Discovery Import');
    expect(await page.locator('[data-testid=flow-title]').allInnerTexts()).toEqual(
      expect.arrayContaining(['Wave 1 assessment', 'servers-dc1.csv (servers)', 'servers-dc2.csv (servers)']),
    );
    expect(await page.locator('[data-testid=flow-file]').allInnerTexts()).toEqual(expect.arrayContaining(['servers-dc1.csv', 'servers-dc2.csv', '—']));

    // The chart's bars are the server's counts.
    await page.locator('[data-testid=chart-status] [data-key=RUNNING]').waitFor();
    const stats = await api<{ flowStatistics: { byStatus: { status: string; count: number }[]; byPhase: { phase: string; count: number }[] } }>(
      server,
      '{ flowStatistics { byStatus { status count } byPhase { phase count } } }',
    );
    for (const { status, count } of stats.flowStatistics.byStatus) {
      expect(await page.locator(`[data-testid=chart-status] [data-key=${status}]`).getAttribute('data-count')).toBe(String(count));
    }
    for (const { phase, count } of stats.flowStatistics.byPhase) {
      expect(await page.locator(`[data-testid=chart-phase] [data-key=${phase}]`).getAttribute('data-count')).toBe(String(count));
    }
    expect(await page.locator('[data-testid=chart-status] figcaption').innerText()).toMatch(/3 flows by status/i);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-table.png'), fullPage: true });
  });

  it('keeps the status filter in the URL: a reload keeps it, back and forward move through it', async () => {
    await page.locator('input[name=status][value=PAUSED]').check();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=flows-table] tbody tr').length === 1);
    expect(await page.locator('[data-testid=status]').allInnerTexts()).toEqual(['paused']);
    expect(new URL(page.url()).hash).toBe('#/?status=PAUSED');

    await page.reload();
    await rows().first().waitFor();
    expect(await rows().count()).toBe(1);
    expect(await page.locator('input[name=status][value=PAUSED]').isChecked()).toBe(true);

    await page.goBack();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=flows-table] tbody tr').length === 3);
    expect(await page.locator('input[name=status][value=PAUSED]').isChecked()).toBe(false);
    await page.goForward();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=flows-table] tbody tr').length === 1);

    // A bar of the chart filters by its status.
    await page.goto(`${server.url}/dashboard/#/`);
    await rows().first().waitFor();
    await page.locator('[data-testid=chart-status] [data-key=RUNNING]').click();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=flows-table] tbody tr').length === 1);
    expect(new URL(page.url()).hash).toBe('#/?status=RUNNING');
    expect(await page.locator('[data-testid=status]').allInnerTexts()).toEqual(['running']);
  });

  it('opens a flow\'s detail view with its graph, phases and raw records; the record filter is in the URL', async () => {
    await page.goto(`${server.url}/dashboard/#/?status=RUNNING`);
    await page.locator('[data-testid=flows-table] tbody tr', { hasText: 'servers-dc1.csv' }).click();
    await page.locator('[data-testid=records-table]').waitFor();
    expect(await page.locator('[data-testid=flow-name]').innerText()).toBe('servers-dc1.csv (servers)');
    expect(await page.locator('[data-testid=flow-files]').innerText()).toBe('servers-dc1.csv (servers)');
    expect(await page.locator('svg.diagram .node').count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator('[data-testid=records-table] tbody tr').count()).toBe(8);
    await page.getByLabel('invalid').check();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=records-table] tbody tr').length === 1);
    expect(new URL(page.url()).hash).toMatch(/^#\/flows\/[0-9a-f-]{36}\?records=invalid$/);
    await page.reload();
    await page.locator('[data-testid=records-table]').waitFor();
    expect(await page.locator('[data-testid=records-table] tbody tr').count()).toBe(1);
    expect(await page.getByLabel('invalid').isChecked()).toBe(true);
    expect(await page.locator('[data-testid=row-errors]').innerText()).toBe('hostname is empty');
    await page.getByLabel('all').check();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=records-table] tbody tr').length === 8);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-detail.png'), fullPage: true });
  });

  it('shows an invalid row\'s values and readable messages, not JSON', async () => {
    const csv = 'hostname,os\nweb-9.example,Debian 12\ndb-9.example\n,\nextra.example,RHEL 9,surplus\n';
    const uploaded = await uploadFile<Stored, Record<string, unknown>>({
      url: server.url,
      viewer: DEMO_VIEWER,
      document: STORE,
      variables: { input: { file: null, filename: 'ragged.csv', importType: 'servers' } },
      file: { name: 'ragged.csv', type: 'text/csv', content: csv },
    });
    const flowId = uploaded.data!.storeImport.flowId!;
    await page.goto(`${server.url}/dashboard/#/flows/${flowId}?records=invalid`);
    const invalid = page.locator('[data-testid=records-table] tbody tr');
    await invalid.first().waitFor();
    expect(await invalid.count()).toBe(3);
    const row = (number: number) => page.locator(`[data-testid=records-table] tbody tr[data-row="${number}"]`);
    // A row with too few or too many fields: its fields as they are, and the server's sentence.
    expect(await row(2).locator('.row-values .value').allInnerTexts()).toEqual(['db-9.example']);
    expect(await row(2).locator('[data-testid=row-errors]').innerText()).toBe('The row has 1 field; the header has 2.');
    expect(await row(4).locator('.row-values .value').allInnerTexts()).toEqual(['extra.example', 'RHEL 9', 'surplus']);
    expect(await row(4).locator('[data-testid=row-errors]').innerText()).toBe('The row has 3 fields; the header has 2.');
    expect(await row(3).locator('[data-testid=row-errors]').innerText()).toBe('The row is empty.');
    expect(await row(3).locator('[data-testid=row-errors] li').getAttribute('title')).toBe('EMPTY_ROW');
    const table = await page.locator('[data-testid=records-table]').innerText();
    expect(table).not.toContain('"code"');
    expect(table).not.toContain('[');
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-invalid-rows.png'), fullPage: true });
  });

  it('fits a 390 px phone: no sideways scroll on the table or a flow', async () => {
    const phone = await browser.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const phoneProblems = watchProblems(phone);
    await phone.goto(`${server.url}/dashboard/`);
    await phone.locator('[data-testid=flows-table] tbody tr').first().waitFor();
    await phone.locator('[data-testid=chart-status]').waitFor();
    expect(await noSidewaysScroll(phone)).toEqual({ scroll: 390, viewport: 390 });
    // Each flow is a card: its values beside their column titles.
    const card = phone.locator('[data-testid=flows-table] tbody tr').first();
    expect(await card.locator('td').first().evaluate((cell) => getComputedStyle(cell, '::before').content)).toBe('"Name"');
    await phone.screenshot({ path: path.join(ARTIFACTS, 'dashboard-phone.png'), fullPage: false });

    await phone.locator('[data-testid=flows-table] tbody tr', { hasText: 'servers-dc1.csv' }).click();
    await phone.locator('[data-testid=records-table]').waitFor();
    expect(await noSidewaysScroll(phone)).toEqual({ scroll: 390, viewport: 390 });
    expect(phoneProblems).toEqual([]);
    await phone.close();
  });

  it('keeps the page in the URL across a reload and the back and forward buttons', async () => {
    // 30 more flows (34 in all): two pages of 25.
    for (let index = 1; index <= 30; index += 1) {
      const stored = await api<Stored>(server, STORE, {
        input: { rows: [{ hostname: `host-${index}.example` }], filename: `inventory-${String(index).padStart(2, '0')}.json`, importType: 'cmdb' },
      });
      expect(stored.storeImport.__typename).toBe('MasterFlow');
    }
    await page.goto(`${server.url}/dashboard/#/`);
    await page.locator('[data-testid=page]', { hasText: 'of 34 flows' }).waitFor();
    expect(await rows().count()).toBe(25);
    expect(await page.locator('[data-testid=page]').innerText()).toBe('Page 1 · 1–25 of 34 flows');
    // Newest first: the last import is on top, called by its file.
    expect(await rows().first().locator('[data-testid=flow-title]').innerText()).toBe('inventory-30.json (cmdb)');

    await page.locator('[data-action=next-page]').click();
    await page.locator('[data-testid=page]', { hasText: 'Page 2' }).waitFor();
    expect(await page.locator('[data-testid=page]').innerText()).toBe('Page 2 · 26–34 of 34 flows');
    expect(new URL(page.url()).hash).toMatch(/^#\/\?page=2&after=/);
    const secondPage = await page.locator('[data-testid=flow-title]').allInnerTexts();

    await page.reload();
    await page.locator('[data-testid=page]', { hasText: 'Page 2' }).waitFor();
    expect(await page.locator('[data-testid=flow-title]').allInnerTexts()).toEqual(secondPage);

    await page.goBack();
    await page.locator('[data-testid=page]', { hasText: 'Page 1' }).waitFor();
    expect(await rows().count()).toBe(25);
    await page.goForward();
    await page.locator('[data-testid=page]', { hasText: 'Page 2' }).waitFor();
    await page.locator('[data-action=previous-page]').click();
    await page.locator('[data-testid=page]', { hasText: 'Page 1' }).waitFor();
    expect(new URL(page.url()).hash).toBe('#/');
  });

  it('has a favicon, and no page logged a failed request or an error', async () => {
    const icon = await fetch(`${server.url}/dashboard/favicon.svg`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(await page.locator('link[rel=icon]').getAttribute('href')).toMatch(/favicon\.svg$/);
    expect(problems).toEqual([]);
  });

  it('signs out, stays signed out over a reload, and signs in again with the development session', async () => {
    await page.goto(`${server.url}/dashboard/`);
    await rows().first().waitFor();
    await page.locator('#sign-out').click();
    await page.locator('[data-testid=sign-in]').waitFor();
    expect(await page.locator('#connection').innerText()).toBe('signed out');
    await page.reload();
    await page.locator('[data-testid=sign-in]').waitFor();
    expect(await page.locator('#sign-out').isHidden()).toBe(true);
    await page.locator('[data-action=dev-session]').click();
    await rows().first().waitFor();
    await page.locator('#connection[data-state=live]').waitFor();
  });

  it('takes the new development session by itself when the server restarts with another secret', async () => {
    // `npm start` without FLOWGRAPH_JWT_SECRET signs with a new random secret at every start.
    expect(await server.stop('SIGTERM')).toBe(0);
    await page.locator('#connection[data-state=reconnecting]').waitFor();
    server = await startServer({ ...env, FLOWGRAPH_JWT_SECRET: 'another-development-secret-of-32-bytes-or-more' });
    await page.locator('#connection[data-state=live]').waitFor({ timeout: 30_000 });
    await rows().first().waitFor();
    expect(await page.locator('[data-testid=sign-in]').count()).toBe(0);
    expect(await page.evaluate(() => sessionStorage.getItem('flowgraph.dev-session-retry'))).toBeNull();
    expect(await page.locator('#tenant').innerText()).toMatch(/demo tenant/);
  });
});

describe.runIf(hasChromium)('the dashboard behind token authentication', () => {
  const secret = 'a-test-secret-that-is-at-least-32-bytes-long';
  const auth = { mode: 'jwt', jwtSecret: secret, jwksUrl: undefined, issuer: 'tests', audience: 'flowgraph', clockToleranceSeconds: 0 } as const;
  let server: ServerProcess;
  let browser: Browser;

  beforeAll(async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flowgraph-dashboard-jwt-'));
    server = await startServer({
      FLOWGRAPH_DATA_DIR: dataDir,
      FLOWGRAPH_SEED: '1',
      DATABASE_URL: '',
      FLOWGRAPH_AUTH: 'jwt',
      FLOWGRAPH_JWT_SECRET: secret,
      FLOWGRAPH_JWT_ISSUER: 'tests',
      FLOWGRAPH_JWT_AUDIENCE: 'flowgraph',
      FLOWGRAPH_JWT_CLOCK_TOLERANCE_S: '0',
    });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop('SIGKILL');
  });

  async function signIn(page: Page, token: string): Promise<void> {
    await page.locator('form.sign-in textarea').fill(token);
    await page.locator('form.sign-in button[type=submit]').click();
  }

  it('asks for a token, then shows the flows without the actions a viewer may not take', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/dashboard/`);
    await page.locator('form.sign-in textarea').waitFor();
    expect(await page.locator('[data-testid=sign-in-reason]').count()).toBe(0);
    // No development session here: no button offering one.
    expect(await page.locator('[data-action=dev-session]').count()).toBe(0);
    await signIn(page, await mintDevToken(auth, { ...DEMO_VIEWER, roles: ['viewer'] }));
    await page.locator('[data-testid=flows-table] tbody tr').first().waitFor();
    expect(await page.locator('[data-testid=flows-table] tbody tr').count()).toBe(3);
    expect(await page.locator('#tenant').innerText()).toBe('demo-user · viewer');
    expect(await page.locator('[data-testid=upload-form]').count()).toBe(0);
    await page.locator('[data-testid=flows-table] tbody tr', { hasText: 'running' }).click();
    await page.locator('[data-testid=records-table]').waitFor();
    expect(await page.locator('[data-action]:not([data-action$=-page])').count()).toBe(0);
    await page.close();
  });

  it.each([
    ['a token signed with another secret', () => mintDevToken({ ...auth, jwtSecret: 'another-secret-that-is-at-least-32-bytes' }, DEMO_VIEWER), 'The bearer token signature does not verify.'],
    ['an expired token', () => mintDevToken(auth, DEMO_VIEWER, -60), 'The bearer token has expired.'],
    ['text that is no token', async () => 'not-a-token', 'The bearer token is malformed or signed with an algorithm this server does not accept.'],
  ])('refuses %s with the server\'s message, and keeps nothing of it', async (_name, token, message) => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/dashboard/`);
    await page.locator('form.sign-in textarea').waitFor();
    await signIn(page, await token());
    await page.locator('[data-testid=sign-in-reason]').waitFor();
    expect(await page.locator('[data-testid=sign-in-reason]').innerText()).toBe(message);
    expect(await page.locator('#connection').innerText()).toBe('signed out');
    expect(await page.evaluate(() => sessionStorage.getItem('flowgraph.token'))).toBeNull();
    await page.reload();
    await page.locator('form.sign-in textarea').waitFor();
    expect(await page.locator('[data-testid=sign-in-reason]').count()).toBe(0);
    await page.close();
  });

  it('asks to sign in again when the token expires while the page is open, and after signing out', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/dashboard/`);
    await page.locator('form.sign-in textarea').waitFor();
    await signIn(page, await mintDevToken(auth, DEMO_VIEWER, 4));
    await page.locator('#connection[data-state=live]').waitFor();
    // The server closes the live connection when the token expires: the sign-in screen says so.
    await page.locator('[data-testid=sign-in-reason]').waitFor({ timeout: 15_000 });
    expect(await page.locator('[data-testid=sign-in-reason]').innerText()).toMatch(/expired/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-sign-in.png') });
    await page.reload();
    await page.locator('form.sign-in textarea').waitFor();

    await signIn(page, await mintDevToken(auth, DEMO_VIEWER));
    await page.locator('[data-testid=flows-table] tbody tr').first().waitFor();
    expect(await page.locator('[data-testid=upload-form]').count()).toBe(1);
    await page.locator('#sign-out').click();
    await page.locator('form.sign-in textarea').waitFor();
    await page.reload();
    await page.locator('form.sign-in textarea').waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('flowgraph.token'))).toBeNull();
    await page.close();
  });
});
