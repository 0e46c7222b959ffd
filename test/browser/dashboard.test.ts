// The dashboard in a real browser against a real server process with the demo tenant.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
