// The dashboard against a server that runs only trusted documents (FLOWGRAPH_TRUSTED_DOCUMENTS): it sends the
// hashes of its own documents (over HTTP, multipart and graphql-ws), so the table loads, stays live and uploads
// work, while the same server refuses any query sent as text.
import { createHash } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DashboardPauseDocument } from '../../dashboard/src/generated/graphql.ts';
import { DEMO_VIEWER } from '../../src/services/demo-seed.ts';
import { hasChromium, launchBrowser } from '../support/browser.ts';
import { viewerHeaders } from '../support/graphql.ts';
import { startServer, type ServerProcess } from '../support/server-process.ts';

const FLOWS = 'query OperatorFlows { masterFlows(first: 50) { edges { node { flowId flowStatus version } } } }';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

async function post<T>(server: ServerProcess, body: unknown): Promise<{ data?: T; errors?: { extensions?: { code?: string } }[] }> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...viewerHeaders(DEMO_VIEWER) },
    body: JSON.stringify(body),
  });
  return (await response.json()) as { data?: T; errors?: { extensions?: { code?: string } }[] };
}

const byHash = (hash: string, variables: Record<string, unknown> = {}) => ({ variables, extensions: { persistedQuery: { version: 1, sha256Hash: hash } } });

describe.runIf(hasChromium)('the dashboard with trusted documents only', () => {
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'flowgraph-dashboard-trusted-'));
    const manifest = path.join(dir, 'operator.json');
    await writeFile(manifest, JSON.stringify({ [sha256(FLOWS)]: FLOWS }));
    server = await startServer({
      FLOWGRAPH_DATA_DIR: path.join(dir, 'data'),
      FLOWGRAPH_SEED: '1',
      DATABASE_URL: '',
      FLOWGRAPH_AUTH: 'dev',
      FLOWGRAPH_TRUSTED_DOCUMENTS: manifest,
    });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop('SIGKILL');
  });

  it('loads, stays live and uploads, while a query sent as text is refused', async () => {
    const raw = await post(server, { query: FLOWS });
    expect(raw.errors?.map((error) => error.extensions?.code)).toEqual(['PERSISTED_QUERY_ONLY']);

    await page.goto(`${server.url}/dashboard/`);
    await page.locator('#connection[data-state=live]').waitFor();
    await page.locator('[data-testid=flows-table] tbody tr').first().waitFor();

    const flows = await post<{ masterFlows: { edges: { node: { flowId: string; flowStatus: string; version: number } }[] } }>(server, byHash(sha256(FLOWS)));
    const running = flows.data!.masterFlows.edges.map((edge) => edge.node).find((flow) => flow.flowStatus === 'RUNNING')!;
    const paused = await post(server, byHash(DashboardPauseDocument.__meta__!.hash as string, { flowId: running.flowId, version: running.version }));
    expect(paused.errors).toBeUndefined();
    // The live subscription (graphql-ws, by hash) brings the change.
    await page.waitForFunction(
      (flowId) => document.querySelector(`tr[data-flow-id="${flowId}"] [data-testid=status]`)?.textContent === 'paused',
      running.flowId,
      { timeout: 5_000 },
    );

    await page.locator('[data-testid=upload-form] input[type=file]').setInputFiles({ name: 'trusted.csv', mimeType: 'text/csv', buffer: Buffer.from('hostname\nweb-7\n') });
    await page.locator('[data-testid=upload-form] button[type=submit]').click();
    await page.locator('[data-testid=records-table]').waitFor();
    expect(page.url()).toMatch(/#\/flows\/[0-9a-f-]{36}/);
  });
});
