// `npm start` as a user runs it: a real process on a fresh data directory reaches /ready, serves the
// GraphiQL example query over real HTTP, and stops cleanly on SIGTERM.
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_VIEWER } from '../src/services/demo-seed.ts';
import { viewerHeaders } from './support/graphql.ts';
import { dropDatabase, recreateDatabase, workerDatabaseUrl } from './support/postgres-databases.ts';
import { startServer, type ServerProcess } from './support/server-process.ts';
import { onPostgres } from './support/test-database.ts';

const exampleQuery = await readFile(new URL('../src/graphql/operations/flow-graph.graphql', import.meta.url), 'utf8');

describe('npm start on the embedded database', () => {
  let server: ServerProcess;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'flowgraph-start-'));
    server = await startServer({ FLOWGRAPH_DATA_DIR: dataDir, FLOWGRAPH_SEED: '1', DATABASE_URL: '' });
  });
  afterAll(async () => server?.stop('SIGKILL'));

  it('prints the GraphiQL URL and the demo tenant headers, and reports ready', async () => {
    expect(server.output()).toContain(`x-client-account-id: ${DEMO_VIEWER.clientAccountId}`);
    expect(server.output()).toContain('seeded the demo tenant');
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
  });

  it('answers the GraphiQL example query with the demo graph', async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...viewerHeaders(DEMO_VIEWER) },
      body: JSON.stringify({ query: exampleQuery }),
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      errors?: unknown;
      data: { masterFlows: { totalCount: number; edges: { node: { dataImports: { edges: { node: { rawRecords: { edges: unknown[] } } }[] } } }[] } };
    };
    expect(body.errors).toBeUndefined();
    expect(body.data.masterFlows.totalCount).toBe(3);
    const records = body.data.masterFlows.edges.flatMap((edge) =>
      edge.node.dataImports.edges.flatMap((importEdge) => importEdge.node.rawRecords.edges),
    );
    expect(records.length).toBe(10);
  });

  it('serves GraphiQL with the example query and the demo headers prefilled', async () => {
    const response = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    const html = await response.text();
    expect(response.status).toBe(200);
    expect(html).toContain('query FlowGraph');
    expect(html).toContain(DEMO_VIEWER.clientAccountId);
    // Served by flowgraph itself: no CDN, so GraphiQL works offline and behind strict firewalls.
    expect(html).not.toMatch(/https?:\/\/(unpkg\.com|cdn\.jsdelivr\.net|esm\.sh)/);
  });

  it('stops on SIGTERM with exit code 0, and starts again on the same data without seeding twice', async () => {
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(server.output()).toContain('flowgraph: stopped');
    server = await startServer({ FLOWGRAPH_DATA_DIR: dataDir, FLOWGRAPH_SEED: '1', DATABASE_URL: '' });
    expect(server.output()).toContain('migrations up to date');
    expect(server.output()).not.toContain('seeded the demo tenant');
  });
});

describe.runIf(onPostgres)('npm start with DATABASE_URL', () => {
  it('migrates and seeds an empty PostgreSQL database, then serves the example query', async () => {
    const url = workerDatabaseUrl(process.env.TEST_DATABASE_URL!, `start_${process.env.VITEST_POOL_ID ?? '1'}`);
    await recreateDatabase(url);
    const server = await startServer({ DATABASE_URL: url, FLOWGRAPH_SEED: '1' });
    try {
      expect(server.output()).toContain('opening PostgreSQL (DATABASE_URL)');
      expect(server.output()).toMatch(/applied migrations \d+_init/);
      expect((await fetch(`${server.url}/ready`)).status).toBe(200);
      const response = await fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...viewerHeaders(DEMO_VIEWER) },
        body: JSON.stringify({ query: exampleQuery }),
      });
      const body = (await response.json()) as { errors?: unknown; data: { masterFlows: { totalCount: number } } };
      expect(body.errors).toBeUndefined();
      expect(body.data.masterFlows.totalCount).toBe(3);
      expect(await server.stop('SIGTERM')).toBe(0);
    } finally {
      await server.stop('SIGKILL');
      await dropDatabase(url);
    }
  });
});
