// Every limit, set to a small value and observed at its edge: operation depth, aliases, directives,
// tokens and cost; page size; request body and upload size; batching; graphql-ws message size,
// connection-init timeout and operations per socket; the per-request time limit and the database
// statement timeout; slow senders; introspection and GraphiQL switches; CSRF prevention; masking.
import { request as httpRequest } from 'node:http';
import net from 'node:net';
import { GraphQLInt, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.ts';
import { DEFAULT_LIMITS, loadConfig, type LimitsConfig } from '../src/config.ts';
import type { GraphQLContext, Viewer } from '../src/context.ts';
import { openDatabase, type Database } from '../src/db/database.ts';
import { workerDatabaseUrl } from './support/postgres-databases.ts';
import { authHeaders, TEST_AUTH_ENV } from './support/auth.ts';
import { createFlowGraph, newTenant } from './support/factories.ts';
import { testApp, type TestAppConfig } from './support/graphql.ts';
import { onPostgres, resetDatabase, testDatabase } from './support/test-database.ts';
import { tickingSchema } from './support/ticking-schema.ts';
import { StoreImportDocument } from './generated/graphql.ts';
import { readSse } from './support/sse.ts';
import { csvText, uploadFile } from './support/upload.ts';
import { openSocket } from './support/ws-client.ts';

let database: Database;
const tenant: Viewer = newTenant('lima');
const apps: App[] = [];

beforeAll(async () => {
  database = await testDatabase();
  await resetDatabase(database);
  await createFlowGraph(database.prisma, tenant, { imports: 2, recordsPerImport: 3 });
});
afterAll(async () => {
  for (const app of apps) await app.stop();
});

async function serve(overrides: TestAppConfig = {}, schema?: GraphQLSchema): Promise<{ app: App; http: string; ws: string }> {
  const app = testApp(database, overrides, schema ? { schema } : {});
  apps.push(app);
  const port = await app.start();
  return { app, http: `http://127.0.0.1:${port}/graphql`, ws: `ws://127.0.0.1:${port}/graphql` };
}

interface Answer {
  status: number;
  errors: { message: string; extensions?: Record<string, unknown> }[];
  data: unknown;
  text: string;
}

async function post(url: string, body: unknown, headers: Record<string, string> = authHeaders(tenant)): Promise<Answer> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await response.text();
  const parsed = JSON.parse(text) as { errors?: Answer['errors']; data?: unknown };
  return { status: response.status, errors: parsed.errors ?? [], data: parsed.data, text };
}

const codes = (answer: Answer) => answer.errors.map((error) => error.extensions?.code);

