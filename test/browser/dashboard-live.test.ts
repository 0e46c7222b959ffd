// The dashboard stays current by itself: changes made through the API, uploads and actions on the page,
// and a server killed and restarted while the page is open, all without a reload and without losing events.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_VIEWER } from '../../src/services/demo-seed.ts';
import { ARTIFACTS, hasChromium, launchBrowser } from '../support/browser.ts';
import { viewerHeaders } from '../support/graphql.ts';
import { freePort, startServer, type ServerProcess } from '../support/server-process.ts';
import { csvText } from '../support/upload.ts';

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

type FlowList = { masterFlows: { edges: { node: { flowId: string; flowName: string; flowStatus: string; version: number } }[] } };
const FLOWS = '{ masterFlows(first: 50) { edges { node { flowId flowName flowStatus version } } } }';

async function runningFlow(server: ServerProcess) {
  const flows = await api<FlowList>(server, FLOWS);
  return flows.masterFlows.edges.map((edge) => edge.node).find((flow) => flow.flowStatus === 'RUNNING')!;
}

describe.runIf(hasChromium)('the live dashboard', () => {
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;
  let dataDir: string;
  let port: number;
  // Development mode, as `npm start` runs: the dashboard signs in with the dev token it is handed.
  const env = () => ({ FLOWGRAPH_DATA_DIR: dataDir, FLOWGRAPH_SEED: '1', DATABASE_URL: '', PORT: String(port), FLOWGRAPH_AUTH: 'dev' });

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'flowgraph-live-'));
    port = await freePort();
    server = await startServer(env());
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${server.url}/dashboard/`);
    await page.locator('#connection[data-state=live]').waitFor();
    await page.locator('[data-testid=flows-table] tbody tr').first().waitFor();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop('SIGKILL');
  });

  it('shows a change made through the API within a second, without a reload, in the table and the chart', async () => {
    const flow = await runningFlow(server);
    const row = page.locator(`tr[data-flow-id="${flow.flowId}"] [data-testid=status]`);
    expect(await row.innerText()).toBe('running');
    const bar = (status: string) => page.locator(`[data-testid=chart-status] [data-key=${status}]`).getAttribute('data-count');
    const [running, paused] = [Number(await bar('RUNNING')), Number(await bar('PAUSED'))];
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    await api(server, 'mutation($flowId: UUID!, $version: Int!) { pauseMasterFlow(flowId: $flowId, version: $version) { __typename } }', {
      flowId: flow.flowId,
      version: flow.version,
    });
    await page.waitForFunction(
      (flowId) => document.querySelector(`tr[data-flow-id="${flowId}"] [data-testid=status]`)?.textContent === 'paused',
      flow.flowId,
      { timeout: 1_000 },
    );
    // The chart moved with it, by the same subscription.
    await page.waitForFunction(
      (count) => document.querySelector('[data-testid=chart-status] [data-key=PAUSED]')?.getAttribute('data-count') === String(count),
      paused + 1,
      { timeout: 1_000 },
    );
    expect(Number(await bar('RUNNING'))).toBe(running - 1);
    // Same page, not a reload.
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42);
  });

  it('resumes and pauses a flow from its detail view', async () => {
    const flows = await api<FlowList>(server, FLOWS);
    const paused = flows.masterFlows.edges.map((edge) => edge.node).find((flow) => flow.flowStatus === 'PAUSED')!;
    await page.locator(`tr[data-flow-id="${paused.flowId}"]`).click();
    await page.locator('[data-action=resume]').click();
    await page.locator('.summary [data-testid=status]', { hasText: 'running' }).waitFor();
    await page.locator('[data-action=pause]').click();
    await page.locator('.summary [data-testid=status]', { hasText: 'paused' }).waitFor();
    const after = (await api<FlowList>(server, FLOWS)).masterFlows.edges.find((edge) => edge.node.flowId === paused.flowId)!.node;
    expect(after.flowStatus).toBe('PAUSED');
    expect(after.version).toBe(paused.version + 2);
    await page.locator('[data-testid=history] li[data-kind=STATUS_CHANGED]').nth(1).waitFor();
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-detail-live.png'), fullPage: true });
    await page.goto(`${server.url}/dashboard/#/`);
    await page.locator('[data-testid=flows-table] tbody tr').first().waitFor();
  });

  it('uploads a CSV that appears as a linked flow', async () => {
    const csv = 'hostname,os\nweb-9.example,Debian 12\ndb-9.example,\n,missing\n';
    await page.locator('[data-testid=upload-form] input[type=file]').setInputFiles({ name: 'uploaded.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.locator('[data-testid=upload-form] button[type=submit]').click();
    await page.locator('[data-testid=records-table]').waitFor();
    expect(await page.locator('[data-testid=records-table] tbody tr').count()).toBe(3);
    const flowId = /#\/flows\/([0-9a-f-]{36})/.exec(page.url())![1]!;
    const graph = await api<{ masterFlow: { rawRecordCount: number; dataImports: { edges: { node: { filename: string } }[] }; discoveryFlows: { currentPhase: string }[] } }>(
      server,
      'query($flowId: UUID!) { masterFlow(flowId: $flowId) { rawRecordCount dataImports { edges { node { filename } } } discoveryFlows { currentPhase } } }',
      { flowId },
    );
    expect(graph.masterFlow.rawRecordCount).toBe(3);
    expect(graph.masterFlow.dataImports.edges[0]!.node.filename).toBe('uploaded.csv');
    expect(graph.masterFlow.discoveryFlows[0]!.currentPhase).toBe('DATA_VALIDATION');
    await page.goto(`${server.url}/dashboard/#/`);
    await page.locator(`tr[data-flow-id="${flowId}"]`).waitFor();
  });

  it('shows the upload storing row by row, from the server, until the new flow opens', async () => {
    const rows = 30_000;
    const csv = csvText(rows);
    // Every status text and bar value the form shows, in order, recorded in the page as they change.
    await page.evaluate(() => {
      const seen: { text: string; value: number }[] = [];
      (window as unknown as { uploadSeen: typeof seen }).uploadSeen = seen;
      const status = document.querySelector('[data-testid=upload-status]')!;
      const bar = document.querySelector<HTMLProgressElement>('[data-testid=upload-progress]')!;
      new MutationObserver(() => seen.push({ text: status.textContent ?? '', value: bar.value })).observe(status, {
        childList: true,
        characterData: true,
        subtree: true,
      });
    });
    await page.locator('[data-testid=upload-form] input[type=file]').setInputFiles({ name: 'big.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.locator('[data-testid=upload-form] button[type=submit]').click();
    // A picture for the README while the server stores the rows (taken as soon as the page shows it).
    await page.waitForFunction(() => /rows stored/.test(document.querySelector('[data-testid=upload-status]')?.textContent ?? ''), undefined, { polling: 'raf' });
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-upload.png'), clip: { x: 0, y: 0, width: 1400, height: 480 } });
    await page.locator('[data-testid=flow-name]', { hasText: 'big.csv (servers)' }).waitFor({ timeout: 120_000 });
    const seen = await page.evaluate(() => (window as unknown as { uploadSeen: { text: string; value: number }[] }).uploadSeen);

    const storing = seen
      .map((entry) => ({ ...entry, match: /storing: ([\d,]+) rows? stored \((\d+) %\)/.exec(entry.text) }))
      .filter((entry) => entry.match)
      .map((entry) => ({ rows: Number(entry.match![1]!.replaceAll(',', '')), percent: Number(entry.match![2]), value: entry.value }));
    // While the request was open, the server's count of stored rows was shown, part of the file at a time,
    // and the bar stood at the share the server had stored, not at the 100 % of bytes handed to the network.
    const partial = storing.filter((entry) => entry.rows > 0 && entry.rows < rows);
    expect(partial.length).toBeGreaterThan(0);
    for (const entry of partial) {
      expect(entry.value).toBeGreaterThan(0);
      expect(entry.value).toBeLessThan(1);
      expect(Math.abs(entry.percent - Math.round(entry.value * 100))).toBeLessThanOrEqual(1);
    }
    const counts = storing.map((entry) => entry.rows);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(seen.at(-1)!.text).toBe('imported 30,000 rows');
    expect(await page.locator('[data-testid=records-page]').innerText()).toBe('Page 1 · 1–20 of 30,000 records');
    // The tests after this one work on the seeded flows, as before it.
    const flowId = /#\/flows\/([0-9a-f-]{36})/.exec(page.url())![1]!;
    await api(server, 'mutation($flowId: UUID!) { deleteMasterFlow(flowId: $flowId) { __typename } }', { flowId });
    await page.goto(`${server.url}/dashboard/#/`);
    await page.locator('[data-testid=flows-table] tbody tr').first().waitFor();
  });

  it('loses no event while the server is killed and restarted under the open page', async () => {
    const flow = await runningFlow(server);
    await page.locator(`tr[data-flow-id="${flow.flowId}"]`).click();
    await page.locator('[data-action=pause]').waitFor();
    const historyBefore = await page.locator('[data-testid=history] li').count();

    expect(await server.stop('SIGKILL')).toBeNull();
    await page.locator('#connection[data-state=reconnecting]').waitFor();

    // While it is down, another process changes the flow (same embedded database, the port left free).
    const other = await startServer({ ...env(), PORT: '0' });
    await api(other, 'mutation($flowId: UUID!, $version: Int!) { pauseMasterFlow(flowId: $flowId, version: $version) { __typename } }', {
      flowId: flow.flowId,
      version: flow.version,
    });
    expect(await other.stop('SIGTERM')).toBe(0);

    server = await startServer(env());
    await page.locator('#connection[data-state=live]').waitFor({ timeout: 30_000 });
    await page.locator('.summary [data-testid=status]', { hasText: 'paused' }).waitFor({ timeout: 10_000 });
    await page.waitForFunction((count) => document.querySelectorAll('[data-testid=history] li').length === count + 1, historyBefore);
    expect(await page.locator('[data-testid=history] li').first().getAttribute('data-kind')).toBe('STATUS_CHANGED');
  });

  it('deletes a flow after a confirmation that names what goes with it', async () => {
    const flow = (await api<FlowList>(server, FLOWS)).masterFlows.edges.map((edge) => edge.node).find((entry) => entry.flowName.includes('Discovery'))!;
    await page.goto(`${server.url}/dashboard/#/flows/${flow.flowId}`);
    await page.locator('[data-action=delete]').click();
    const confirmation = page.locator('[data-testid=delete-confirmation]');
    expect(await confirmation.innerText()).toMatch(/1 data import\(s\), \d+ raw record\(s\) and 1 discovery flow\(s\)/);
    await page.locator('[data-action=confirm-delete]').click();
    await page.locator('[data-testid=flows-table]').waitFor();
    expect(await page.locator(`tr[data-flow-id="${flow.flowId}"]`).count()).toBe(0);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-table-live.png'), fullPage: true });
  });
});
