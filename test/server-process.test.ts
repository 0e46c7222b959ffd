// `npm start` as a user runs it: a real process on a fresh data directory (development mode, the
// default without DATABASE_URL) reaches /ready, prints a dev token, serves the GraphiQL example query
// over real HTTP with that token, and stops cleanly on SIGTERM.
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_VIEWER } from '../src/services/demo-seed.ts';
import { viewerHeaders } from './support/graphql.ts';
import { dropDatabase, recreateDatabase, workerDatabaseUrl } from './support/postgres-databases.ts';
import { runScript, startServer, type ServerProcess } from './support/server-process.ts';
import { onPostgres } from './support/test-database.ts';

const exampleQuery = await readFile(new URL('../src/graphql/operations/flow-graph.graphql', import.meta.url), 'utf8');

/** What `npm start` runs with: no database URL, no authentication settings, no NODE_ENV. */
const NPM_START_ENV = {
  DATABASE_URL: '',
  NODE_ENV: '',
  FLOWGRAPH_AUTH: '',
  FLOWGRAPH_JWT_SECRET: '',
  FLOWGRAPH_JWT_ISSUER: '',
  FLOWGRAPH_JWT_AUDIENCE: '',
  FLOWGRAPH_SEED: '1',
};

function printedToken(output: string): string {
  const match = /authorization: Bearer (\S+)/.exec(output);
  if (!match) throw new Error(`no dev token in the start-up output:\n${output}`);
  return match[1]!;
}

describe('npm start on the embedded database', () => {
  let server: ServerProcess;
  let dataDir: string;
  let token: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'flowgraph-start-'));
    server = await startServer({ ...NPM_START_ENV, FLOWGRAPH_DATA_DIR: dataDir });
    token = printedToken(server.output());
  });
  afterAll(async () => server?.stop('SIGKILL'));

  it('prints the GraphiQL URL and a dev token for the demo tenant, and reports ready', async () => {
    expect(server.output()).toContain('GraphiQL at http://localhost:');
    expect(server.output()).toContain('development mode (FLOWGRAPH_AUTH=dev)');
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({
      sub: DEMO_VIEWER.userId,
      client_account_id: DEMO_VIEWER.clientAccountId,
      engagement_id: DEMO_VIEWER.engagementId,
      roles: ['admin'],
    });
    expect(server.output()).toContain('seeded the demo tenant');
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    expect((await fetch(`${server.url}/ready`)).status).toBe(200);
  });

  it('refuses a request without credentials with 401', async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ masterFlows { totalCount } }' }),
    });
    expect(response.status).toBe(401);
    const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
    expect(body.errors[0]!.message).toContain('npm start prints a dev token');
  });

  it('answers the GraphiQL example query with the demo graph, for the printed token', async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
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

  it('still accepts the development headers (dev mode only)', async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-client-account-id': DEMO_VIEWER.clientAccountId,
        'x-engagement-id': DEMO_VIEWER.engagementId,
        'x-user-id': DEMO_VIEWER.userId,
      },
      body: JSON.stringify({ query: '{ masterFlows { totalCount } }' }),
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { data: { masterFlows: { totalCount: number } } }).data.masterFlows.totalCount).toBe(3);
  });

  it('serves GraphiQL with the example query and the dev token prefilled', async () => {
    const response = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    const html = await response.text();
    expect(response.status).toBe(200);
    expect(html).toContain('query FlowGraph');
    expect(html).toContain(token);
    // Served by flowgraph itself: no CDN, so GraphiQL works offline and behind strict firewalls.
    expect(html).not.toMatch(/https?:\/\/(unpkg\.com|cdn\.jsdelivr\.net|esm\.sh)/);
  });

  it('stops on SIGTERM with exit code 0, and starts again on the same data without seeding twice', async () => {
    expect(await server.stop('SIGTERM')).toBe(0);
    expect(server.output()).toContain('flowgraph: stopped');
    server = await startServer({ ...NPM_START_ENV, FLOWGRAPH_DATA_DIR: dataDir });
    expect(server.output()).toContain('migrations up to date');
    expect(server.output()).not.toContain('seeded the demo tenant');
    // The dev secret is kept with the data, so the token printed before the restart still works.
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ masterFlows { totalCount } }' }),
    });
    expect(((await response.json()) as { data: { masterFlows: { totalCount: number } } }).data.masterFlows.totalCount).toBe(3);
  });
});

describe('npm start in production', () => {
  it('refuses development mode when NODE_ENV=production', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flowgraph-prod-'));
    const { code, output } = await runScript('src/server.ts', [], {
      ...NPM_START_ENV,
      NODE_ENV: 'production',
      FLOWGRAPH_AUTH: 'dev',
      FLOWGRAPH_DATA_DIR: dataDir,
      PORT: '0',
    });
    expect(code).toBe(1);
    expect(output).toContain('FLOWGRAPH_AUTH=dev is refused when NODE_ENV=production');
  });

  it('without FLOWGRAPH_AUTH, needs a JWT configuration and says which variables', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flowgraph-prod-'));
    const { code, output } = await runScript('src/server.ts', [], { ...NPM_START_ENV, NODE_ENV: 'production', FLOWGRAPH_DATA_DIR: dataDir, PORT: '0' });
    expect(code).toBe(1);
    expect(output).toContain('FLOWGRAPH_JWT_SECRET');
    expect(output).toContain('FLOWGRAPH_JWKS_URL');
  });
});

describe.runIf(onPostgres)('npm start with DATABASE_URL', () => {
  it('migrates and seeds an empty PostgreSQL database, then serves the example query', async () => {
    const url = workerDatabaseUrl(process.env.TEST_DATABASE_URL!, `start_${process.env.VITEST_POOL_ID ?? '1'}`);
    await recreateDatabase(url);
    const server = await startServer({ DATABASE_URL: url, FLOWGRAPH_SEED: '1' });
    try {
      // Named for a person, without a password; after the port is bound.
      expect(server.output()).toMatch(/flowgraph: port \d+ bound; opening PostgreSQL at postgres:\/\/\S+/);
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