describe('operation shape limits (GraphQL Armor)', () => {
  let url: string;
  const limits: Partial<LimitsConfig> = { maxDepth: 5, maxAliases: 3, maxDirectives: 2, maxTokens: 60, maxCost: 1_000 };
  beforeAll(async () => {
    url = (await serve({ limits })).http;
  });

  it('depth: 5 levels pass, 6 are refused with MAX_DEPTH_EXCEEDED', async () => {
    expect(codes(await post(url, { query: '{ masterFlows(first: 1) { edges { node { dataImports { totalCount } } } } }' }))).toEqual([]);
    const deep = await post(url, { query: '{ masterFlows(first: 1) { edges { node { dataImports(first: 1) { edges { cursor } } } } } }' });
    expect(codes(deep)).toEqual(['MAX_DEPTH_EXCEEDED']);
    expect(deep.errors[0]!.message).toBe('Query depth limit of 5 exceeded, found 6.');
  });

  it('aliases: 3 pass, 4 are refused', async () => {
    const aliased = (n: number) => `{ ${Array.from({ length: n }, (_unused, index) => `a${index}: masterFlows { totalCount }`).join(' ')} }`;
    expect(codes(await post(url, { query: aliased(3) }))).toEqual([]);
    expect(codes(await post(url, { query: aliased(4) }))).toEqual(['MAX_ALIASES_EXCEEDED']);
  });

  it('directives: 2 pass, 3 are refused', async () => {
    const fields = ['totalCount @include(if: true)', 'pageInfo @skip(if: false) { hasNextPage }', 'edges @include(if: true) { cursor }'];
    const directed = (n: number) => `{ masterFlows { ${fields.slice(0, n).join(' ')} } }`;
    expect(codes(await post(url, { query: directed(2) }))).toEqual([]);
    expect(codes(await post(url, { query: directed(3) }))).toEqual(['MAX_DIRECTIVES_EXCEEDED']);
  });

  it('tokens: 60 pass, 61 are refused before parsing finishes', async () => {
    const tokens = (n: number) => `{ ${'__typename '.repeat(n - 2)}}`;
    expect(codes(await post(url, { query: tokens(60) }))).toEqual([]);
    expect(codes(await post(url, { query: tokens(61) }))).toEqual(['MAX_TOKENS_EXCEEDED']);
  });

  it('cost: page sizes multiply, whether literal or in variables', async () => {
    // masterFlows(first: n) { totalCount } costs n × (2 + 1.5 × 1) = 3.5 n.
    expect(codes(await post(url, { query: '{ masterFlows(first: 285) { totalCount } }' }))).toEqual([]);
    expect(codes(await post(url, { query: '{ masterFlows(first: 286) { totalCount } }' }))).toEqual(['MAX_COST_EXCEEDED']);
    const withVariable = 'query Sized($n: Int) { masterFlows(first: $n) { totalCount } }';
    expect(codes(await post(url, { query: withVariable, variables: { n: 285 } }))).toEqual([]);
    const refused = await post(url, { query: withVariable, variables: { n: 286 } });
    expect(codes(refused)).toEqual(['MAX_COST_EXCEEDED']);
    expect(refused.errors[0]!.message).toBe('Query Cost limit of 1000 exceeded, found 1001.');
    const byDefault = 'query Sized($n: Int = 286) { masterFlows(first: $n) { totalCount } }';
    expect(codes(await post(url, { query: byDefault }))).toEqual(['MAX_COST_EXCEEDED']);
  });

  it('cost: a connection asked for no size counts the 50 items it returns, and nested ones multiply', async () => {
    // 50 × 3.5 = 175 passes; nested: 50 × (2 + 1.5 × (2 + 1.5 × (2 + 1.5 × 175))) = 30,006.25 is refused.
    expect(codes(await post(url, { query: '{ masterFlows { totalCount } }' }))).toEqual([]);
    const nested = await post(url, { query: '{ masterFlows { edges { node { dataImports { totalCount } } } } }' });
    expect(codes(nested)).toEqual(['MAX_COST_EXCEEDED']);
    expect(nested.errors[0]!.message).toBe('Query Cost limit of 1000 exceeded, found 30006.25.');
    // A variable without a value (or null) is the default page size too.
    const sized = 'query Sized($n: Int) { masterFlows(first: $n) { edges { node { dataImports(first: $n) { totalCount } } } } }';
    expect(codes(await post(url, { query: sized }))).toEqual(['MAX_COST_EXCEEDED']);
    expect(codes(await post(url, { query: sized, variables: { n: null } }))).toEqual(['MAX_COST_EXCEEDED']);
    expect(codes(await post(url, { query: sized, variables: { n: 2 } }))).toEqual([]);
  });

  it('apply over graphql-ws too', async () => {
    const { ws } = await serve({ limits });
    const socket = openSocket(ws, authHeaders(tenant));
    expect(await socket.acknowledged).toBe(true);
    const frames = await socket.operation('deep', '{ masterFlows { edges { node { dataImports { edges { cursor } } } } } }');
    expect(frames).toEqual([{ id: 'deep', type: 'error', payload: [expect.objectContaining({ extensions: { code: 'MAX_DEPTH_EXCEEDED' } })] }]);
    // The reserved alias (src/graphql/reserved-aliases.ts) is refused there too.
    const proto = await socket.operation('proto', '{ __proto__: masterFlows(first: 1) { totalCount } }');
    expect(proto).toEqual([
      { id: 'proto', type: 'error', payload: [expect.objectContaining({ message: expect.stringMatching(/alias "__proto__" is reserved/) })] },
    ]);
    socket.close();
  });

  it('let every operation the project ships pass the default limits', async () => {
    const { readFile, readdir } = await import('node:fs/promises');
    const { http } = await serve({ limits: DEFAULT_LIMITS });
    const files: string[] = [];
    for (const dir of ['src/graphql/operations', 'test/operations', 'dashboard/operations']) {
      for (const name of await readdir(dir).catch(() => [] as string[])) if (name.endsWith('.graphql')) files.push(`${dir}/${name}`);
    }
    expect(files.length).toBeGreaterThan(3);
    for (const file of files) {
      const query = await readFile(file, 'utf8');
      // At the page sizes the project uses ($first: 10, the dashboard's); sizes left out count 50 each.
      const answer = await post(http, { query, variables: { first: 10 } });
      const limitCodes = codes(answer).filter((code) => typeof code === 'string' && code.startsWith('MAX_'));
      expect({ file, limitCodes }).toEqual({ file, limitCodes: [] });
    }
  });
});

