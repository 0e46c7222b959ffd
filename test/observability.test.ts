// Structured logs and metrics of a real server process: one JSON line per operation and per request,
// with request id, tenant, operation, duration, SQL statement count and error codes, and never a
// token, variables or row data; Prometheus metrics at /metrics.
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_VIEWER } from '../src/services/demo-seed.ts';
import { authHeaders, testToken } from './support/auth.ts';
import { tickingSchema } from './support/ticking-schema.ts';
import { testApp } from './support/graphql.ts';
import { startServer, type ServerProcess } from './support/server-process.ts';
import { readSse } from './support/sse.ts';
import { testDatabase } from './support/test-database.ts';
import { openSocket } from './support/ws-client.ts';

const exampleQuery = await readFile(new URL('../src/graphql/operations/flow-graph.graphql', import.meta.url), 'utf8');

interface LogLine {
  level: string;
  msg: string;
  requestId?: string;
  tenant?: { clientAccountId: string; engagementId: string };
  user?: string;
  operationName?: string;
  operationType?: string;
  durationMs?: number;
  sqlStatements?: number;
  errorCodes?: string[];
  status?: number;
  path?: string;
}

/** The keys of a JSON object's text in order, duplicates kept (JSON.parse keeps only the last of each). */
function topLevelKeys(json: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  for (let index = 0; index < json.length; index += 1) {
    const char = json[index];
    if (char === '{' || char === '[') depth += 1;
    else if (char === '}' || char === ']') depth -= 1;
    else if (char === '"') {
      let end = index + 1;
      while (json[end] !== '"') end += json[end] === '\\' ? 2 : 1;
      if (depth === 1 && json[end + 1] === ':') keys.push(json.slice(index + 1, end));
      index = end;
    }
  }
  return keys;
}

function logLines(output: string): LogLine[] {
  return output
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as LogLine);
}

