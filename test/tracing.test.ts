// OpenTelemetry traces: one query's span with its SQL statements as children (an in-memory exporter, the
// real database), an import's and the event log's spans, and a server process that posts its spans over
// OTLP/HTTP to a receiver started here when OTEL_EXPORTER_OTLP_ENDPOINT is set (and loads no SDK without it).
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.ts';
import type { Database } from '../src/db/database.ts';
import { startTracing, type Tracing } from '../src/observability/tracing.ts';
import { authHeaders } from './support/auth.ts';
import { createFlowGraph, newTenant } from './support/factories.ts';
import { executeOk, testApp } from './support/graphql.ts';
import { until } from './support/polling.ts';
import { startServer, type ServerProcess } from './support/server-process.ts';
import { testDatabase } from './support/test-database.ts';

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe('spans of an operation, with an in-memory exporter', () => {
  let database: Database;
  let app: App;
  let tracing: Tracing;
  const exporter = new InMemorySpanExporter();
  const viewer = newTenant('traced');

  beforeAll(async () => {
    database = await testDatabase();
    tracing = startTracing({ exporter, processing: 'simple' });
    app = testApp(database, {}, { tracing });
    await app.hub.start();
  });
  afterAll(async () => {
    await app?.stop();
    await tracing?.shutdown();
    // The database is the worker's, shared with the other test files (test/support/test-database.ts): not closed here.
  });

  it('has the SQL statements of one query as children of its span, in one trace', async () => {
    const flow = await createFlowGraph(database.prisma, viewer, { recordsPerImport: 2 });
    exporter.reset();
    // Compiled (one statement of the read compiler) and through the resolvers (Prisma's statements).
    for (const [name, query] of [
      ['Compiled', `query Compiled($flowId: UUID!) { masterFlow(flowId: $flowId) { flowName dataImports { edges { node { filename } } } } }`],
      ['Resolvers', `query Resolvers($flowId: UUID!) { masterFlow(flowId: $flowId) { flowName phaseTransitions { from to } } flowEventCursor }`],
    ] as const) {
      await executeOk(app, viewer, query, { flowId: flow.flowId });
      const spans = exporter.getFinishedSpans();
      const operation = spans.find((span) => span.name === `query.${name}`);
      expect(operation, `${name}: ${spans.map((span) => span.name).join(', ')}`).toBeDefined();
      expect(operation!.attributes['graphql.execute.operationName']).toBe(name);
      // The document is recorded (no inline arguments), never the variables.
      expect(String(operation!.attributes['graphql.execute.document'])).toContain('masterFlow');
      expect(JSON.stringify(operation!.attributes)).not.toContain(flow.flowId);
      const statements = spans.filter((span) => span.name.startsWith('sql ') && parentOf(span) === operation!.spanContext().spanId);
      expect(statements.length, `${name}: SQL spans under the operation`).toBeGreaterThanOrEqual(1);
      for (const statement of statements) {
        expect(statement.spanContext().traceId).toBe(operation!.spanContext().traceId);
        expect(statement.attributes['db.system']).toBe('postgresql');
        expect(String(statement.attributes['db.statement'])).toMatch(/^\s*(select|with)\b/i);
        // Parameters never: the flow id is a bound value.
        expect(String(statement.attributes['db.statement'])).not.toContain(flow.flowId);
        expect(statement.startTime[0] * 1e9 + statement.startTime[1]).toBeGreaterThanOrEqual(operation!.startTime[0] * 1e9 + operation!.startTime[1]);
      }
      exporter.reset();
    }
  });

  it("continues the caller's trace when the request carries a W3C traceparent", async () => {
    exporter.reset();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const callerSpanId = '00f067aa0ba902b7';
    const response = await app.yoga.fetch('http://flowgraph.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${callerSpanId}-01`, ...authHeaders(viewer) },
      body: JSON.stringify({ query: 'query Continued { flowEventCursor }' }),
    });
    expect(response.status).toBe(200);
    const operation = exporter.getFinishedSpans().find((span) => span.name === 'query.Continued')!;
    expect(operation.spanContext().traceId).toBe(traceId);
    expect(parentOf(operation)).toBe(callerSpanId);
  });

  it("has an import's span, with its statements, under the mutation's span; and the event log's reads", async () => {
    exporter.reset();
    await executeOk(app, viewer, 'mutation Store($input: StoreImportInput!) { storeImport(input: $input) { __typename } }', {
      input: { rows: [{ hostname: 'a' }, { hostname: 'b' }], filename: 'two.json', importType: 'servers' },
    });
    await until(() => exporter.getFinishedSpans().some((span) => span.name === 'flowgraph.events.read'), 'the event log read');
    const spans = exporter.getFinishedSpans();
    const mutation = spans.find((span) => span.name === 'mutation.Store')!;
    const imported = spans.find((span) => span.name === 'flowgraph.import')!;
    expect(parentOf(imported)).toBe(mutation.spanContext().spanId);
    expect(imported.attributes).toMatchObject({ 'flowgraph.import.type': 'servers', 'flowgraph.import.replayed': false });
    const inserts = spans.filter((span) => span.name === 'sql INSERT' && span.spanContext().traceId === mutation.spanContext().traceId);
    expect(inserts.length).toBeGreaterThanOrEqual(1);
    // The hub reads the new event in its own trace, with its statement under it.
    const read = spans.find((span) => span.name === 'flowgraph.events.read')!;
    expect(spans.some((span) => span.name.startsWith('sql ') && parentOf(span) === read.spanContext().spanId)).toBe(true);
  });
});

