// GraphiQL, as `npm start` serves it, in Chromium: a subscription typed into its editor runs with the token of
// its Headers tab (prefilled in development mode), and a change another client makes shows up in its result
// pane. With a wrong token in the Headers tab, the result pane says why instead of spinning.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page, Response as PwResponse } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_VIEWER } from '../../src/services/demo-seed.ts';
import { ARTIFACTS, hasChromium, launchBrowser } from '../support/browser.ts';
import { authHeaders } from '../support/auth.ts';
import { viewerHeaders } from '../support/graphql.ts';
import { startServer, type ServerProcess } from '../support/server-process.ts';

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

// One line: Monaco indents and closes brackets after a typed line break.
const SUBSCRIPTION = 'subscription Watch { flowEvents { __typename ... on FlowEvent { kind flowId masterFlow { flowStatus version } } } }';

const QUERY_EDITOR = '.graphiql-query-editor .monaco-editor';
const HEADERS_EDITOR = '.graphiql-editor-tool .monaco-editor[data-uri$="headers.json"]';

/** GraphiQL's subscription request: SSE, with the Headers tab's credentials. */
const isEventStream = (response: PwResponse) => response.request().headers().accept === 'text/event-stream';

/**
 * Clicks GraphiQL's run button and resolves with its subscription's event-stream response. On a loaded machine a
 * click can land while GraphiQL is still busy and do nothing; it is clicked again then (at most three times).
 */
async function runSubscription(page: Page): Promise<PwResponse> {
  for (let attempt = 1; ; attempt += 1) {
    const response = page.waitForResponse(isEventStream, { timeout: 15_000 });
    await page.locator('.graphiql-execute-button').click();
    try {
      return await response;
    } catch (error) {
      if (attempt >= 3) throw error;
    }
  }
}

/** Replaces the text of one of GraphiQL's (Monaco) editors, as a person would: select all, then type. */
async function replaceEditorText(page: Page, editor: string, text: string): Promise<void> {
  await page.locator(editor).click();
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  // insertText types the text as one input, without the editor's auto-closing of brackets.
  await page.keyboard.insertText(text);
}

describe.runIf(hasChromium)('GraphiQL subscriptions', () => {
  let server: ServerProcess;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flowgraph-graphiql-'));
    // Development mode, as `npm start` runs: GraphiQL opens with the demo tenant's token in its Headers tab.
    server = await startServer({ FLOWGRAPH_DATA_DIR: dataDir, FLOWGRAPH_SEED: '1', DATABASE_URL: '', FLOWGRAPH_AUTH: 'dev' });
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`${server.url}/graphql`);
    await page.locator(QUERY_EDITOR).waitFor();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop('SIGKILL');
  });

  it('shows the event of a change made by another client, with the prefilled token', async () => {
    const headersText = await page.locator(HEADERS_EDITOR).innerText();
    expect(headersText).toMatch(/authorization[\s\S]*Bearer\s+ey/);

    await replaceEditorText(page, QUERY_EDITOR, SUBSCRIPTION);
    const stream = await runSubscription(page);
    expect(stream.status()).toBe(200);
    expect(stream.headers()['content-type']).toMatch(/^text\/event-stream/);

    const flows = await api<{ masterFlows: { edges: { node: { flowId: string; flowStatus: string; version: number } }[] } }>(
      server,
      '{ masterFlows(first: 50) { edges { node { flowId flowStatus version } } } }',
    );
    const running = flows.masterFlows.edges.map((edge) => edge.node).find((flow) => flow.flowStatus === 'RUNNING')!;
    await api(server, 'mutation($flowId: UUID!, $version: Int!) { pauseMasterFlow(flowId: $flowId, version: $version) { __typename } }', {
      flowId: running.flowId,
      version: running.version,
    });

    const response = page.locator('.graphiql-response');
    await expect.poll(() => response.innerText(), { timeout: 10_000 }).toContain(running.flowId);
    // Monaco renders spaces as non-breaking ones.
    const shown = JSON.parse((await response.innerText()).replace(/\u00a0/g, ' ')) as unknown;
    expect(shown).toEqual({
      data: {
        flowEvents: {
          __typename: 'FlowEvent',
          kind: 'STATUS_CHANGED',
          flowId: running.flowId,
          masterFlow: { flowStatus: 'PAUSED', version: running.version + 1 },
        },
      },
    });
    await page.screenshot({ path: path.join(ARTIFACTS, 'graphiql-subscription.png') });
  });

  it('says why when the Headers tab has a wrong token', async () => {
    // Stop the running subscription first (the execute button becomes a stop button while it runs).
    await page.locator('.graphiql-execute-button').click();
    await replaceEditorText(page, HEADERS_EDITOR, '{ "authorization": "Bearer not-a-token" }');
    expect((await runSubscription(page)).status()).toBe(401);
    await expect.poll(() => page.locator('.graphiql-response').innerText(), { timeout: 10_000 }).toMatch(/UNAUTHENTICATED|401/);
  });

  it('runs with a token typed into the Headers tab', async () => {
    const flows = await api<{ masterFlows: { edges: { node: { flowId: string; flowStatus: string; version: number } }[] } }>(
      server,
      '{ masterFlows(first: 50) { edges { node { flowId flowStatus version } } } }',
    );
    const paused = flows.masterFlows.edges.map((edge) => edge.node).find((flow) => flow.flowStatus === 'PAUSED')!;
    await replaceEditorText(page, HEADERS_EDITOR, JSON.stringify(authHeaders(DEMO_VIEWER)));
    expect((await runSubscription(page)).status()).toBe(200);
    await api(server, 'mutation($flowId: UUID!, $version: Int!) { resumeMasterFlow(flowId: $flowId, version: $version) { __typename } }', {
      flowId: paused.flowId,
      version: paused.version,
    });
    await expect.poll(() => page.locator('.graphiql-response').innerText(), { timeout: 10_000 }).toContain('RUNNING');
    const shown = JSON.parse((await page.locator('.graphiql-response').innerText()).replace(/\u00a0/g, ' ')) as { data: { flowEvents: unknown } };
    expect(shown.data.flowEvents).toMatchObject({ kind: 'STATUS_CHANGED', flowId: paused.flowId, masterFlow: { flowStatus: 'RUNNING' } });
  });
});