describe('a server process', () => {
  let server: ServerProcess;
  const token = testToken(DEMO_VIEWER);
  const viewerOnly = testToken({ ...DEMO_VIEWER, roles: [] });

  beforeAll(async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flowgraph-logs-'));
    server = await startServer({ FLOWGRAPH_DATA_DIR: dataDir, FLOWGRAPH_SEED: '1', DATABASE_URL: '', FLOWGRAPH_LOG_LEVEL: 'info' });
    const post = (headers: Record<string, string>, body: unknown) =>
      fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    const ok = await post({ authorization: `Bearer ${token}`, 'x-request-id': 'trace-ok-1' }, { query: exampleQuery, variables: { first: 5 } });
    expect(ok.headers.get('x-request-id')).toBe('trace-ok-1');
    await ok.text();
    await (await post({ authorization: `Bearer ${viewerOnly}`, 'x-request-id': 'trace-forbidden-1' }, { query: '{ masterFlows { totalCount } }' })).text();
    await (await post({ 'x-request-id': 'trace-anonymous-1' }, { query: '{ masterFlows { totalCount } }' })).text();
    await (await post({ authorization: `Bearer ${token}`, 'x-request-id': 'trace-bad-1' }, { query: '{ masterFlows { ' })).text();
    // Three rows imported, then the same import again (replayed: nothing stored).
    const storeImport = {
      query: 'mutation Imported($rows: [JSON!]) { storeImport(input: { rows: $rows, filename: "m.json", importType: "servers", idempotencyKey: "metrics-1" }) { __typename } }',
      variables: { rows: [{ host: 'm1' }, { host: 'm2' }, { host: 'm3' }] },
    };
    for (let attempt = 0; attempt < 2; attempt += 1) {
      expect(await (await post({ authorization: `Bearer ${token}` }, storeImport)).json()).toEqual({ data: { storeImport: { __typename: 'MasterFlow' } } });
    }
    const socket = openSocket(`${server.url.replace('http', 'ws')}/graphql`, { authorization: `Bearer ${token}` });
    expect(await socket.acknowledged).toBe(true);
    await socket.operation('1', 'query OverSocket { masterFlows { totalCount } }');
    socket.close();
    // pino writes asynchronously; give it a moment to reach stdout.
    await new Promise((resolve) => setTimeout(resolve, 500));
  });
  afterAll(async () => server?.stop('SIGKILL'));

  it('logs each operation with request id, tenant, user, name, duration and SQL statement count', () => {
    const lines = logLines(server.output());
    const operation = lines.find((line) => line.msg === 'graphql operation' && line.requestId === 'trace-ok-1');
    expect(operation).toMatchObject({
      level: 'info',
      tenant: { clientAccountId: DEMO_VIEWER.clientAccountId, engagementId: DEMO_VIEWER.engagementId },
      user: DEMO_VIEWER.userId,
      operationType: 'query',
      operationName: 'FlowGraph',
      sqlStatements: expect.any(Number),
      durationMs: expect.any(Number),
    });
    // The example query is one the read compiler covers: one statement (test/compiled-reads.test.ts).
    expect(operation!.sqlStatements).toBe(1);
    expect(operation!.errorCodes).toBeUndefined();
    const request = lines.find((line) => line.msg === 'http request' && line.requestId === 'trace-ok-1');
    expect(request).toMatchObject({ status: 200, path: '/graphql', durationMs: expect.any(Number) });
    const overSocket = lines.find((line) => line.msg === 'graphql operation' && line.operationName === 'OverSocket');
    expect(overSocket).toMatchObject({ tenant: { clientAccountId: DEMO_VIEWER.clientAccountId }, sqlStatements: expect.any(Number) });
  });

  it('writes each key of a log line once', () => {
    const lines = server.output().split('\n').filter((line) => line.startsWith('{'));
    expect(lines.length).toBeGreaterThan(5);
    for (const line of lines) {
      const keys = topLevelKeys(line);
      expect(keys.filter((key, index) => keys.indexOf(key) !== index), line).toEqual([]);
    }
    expect(lines.filter((line) => line.includes('"msg":"graphql operation"')).length).toBeGreaterThan(0);
  });

  it('logs error codes of refused and failed requests', () => {
    const lines = logLines(server.output());
    expect(lines.find((line) => line.msg === 'graphql operation' && line.requestId === 'trace-forbidden-1')?.errorCodes).toEqual(['FORBIDDEN']);
    expect(lines.find((line) => line.msg === 'http request' && line.requestId === 'trace-anonymous-1')).toMatchObject({ status: 401, errorCodes: ['UNAUTHENTICATED'] });
    expect(lines.find((line) => line.msg === 'http request' && line.requestId === 'trace-bad-1')?.errorCodes).toEqual(['GRAPHQL_PARSE_FAILED']);
  });

  it('never logs a token, variables or row data', () => {
    const output = server.output();
    for (const secret of [token, token.split('.')[2]!, viewerOnly.split('.')[2]!]) expect(output).not.toContain(secret);
    // Demo rows: raw data and file names.
    for (const rowData of ['app-01.dc1.example', 'RHEL 9', 'servers-dc1.csv', 'Ubuntu 22.04']) expect(output).not.toContain(rowData);
    expect(output).not.toMatch(/"variables"|"first":5|authorization/i);
  });

  it('serves Prometheus metrics at /metrics', async () => {
    const response = await fetch(`${server.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const metrics = await response.text();
    // Operation names are the clients' choice: never a label (any tenant's operator could read them here).
    expect(metrics).toMatch(/flowgraph_operation_duration_seconds_count\{operation_type="query",outcome="ok"\} \d+/);
    expect(metrics).toMatch(/flowgraph_operation_duration_seconds_count\{operation_type="mutation",outcome="ok"\} 2/);
    expect(metrics).not.toMatch(/operation_name|FlowGraph|OverSocket|Imported/);
    expect(metrics).toMatch(/flowgraph_operation_duration_seconds_bucket\{le="0\.005",/);
    expect(metrics).toMatch(/flowgraph_errors_total\{code="FORBIDDEN"\} 1/);
    expect(metrics).toMatch(/flowgraph_errors_total\{code="UNAUTHENTICATED"\} 1/);
    expect(metrics).toMatch(/flowgraph_http_responses_total\{status="401"\} 1/);
    expect(metrics).toMatch(/^flowgraph_active_subscriptions 0$/m);
    expect(metrics).toMatch(/^flowgraph_subscription_events_delivered_total\{delivery="pushed"\} 0$/m);
    expect(metrics).toMatch(/^flowgraph_subscription_events_delivered_total\{delivery="iterated"\} 0$/m);
    expect(metrics).toMatch(/^flowgraph_import_rows_total 3$/m);
    expect(metrics).toMatch(/^flowgraph_process_resident_memory_bytes \d+/m);
    // Tenants are never a label.
    expect(metrics).not.toContain(DEMO_VIEWER.clientAccountId);
  });
});

describe('subscription metrics', () => {
  const ticking = tickingSchema(3, 200);

  it('count active subscriptions and delivered events, over SSE and graphql-ws', async () => {
    const app = testApp(await testDatabase(), {}, { schema: ticking });
    const base = `127.0.0.1:${await app.start()}`;
    const gauge = async () => Number(/^flowgraph_active_subscriptions (\d+)/m.exec(await (await fetch(`http://${base}/metrics`)).text())![1]);
    try {
      const response = await fetch(`http://${base}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...authHeaders(DEMO_VIEWER) },
        body: JSON.stringify({ query: 'subscription Ticks { ticks }' }),
      });
      const socket = openSocket(`ws://${base}/graphql`, authHeaders(DEMO_VIEWER));
      expect(await socket.acknowledged).toBe(true);
      const overSocket = socket.operation('t', 'subscription Ticks { ticks }');
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await gauge()).toBe(2);
      const events = await readSse(response);
      await overSocket;
      socket.close();
      expect(events.filter((event) => event.event === 'next')).toHaveLength(3);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await gauge()).toBe(0);
      // A ticking stream cannot push: its events take the iterator chain on both transports.
      expect(await (await fetch(`http://${base}/metrics`)).text()).toMatch(/^flowgraph_subscription_events_delivered_total\{delivery="iterated"\} 6$/m);
    } finally {
      await app.stop();
    }
  });
});