/** An OTLP/HTTP receiver: what the exporter posts to /v1/traces, as parsed JSON. */
async function otlpReceiver() {
  const posts: { path: string; contentType: string; body: unknown }[] = [];
  const server = createServer(async (request: IncomingMessage, response) => {
    let text = '';
    for await (const chunk of request) text += String(chunk);
    posts.push({ path: request.url ?? '', contentType: request.headers['content-type'] ?? '', body: text ? JSON.parse(text) : null });
    response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { posts, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((resolve) => server.close(resolve)) };
}

type OtlpSpan = { name: string; traceId: string; spanId: string; parentSpanId?: string };
type OtlpBody = { resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] }; scopeSpans: { spans: OtlpSpan[] }[] }[] };

describe('a server process exporting over OTLP/HTTP', () => {
  let receiver: Awaited<ReturnType<typeof otlpReceiver>>;
  let server: ServerProcess | undefined;
  const viewer = newTenant('otlp');

  beforeAll(async () => {
    receiver = await otlpReceiver();
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await receiver?.close();
  });

  it('posts the spans of a query to OTEL_EXPORTER_OTLP_ENDPOINT', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flowgraph-otlp-'));
    server = await startServer({
      FLOWGRAPH_DATA_DIR: dataDir,
      DATABASE_URL: '',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: 'flowgraph-under-test',
      // Export within a fraction of a second instead of every 5 s.
      OTEL_BSP_SCHEDULE_DELAY: '100',
    });
    expect(server.output()).toContain('exporting traces over OTLP as flowgraph-under-test');
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authHeaders(viewer) },
      body: JSON.stringify({ query: 'query Exported { masterFlows(first: 5) { totalCount } }' }),
    });
    expect(response.status).toBe(200);
    const spans = () =>
      receiver.posts.flatMap((post) => (post.body as OtlpBody).resourceSpans.flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans)));
    await until(() => spans().some((span) => span.name === 'query.Exported'), 'the exported operation span', 1_500);
    const post = receiver.posts[0]!;
    expect(post.path).toBe('/v1/traces');
    expect(post.contentType).toMatch(/^application\/json/);
    const service = (post.body as OtlpBody).resourceSpans[0]!.resource.attributes.find((attribute) => attribute.key === 'service.name');
    expect(service?.value.stringValue).toBe('flowgraph-under-test');
    const operation = spans().find((span) => span.name === 'query.Exported')!;
    await until(() => spans().some((span) => span.name.startsWith('sql ') && span.parentSpanId === operation.spanId), 'its SQL span', 1_500);
  });

  it('posts nothing without the variable', async () => {
    await server?.stop();
    const before = receiver.posts.length;
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flowgraph-no-otlp-'));
    server = await startServer({ FLOWGRAPH_DATA_DIR: dataDir, DATABASE_URL: '', OTEL_EXPORTER_OTLP_ENDPOINT: '' });
    expect(server.output()).not.toContain('exporting traces');
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authHeaders(viewer) },
      body: JSON.stringify({ query: 'query NotExported { masterFlows(first: 5) { totalCount } }' }),
    });
    expect(response.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(receiver.posts.length).toBe(before);
  });
});

describe('without tracing, no OpenTelemetry SDK code is loaded', () => {
  it('is imported only by src/observability/tracing.ts, which server.ts imports only when tracing is on', async () => {
    const { readdirSync, readFileSync } = await import('node:fs');
    const root = new URL('../src/', import.meta.url);
    const files = readdirSync(root, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts') && !file.startsWith('generated'));
    const importers = files.filter((file) => /from '@(opentelemetry\/(sdk|exporter|resources)|envelop\/opentelemetry)/.test(readFileSync(new URL(file, root), 'utf8')));
    expect(importers).toEqual(['observability/tracing.ts']);
    const staticImports = files.filter((file) => /^import [^;]*'[./]*(observability\/)?tracing\.ts'/m.test(readFileSync(new URL(file, root), 'utf8')));
    expect(staticImports).toEqual([]);
    expect(readFileSync(new URL('server.ts', root), 'utf8')).toContain("await import('./observability/tracing.ts')");
  });
});