describe('page size cap', () => {
  it('refuses first/last beyond the configured cap, literal or variable, and accepts the cap', async () => {
    const { http } = await serve({ limits: { maxPageSize: 7 } });
    expect(codes(await post(http, { query: '{ masterFlows(first: 7) { totalCount } }' }))).toEqual([]);
    const refused = await post(http, { query: '{ masterFlows(first: 8) { totalCount } }' });
    expect(refused.errors[0]!.extensions).toMatchObject({ code: 'PAGE_SIZE_OUT_OF_RANGE', maxPageSize: 7 });
    const nested = await post(http, { query: 'query($n: Int) { masterFlows { edges { node { rawRecords(last: $n) { totalCount } } } } }', variables: { n: 8 } });
    expect(codes(nested)).toEqual(['PAGE_SIZE_OUT_OF_RANGE']);
  });
});

describe('request body and upload size', () => {
  let url: string;
  beforeAll(async () => {
    url = (await serve({ limits: { maxBodyBytes: 4_096 } })).http;
  });

  const padded = (bytes: number) => {
    const body = JSON.stringify({ query: '{ masterFlows { totalCount } }', variables: { pad: '' } });
    return body.replace('"pad":""', `"pad":"${'x'.repeat(bytes - body.length)}"`);
  };

  it('accepts a JSON body at the limit and refuses one byte more with 413, unread', async () => {
    const fits = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...authHeaders(tenant) }, body: padded(4_096) });
    expect(fits.status).toBe(200);
    const tooBig = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...authHeaders(tenant) }, body: padded(4_097) });
    expect(tooBig.status).toBe(413);
    expect(await tooBig.json()).toEqual({ errors: [{ message: 'The request body is larger than 4096 bytes.', extensions: { code: 'REQUEST_ENTITY_TOO_LARGE' } }] });
  });

  it('cuts off a chunked body (no Content-Length) at the limit', async () => {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', ...authHeaders(tenant) } }, (response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode!, body: text }));
      });
      request.on('error', reject);
      const body = padded(20_000);
      for (let offset = 0; offset < body.length; offset += 1_000) request.write(body.slice(offset, offset + 1_000));
      request.end();
    });
    expect(status).toBe(413);
    expect(body).toContain('REQUEST_ENTITY_TOO_LARGE');
  });

  it('leaves multipart uploads to their own limits: a file larger than the body limit is imported', async () => {
    const uploader = newTenant('uploader');
    const result = await uploadFile({
      url: url.replace(/\/graphql$/, ''),
      viewer: uploader,
      document: StoreImportDocument,
      variables: { input: { filename: 'big.csv', importType: 'servers' } },
      file: { name: 'big.csv', type: 'text/csv', content: csvText(200) },
    });
    expect(csvText(200).length).toBeGreaterThan(4_096);
    expect(result.status).toBe(200);
    expect(result.data?.storeImport).toMatchObject({ __typename: 'MasterFlow', rawRecordCount: 200 });
  });

  it('takes the upload limit from FLOWGRAPH_MAX_UPLOAD_BYTES, and the body limit follows it (inline rows count there)', () => {
    // storeImport answers a file over the limit with a typed FileTooLarge (test/store-import.test.ts).
    const config = loadConfig({ ...TEST_AUTH_ENV, FLOWGRAPH_MAX_UPLOAD_BYTES: '65536' });
    expect(config.imports.maxFileBytes).toBe(65_536);
    expect(config.limits.maxBodyBytes).toBe(65_536 + 1_048_576);
    expect(loadConfig({ ...TEST_AUTH_ENV, FLOWGRAPH_MAX_BODY_BYTES: '2048' }).limits.maxBodyBytes).toBe(2_048);
  });
});

