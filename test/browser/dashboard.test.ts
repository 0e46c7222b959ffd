// The dashboard in a real browser against a real server process with the demo tenant.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mintDevToken } from '../../src/auth/dev-token.ts';
import { DEMO_VIEWER } from '../../src/services/demo-seed.ts';
import { ARTIFACTS, hasChromium, launchBrowser } from '../support/browser.ts';
import { startServer, type ServerProcess } from '../support/server-process.ts';

describe.runIf(hasChromium)('the dashboard', () => {
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flowgraph-dashboard-'));
    // Development mode, as `npm start` runs: the dashboard signs in with the dev token it is handed.
    server = await startServer({ FLOWGRAPH_DATA_DIR: dataDir, FLOWGRAPH_SEED: '1', DATABASE_URL: '', FLOWGRAPH_AUTH: 'dev' });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop('SIGKILL');
  });

  it('shows the seeded flows in the table', async () => {
    await page.goto(`${server.url}/dashboard/`);
    const rows = page.locator('[data-testid=flows-table] tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(3);
    const text = await page.locator('[data-testid=flows-table]').innerText();
    expect(text).toContain('Wave 1 assessment');
    expect(text).toMatch(/paused/);
    expect(text).toMatch(/field mapping/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-table.png'), fullPage: true });
  });

  it('filters the table by status', async () => {
    await page.locator('input[name=status][value=PAUSED]').check();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=flows-table] tbody tr').length === 1);
    expect(await page.locator('[data-testid=status]').allInnerTexts()).toEqual(['paused']);
    await page.locator('input[name=status][value=PAUSED]').uncheck();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=flows-table] tbody tr').length === 3);
  });

  it('opens a flow\'s detail view with its graph, phases and raw records', async () => {
    await page.locator('[data-testid=flows-table] tbody tr', { hasText: 'running' }).click();
    await page.locator('[data-testid=records-table]').waitFor();
    expect(await page.locator('svg.diagram .node').count()).toBeGreaterThanOrEqual(3);
    expect(await page.locator('[data-testid=records-table] tbody tr').count()).toBe(8);
    await page.getByLabel('invalid').check();
    await page.waitForFunction(() => document.querySelectorAll('[data-testid=records-table] tbody tr').length === 1);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-detail.png'), fullPage: true });
  });
});

describe.runIf(hasChromium)('the dashboard for a read-only user, behind token authentication', () => {
  const secret = 'a-test-secret-that-is-at-least-32-bytes-long';
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
    });
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop('SIGKILL');
  });

  it('asks for a token, then shows the flows without the actions a viewer may not take', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/dashboard/`);
    await page.locator('form.sign-in textarea').waitFor();
    const token = await mintDevToken(
      { mode: 'jwt', jwtSecret: secret, jwksUrl: undefined, issuer: 'tests', audience: 'flowgraph', clockToleranceSeconds: 5 },
      { ...DEMO_VIEWER, roles: ['viewer'] },
    );
    await page.locator('form.sign-in textarea').fill(token);
    await page.locator('form.sign-in button[type=submit]').click();
    await page.locator('[data-testid=flows-table] tbody tr').first().waitFor();
    expect(await page.locator('[data-testid=flows-table] tbody tr').count()).toBe(3);
    expect(await page.locator('[data-testid=upload-form]').count()).toBe(0);
    await page.locator('[data-testid=flows-table] tbody tr', { hasText: 'running' }).click();
    await page.locator('[data-testid=records-table]').waitFor();
    expect(await page.locator('[data-action]').count()).toBe(0);
    await page.close();
  });
});