describe('batching', () => {
  const batch = (n: number) => Array.from({ length: n }, () => ({ query: '{ masterFlows { totalCount } }' }));

  it('is off by default', async () => {
    const { http } = await serve();
    const answer = await fetch(http, { method: 'POST', headers: { 'content-type': 'application/json', ...authHeaders(tenant) }, body: JSON.stringify(batch(2)) });
    expect(answer.status).toBe(400);
    expect(await answer.text()).toContain('Batching is not supported');
  });

  it('is capped when turned on', async () => {
    const { http } = await serve({ limits: { maxBatch: 2 } });
    const two = await fetch(http, { method: 'POST', headers: { 'content-type': 'application/json', ...authHeaders(tenant) }, body: JSON.stringify(batch(2)) });
    expect(two.status).toBe(200);
    expect(await two.json()).toEqual([expect.objectContaining({ data: { masterFlows: { totalCount: 1 } } }), expect.objectContaining({ data: { masterFlows: { totalCount: 1 } } })]);
    const three = await fetch(http, { method: 'POST', headers: { 'content-type': 'application/json', ...authHeaders(tenant) }, body: JSON.stringify(batch(3)) });
    expect(three.status).toBe(413);
  });
});

describe('graphql-ws limits', () => {
  const ticking = tickingSchema(1_000, 50);

  it('closes a socket that sends a message larger than maxPayload with 1009', async () => {
    const { ws } = await serve({ limits: { wsMaxPayloadBytes: 2_048 } });
    const socket = openSocket(ws, authHeaders(tenant));
    expect(await socket.acknowledged).toBe(true);
    expect((await socket.operation('small', '{ masterFlows { totalCount } }'))[0]).toMatchObject({ type: 'next' });
    socket.send({ id: 'big', type: 'subscribe', payload: { query: `{ masterFlows { totalCount } } # ${'x'.repeat(3_000)}` } });
    expect((await socket.closed).code).toBe(1009);
  });

  it('closes a socket that never sends connection_init with 4408 after the timeout', async () => {
    const { ws } = await serve({ limits: { wsInitTimeoutMs: 300 } });
    const opened = Date.now();
    const socket = openSocket(ws, undefined, { sendInit: false });
    const { code } = await socket.closed;
    expect(code).toBe(4408);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(280);
    expect(Date.now() - opened).toBeLessThan(2_000);
  });

  it('refuses operations beyond the per-socket maximum, and accepts one when another ends', async () => {
    const { ws } = await serve({ limits: { wsMaxSubscriptions: 2 } }, ticking);
    const socket = openSocket(ws, authHeaders(tenant));
    expect(await socket.acknowledged).toBe(true);
    void socket.operation('one', 'subscription { ticks }');
    void socket.operation('two', 'subscription { ticks }');
    const third = await socket.operation('three', 'subscription { ticks }');
    expect(third).toEqual([{ id: 'three', type: 'error', payload: [expect.objectContaining({ extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', scope: 'socket', limit: 2 } })] }]);
    socket.send({ id: 'one', type: 'complete' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    const fourth = socket.operation('four', 'subscription { ticks }');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(socket.frames.filter((frame) => frame.id === 'four' && frame.type === 'next').length).toBeGreaterThan(0);
    socket.close();
    await fourth;
  });
});

describe('time limits', () => {
  /** Holds a lock that blocks every read of master flows until released. */
  async function blockReads(): Promise<() => Promise<void>> {
    if (database.pglite) {
      // PGlite is one session: an open transaction holds every other statement back.
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      const transaction = database.pglite.transaction(async () => {
        started();
        await released;
      });
      await running;
      return async () => {
        release();
        await transaction;
      };
    }
    const client = new pg.Client({ connectionString: workerDatabaseUrl(process.env.TEST_DATABASE_URL!, process.env.VITEST_POOL_ID ?? '1') });
    await client.connect();
    await client.query('BEGIN');
    await client.query('LOCK TABLE crewai_flow_state_extensions IN ACCESS EXCLUSIVE MODE');
    return async () => {
      await client.query('ROLLBACK');
      await client.end();
    };
  }

  it('answers REQUEST_TIMEOUT when an operation outlives the per-request limit, and serves again after', async () => {
    const { http } = await serve({ limits: { requestTimeoutMs: 400 } });
    const release = await blockReads();
    const started = Date.now();
    let answer: Answer;
    try {
      answer = await post(http, { query: '{ masterFlows { totalCount } }' });
    } finally {
      await release();
    }
    const took = Date.now() - started;
    expect(answer.status).toBeLessThan(500);
    expect(answer.errors[0]!.extensions).toMatchObject({ code: 'REQUEST_TIMEOUT', retryable: true, timeoutMs: 400 });
    expect(took).toBeGreaterThanOrEqual(380);
    expect(took).toBeLessThan(2_000);
    expect(codes(await post(http, { query: '{ masterFlows { totalCount } }' }))).toEqual([]);
  });

  it.runIf(onPostgres)('stops a statement at the database statement_timeout (PostgreSQL)', async () => {
    const url = workerDatabaseUrl(process.env.TEST_DATABASE_URL!, process.env.VITEST_POOL_ID ?? '1');
    const impatient = await openDatabase({ databaseUrl: url, statementTimeoutMs: 300 });
    const app = testApp(impatient, { limits: { requestTimeoutMs: 10_000 } });
    apps.push(app);
    const http = `http://127.0.0.1:${await app.start()}/graphql`;
    const release = await blockReads();
    const started = Date.now();
    let answer: Answer;
    try {
      answer = await post(http, { query: '{ masterFlows { totalCount } }' });
    } finally {
      await release();
    }
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(answer.errors[0]).toMatchObject({ extensions: { code: 'QUERY_TIMEOUT', retryable: true } });
    expect(answer.text).not.toMatch(/57014|canceling statement|prisma|SELECT/i);
    await app.stop();
    await impatient.close();
  });

  it('drops a connection whose request does not arrive within the receive timeout', async () => {
    const { http } = await serve({ limits: { httpReceiveTimeoutMs: 1_000 } });
    const { port } = new URL(http);
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    const opened = Date.now();
    // Authenticated: an unauthenticated body is refused (401) before it is read (test/memory-budget.test.ts).
    const credentials = Object.entries(authHeaders(tenant)).map(([name, value]) => `${name}: ${value}\r\n`).join('');
    socket.write(`POST /graphql HTTP/1.1\r\nHost: x\r\n${credentials}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"query":`);
    let reply = '';
    socket.on('data', (chunk) => (reply += chunk.toString()));
    await new Promise((resolve) => socket.once('close', resolve));
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - opened).toBeLessThan(3_500);
  });
});

describe('introspection, suggestions and GraphiQL', () => {
  it('are on in development and off in production, unless configured', () => {
    const production = loadConfig({ NODE_ENV: 'production', ...TEST_AUTH_ENV, FLOWGRAPH_METRICS: '0' });
    expect([production.introspection, production.graphiql]).toEqual([false, false]);
    const development = loadConfig({ ...TEST_AUTH_ENV });
    expect([development.introspection, development.graphiql]).toEqual([true, true]);
    const opened = loadConfig({ NODE_ENV: 'production', ...TEST_AUTH_ENV, FLOWGRAPH_METRICS: '0', FLOWGRAPH_INTROSPECTION: '1', FLOWGRAPH_GRAPHIQL: 'true' });
    expect([opened.introspection, opened.graphiql]).toEqual([true, true]);
  });

  it('when off, refuse introspection over HTTP and graphql-ws, hide suggestions, and serve no GraphiQL', async () => {
    const { http, ws } = await serve({ introspection: false, graphiql: false });
    const introspection = await post(http, { query: '{ __schema { types { name } } }' });
    expect(introspection.errors[0]!.message).toMatch(/introspection/i);
    expect(introspection.data ?? null).toBeNull();
    const typeQuery = await post(http, { query: '{ __type(name: "MasterFlow") { fields { name } } }' });
    expect(typeQuery.data ?? null).toBeNull();
    const typo = await post(http, { query: '{ masterFlowz { totalCount } }' });
    expect(typo.errors[0]!.message).not.toMatch(/Did you mean/);
    const socket = openSocket(ws, authHeaders(tenant));
    expect(await socket.acknowledged).toBe(true);
    const overWs = await socket.operation('i', '{ __schema { queryType { name } } }');
    expect(overWs[0]).toMatchObject({ type: 'error' });
    socket.close();
    const page = await fetch(http, { headers: { accept: 'text/html' } });
    expect(await page.text()).not.toMatch(/graphiql/i);
    expect(page.status).not.toBe(200);
  });

  it('when on, answer introspection and suggest field names', async () => {
    const { http } = await serve({ introspection: true, graphiql: true });
    expect(((await post(http, { query: '{ __schema { queryType { name } } }' })).data as { __schema: unknown }).__schema).toEqual({ queryType: { name: 'Query' } });
    expect((await post(http, { query: '{ masterFlowz { totalCount } }' })).errors[0]!.message).toMatch(/Did you mean/);
    const page = await fetch(http, { headers: { accept: 'text/html' } });
    expect(await page.text()).toMatch(/graphiql/i);
  });
});

describe('CSRF prevention', () => {
  it('refuses GET and multipart requests that carry no preflighted header, and lets them through with a token', async () => {
    const { http } = await serve();
    const query = encodeURIComponent('{ masterFlows { totalCount } }');
    expect((await fetch(`${http}?query=${query}`)).status).toBe(403);
    const withToken = await fetch(`${http}?query=${query}`, { headers: authHeaders(tenant) });
    expect(withToken.status).toBe(200);
    const form = new FormData();
    form.append('operations', JSON.stringify({ query: '{ masterFlows { totalCount } }' }));
    form.append('map', '{}');
    expect((await fetch(http, { method: 'POST', body: form })).status).toBe(403);
    const plain = await fetch(http, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ query: '{ __typename }' }) });
    expect(plain.status).toBe(403);
  });
});

describe('error masking', () => {
  const failing = new GraphQLSchema({
    query: new GraphQLObjectType<unknown, GraphQLContext>({
      name: 'Query',
      fields: {
        crash: {
          type: GraphQLString,
          resolve: () => {
            throw new Error('SELECT secret FROM crewai_flow_state_extensions WHERE id = 42 failed at /srv/app.ts:10');
          },
        },
        badSql: { type: GraphQLString, resolve: async (_root, _args, ctx) => JSON.stringify(await ctx.prisma.$queryRawUnsafe('SELECT * FROM no_such_table_x')) },
        badUuid: { type: GraphQLString, resolve: async (_root, _args, ctx) => JSON.stringify(await ctx.prisma.masterFlow.findFirst({ where: { flowId: 'not-a-uuid' } })) },
      },
    }),
  });

  it('sends no stack, SQL, message or internal id of an unexpected error', async () => {
    const { http } = await serve({}, failing);
    const crash = await post(http, { query: '{ crash }' });
    // Queries run through graphql-jit, whose errors carry no `locations`; everything else is graphql-js' shape.
    expect(crash.errors).toEqual([{ message: 'Unexpected error.', path: ['crash'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }]);
    const badSql = await post(http, { query: '{ badSql }' });
    expect(codes(badSql)).toEqual(['INTERNAL_SERVER_ERROR']);
    for (const answer of [crash, badSql]) {
      expect(answer.text).not.toMatch(/SELECT|no_such_table|secret|stack|\.ts:|prisma|42P01/i);
    }
  });

  it('turns a value the database cannot take into BAD_USER_INPUT, still without details', async () => {
    const { http } = await serve({}, failing);
    const answer = await post(http, { query: '{ badUuid }' });
    expect(codes(answer)).toEqual(['BAD_USER_INPUT']);
    expect(answer.text).not.toMatch(/22P02|not-a-uuid|prisma|invocation/i);
  });
});

describe('errors in the middle of a subscription', () => {
  const failingStream = (failure: () => Error) =>
    new GraphQLSchema({
      query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
      subscription: new GraphQLObjectType({
        name: 'Subscription',
        fields: {
          events: {
            type: GraphQLInt,
            subscribe: async function* events() {
              yield { events: 1 };
              throw failure();
            },
          },
        },
      }),
    });

  async function streamOver(transport: 'ws' | 'sse', schema: GraphQLSchema): Promise<string> {
    const { http, ws } = await serve({}, schema);
    if (transport === 'ws') {
      const socket = openSocket(ws, authHeaders(tenant));
      expect(await socket.acknowledged).toBe(true);
      const frames = await socket.operation('s', 'subscription { events }');
      socket.close();
      return JSON.stringify(frames);
    }
    const response = await fetch(http, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...authHeaders(tenant) },
      body: JSON.stringify({ query: 'subscription { events }' }),
    });
    return JSON.stringify(await readSse(response));
  }

  for (const transport of ['ws', 'sse'] as const) {
    it(`end with a retryable DATABASE_UNAVAILABLE when the database goes away (${transport})`, async () => {
      const unreachable = () => Object.assign(new Error("Can't reach database server at 10.0.0.7:5432"), { code: 'P1001' });
      const text = await streamOver(transport, failingStream(unreachable));
      expect(text).toContain('"events":1');
      expect(text).toMatch(/"code":"DATABASE_UNAVAILABLE","retryable":true/);
      expect(text).not.toMatch(/10\.0\.0\.7|P1001|"http"/);
    });

    it(`end with a masked error for anything unexpected (${transport})`, async () => {
      const text = await streamOver(transport, failingStream(() => new Error('SELECT secret FROM crewai_flow_state_extensions at /srv/app.ts:3')));
      expect(text).toMatch(/Unexpected error\..*INTERNAL_SERVER_ERROR/);
      expect(text).not.toMatch(/SELECT|secret|\.ts:/);
    });
  }
});
