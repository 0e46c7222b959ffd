// Trusted documents against a real server process, on every transport (HTTP, Yoga's SSE, graphql-sse in both
// modes at /graphql/stream, graphql-ws), with real clients: with FLOWGRAPH_TRUSTED_DOCUMENTS set, an allowed hash
// runs (an operator's manifest and the dashboard's own), an unknown hash and a query sent as text are refused
// with a typed error. Without it (development) queries run as text, and the dashboard's hashes resolve too.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createClient as createSseClient, type Client as GraphQLSseClient } from 'graphql-sse';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import type { Viewer } from '../src/context.ts';
import { DashboardEventsDocument, DashboardPauseDocument } from '../dashboard/src/generated/graphql.ts';
import { authHeaders } from './support/auth.ts';
import { newTenant } from './support/factories.ts';
import { readSse } from './support/sse.ts';
import { startServer, type ServerProcess } from './support/server-process.ts';

type SseClient = GraphQLSseClient<boolean>;
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The operator's own client document, in a manifest of its own. */
const CURSOR = 'query Cursor { flowEventCursor }';
const CURSOR_HASH = sha256(CURSOR);
const STORE = 'mutation Store($input: StoreImportInput!) { storeImport(input: $input) { ... on MasterFlow { flowId version } } }';
const STORE_HASH = sha256(STORE);
const UNKNOWN_HASH = sha256('query Unknown { flowEventCursor }');
const EVENTS_HASH = DashboardEventsDocument.__meta__!.hash as string;
const PAUSE_HASH = DashboardPauseDocument.__meta__!.hash as string;

const byHash = (hash: string, variables: Record<string, unknown> = {}) => ({
  variables,
  extensions: { persistedQuery: { version: 1, sha256Hash: hash } },
});

type Body = { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: { code?: string } }[] };

async function post(server: ServerProcess, viewer: Viewer, body: unknown): Promise<{ status: number; body: Body }> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...authHeaders(viewer) },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Body };
}

const codes = (body: Body) => (body.errors ?? []).map((error) => error.extensions?.code);

/** The first result of an operation over a graphql-sse client, or the error it ended with. */
function firstSse(client: SseClient, payload: { query: string; variables?: Record<string, unknown>; extensions?: Record<string, unknown> }) {
  return new Promise<Body>((resolve, reject) => {
    const stop = client.subscribe(payload, {
      next: (result) => {
        resolve(result as Body);
        stop();
      },
      error: reject,
      complete: () => {},
    });
  });
}

function firstWs(client: WsClient, payload: { query: string; variables?: Record<string, unknown>; extensions?: Record<string, unknown> }) {
  return new Promise<Body>((resolve, reject) => {
    const stop = client.subscribe(payload, {
      next: (result) => {
        resolve(result as Body);
        stop();
      },
      error: (error) => (Array.isArray(error) ? resolve({ errors: error }) : reject(error)),
      complete: () => {},
    });
  });
}

/** Stores a flow by the hash of the operator's STORE document. */
async function storeFlow(server: ServerProcess, viewer: Viewer): Promise<{ flowId: string; version: number }> {
  const stored = await post(server, viewer, byHash(STORE_HASH, { input: { rows: [{ hostname: 'web-01' }], filename: 'servers.json', importType: 'servers' } }));
  if (!stored.body.data) throw new Error(JSON.stringify(stored.body));
  return stored.body.data.storeImport as { flowId: string; version: number };
}

describe('with FLOWGRAPH_TRUSTED_DOCUMENTS (production)', () => {
  let server: ServerProcess;
  const flows: { flowId: string; version: number }[] = [];
  const viewer = newTenant('trusted');
  const sseClients: SseClient[] = [];
  const wsClients: WsClient[] = [];

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'flowgraph-trusted-'));
    const manifest = path.join(dir, 'clients.json');
    await writeFile(manifest, JSON.stringify({ [CURSOR_HASH]: CURSOR, [STORE_HASH]: STORE }));
    server = await startServer({ FLOWGRAPH_DATA_DIR: path.join(dir, 'data'), DATABASE_URL: '', FLOWGRAPH_TRUSTED_DOCUMENTS: manifest });
    // The flows the graphql-sse tests change (one per mode), stored through the operator's document.
    for (const _mode of [1, 2]) flows.push(await storeFlow(server, viewer));
  });
  afterAll(async () => {
    for (const client of sseClients) client.dispose();
    await Promise.all(wsClients.map((client) => client.dispose()));
    await server?.stop('SIGKILL');
  });

  describe('HTTP', () => {
    it("runs an operator manifest's document and the dashboard's by hash", async () => {
      const cursor = await post(server, viewer, byHash(CURSOR_HASH));
      expect(cursor.status).toBe(200);
      expect(cursor.body).toEqual({ data: { flowEventCursor: expect.any(String) } });
      const dashboards = await post(server, viewer, byHash(dashboardHash('query DashboardEventCursor')));
      expect(dashboards.body).toEqual({ data: { flowEventCursor: cursor.body.data!.flowEventCursor } });
    });

    it('refuses an unknown hash and a query sent as text, even the text of a trusted document', async () => {
      const unknown = await post(server, viewer, byHash(UNKNOWN_HASH));
      expect(unknown.status).toBe(400);
      expect(codes(unknown.body)).toEqual(['PERSISTED_QUERY_NOT_IN_LIST']);
      for (const query of ['{ masterFlows(first: 1) { totalCount } }', CURSOR]) {
        const raw = await post(server, viewer, { query });
        expect(raw.status).toBe(400);
        expect(codes(raw.body)).toEqual(['PERSISTED_QUERY_ONLY']);
        expect(raw.body.data).toBeUndefined();
      }
      const both = await post(server, viewer, { query: '{ masterFlows(first: 1) { totalCount } }', ...byHash(CURSOR_HASH) });
      expect(codes(both.body)).toEqual(['PERSISTED_QUERY_ONLY']);
    });

    it('refuses a query over GET and in a multipart request too', async () => {
      const get = await fetch(`${server.url}/graphql?query=${encodeURIComponent('{ flowEventCursor }')}`, { headers: authHeaders(viewer) });
      expect(codes((await get.json()) as Body)).toEqual(['PERSISTED_QUERY_ONLY']);
      const allowed = await fetch(`${server.url}/graphql?extensions=${encodeURIComponent(JSON.stringify(byHash(CURSOR_HASH).extensions))}`, {
        headers: authHeaders(viewer),
      });
      expect(((await allowed.json()) as Body).data).toEqual({ flowEventCursor: expect.any(String) });
      const form = new FormData();
      form.append('operations', JSON.stringify({ query: 'mutation($input: StoreImportInput!) { storeImport(input: $input) { __typename } }', variables: { input: { file: null, filename: 'a.csv', importType: 'servers' } } }));
      form.append('map', JSON.stringify({ 0: ['variables.input.file'] }));
      form.append('0', new Blob(['hostname\nweb-02\n'], { type: 'text/csv' }), 'a.csv');
      const upload = await fetch(`${server.url}/graphql`, { method: 'POST', headers: authHeaders(viewer), body: form });
      expect(codes((await upload.json()) as Body)).toEqual(['PERSISTED_QUERY_ONLY']);
    });
  });

  it("Yoga's SSE (POST /graphql, text/event-stream): runs a hash, refuses a query", async () => {
    const sse = (body: unknown) =>
      fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...authHeaders(viewer) },
        body: JSON.stringify(body),
      });
    const allowed = await readSse(await sse(byHash(CURSOR_HASH)));
    expect(allowed.find((event) => event.event === 'next')?.data).toEqual({ data: { flowEventCursor: expect.any(String) } });
    const refused = await sse({ query: 'subscription { flowEvents { __typename } }' });
    const events = refused.headers.get('content-type')?.includes('text/event-stream') ? await readSse(refused) : [{ data: await refused.json() }];
    expect(JSON.stringify(events)).toContain('PERSISTED_QUERY_ONLY');
    expect(JSON.stringify(events)).not.toContain('"data":{"flowEvents"');
  });

  describe.each([
    { mode: 'distinct connections', singleConnection: false, index: 0 },
    { mode: 'single connection', singleConnection: true, index: 1 },
  ] as const)('graphql-sse, $mode', ({ singleConnection, index }) => {
    const client = () => {
      // One stream kept open (not lazy): the operations come one after another on it.
      const created = singleConnection
        ? createSseClient({ url: `${server.url}/graphql/stream`, headers: authHeaders(viewer), singleConnection: true, lazy: false, retryAttempts: 0 })
        : createSseClient({ url: `${server.url}/graphql/stream`, headers: authHeaders(viewer), singleConnection: false, retryAttempts: 0 });
      sseClients.push(created);
      return created;
    };

    it("runs a hash (the dashboard's subscription sees a change), refuses an unknown hash and a query", async () => {
      const sse = client();
      const { flowEventCursor } = (await firstSse(sse, { query: '', ...byHash(CURSOR_HASH) })).data as { flowEventCursor: string };
      const flow = flows[index]!;
      const event = firstSse(sse, { query: '', ...byHash(EVENTS_HASH, { after: flowEventCursor }) });
      const paused = await post(server, viewer, byHash(PAUSE_HASH, { flowId: flow.flowId, version: flow.version }));
      expect(paused.body.data).toEqual({ pauseMasterFlow: { __typename: 'MasterFlow', flowStatus: 'PAUSED', version: flow.version + 1 } });
      expect(((await event).data as { flowEvents: { kind: string; flowId: string } }).flowEvents).toMatchObject({ kind: 'STATUS_CHANGED', flowId: flow.flowId });

      // The client ends an operation refused before its events began with the response's status (in single
      // connection mode it aborts reading the body; the protocol-level test below reads it).
      for (const payload of [{ query: '', ...byHash(UNKNOWN_HASH) }, { query: '{ flowEventCursor }' }]) {
        const error = await firstSse(sse, payload).then(() => null, (caught: unknown) => caught);
        expect((error as { response?: Response }).response?.status).toBe(400);
      }
      if (!singleConnection) {
        expect(codes(await firstSse(sse, { query: '', ...byHash(UNKNOWN_HASH) }).catch(refusal))).toEqual(['PERSISTED_QUERY_NOT_IN_LIST']);
        expect(codes(await firstSse(sse, { query: '{ flowEventCursor }' }).catch(refusal))).toEqual(['PERSISTED_QUERY_ONLY']);
      }
    });
  });

  it('graphql-sse single connection, at the protocol level: an operation posted to a reserved stream is refused with its code', async () => {
    const reserved = await fetch(`${server.url}/graphql/stream`, { method: 'PUT', headers: authHeaders(viewer) });
    const token = await reserved.text();
    const operation = (body: { query: string; extensions?: object }) =>
      fetch(`${server.url}/graphql/stream`, {
        method: 'POST',
        headers: { ...authHeaders(viewer), 'content-type': 'application/json', 'x-graphql-event-stream-token': token },
        // The protocol names the operation in extensions.operationId, next to the persisted query's hash.
        body: JSON.stringify({ ...body, extensions: { ...(body as { extensions?: object }).extensions, operationId: 'one' } }),
      });
    for (const [body, code] of [
      [{ query: '{ flowEventCursor }' }, 'PERSISTED_QUERY_ONLY'],
      [{ query: '', ...byHash(UNKNOWN_HASH) }, 'PERSISTED_QUERY_NOT_IN_LIST'],
    ] as const) {
      const response = await operation(body);
      expect(response.status).toBe(400);
      expect(codes((await response.json()) as Body)).toEqual([code]);
    }
    // An allowed hash is accepted onto the stream (202: its result goes out on the stream's GET).
    expect((await operation({ query: '', ...byHash(CURSOR_HASH) })).status).toBe(202);
  });

  it('graphql-ws: runs a hash, refuses an unknown hash and a query', async () => {
    const ws = createWsClient({ url: server.url.replace('http', 'ws') + '/graphql', webSocketImpl: WebSocket, connectionParams: authHeaders(viewer), retryAttempts: 0, lazy: false });
    wsClients.push(ws);
    expect(await firstWs(ws, { query: '', ...byHash(CURSOR_HASH) })).toEqual({ data: { flowEventCursor: expect.any(String) } });
    expect(codes(await firstWs(ws, { query: '', ...byHash(UNKNOWN_HASH) }))).toEqual(['PERSISTED_QUERY_NOT_IN_LIST']);
    expect(codes(await firstWs(ws, { query: '{ flowEventCursor }' }))).toEqual(['PERSISTED_QUERY_ONLY']);
    expect(codes(await firstWs(ws, { query: 'subscription { flowEvents { __typename } }' }))).toEqual(['PERSISTED_QUERY_ONLY']);
  });
});

/** graphql-sse rejects an operation refused before its stream opened with a NetworkError carrying the response. */
async function refusal(error: unknown): Promise<Body> {
  const response = (error as { response?: Response }).response;
  if (!response) throw error;
  return (await response.json()) as Body;
}

/** The hash of the dashboard's document that starts with `start`, from its manifest (as the server reads it). */
function dashboardHash(start: string): string {
  const manifest = JSON.parse(readFileSync(new URL('../dashboard/src/generated/persisted-documents.json', import.meta.url), 'utf8')) as Record<string, string>;
  const entry = Object.entries(manifest).find(([, document]) => document.startsWith(start));
  if (!entry) throw new Error(`no dashboard document starts with ${start}`);
  return entry[0];
}

describe('without FLOWGRAPH_TRUSTED_DOCUMENTS (development)', () => {
  let server: ServerProcess;
  const viewer = newTenant('dev');

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'flowgraph-untrusted-'));
    server = await startServer({ FLOWGRAPH_DATA_DIR: dir, DATABASE_URL: '' });
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
  });

  it("runs queries as text, and the dashboard's documents by hash; an unknown hash is refused", async () => {
    expect((await post(server, viewer, { query: '{ flowEventCursor }' })).body).toEqual({ data: { flowEventCursor: expect.any(String) } });
    expect((await post(server, viewer, byHash(dashboardHash('query DashboardEventCursor')))).body).toEqual({ data: { flowEventCursor: expect.any(String) } });
    // An operator's document is not known here.
    expect(codes((await post(server, viewer, byHash(CURSOR_HASH))).body)).toEqual(['PERSISTED_QUERY_NOT_IN_LIST']);
    // Neither a query nor a hash: answered as without trusted documents.
    const empty = await post(server, viewer, { variables: {} });
    expect(empty.body.errors?.map((error) => error.message)).toEqual(['Must provide query string.']);
  });
});

describe('FLOWGRAPH_TRUSTED_DOCUMENTS is validated at start-up', () => {
  it('refuses a missing manifest, and one whose hash is not the sha256 of its document', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'flowgraph-manifest-'));
    expect(() => loadConfig({ FLOWGRAPH_TRUSTED_DOCUMENTS: path.join(dir, 'missing.json') })).toThrow(ConfigError);
    const wrong = path.join(dir, 'wrong.json');
    await writeFile(wrong, JSON.stringify({ [UNKNOWN_HASH]: CURSOR }));
    expect(() => loadConfig({ FLOWGRAPH_TRUSTED_DOCUMENTS: wrong })).toThrow(/^FLOWGRAPH_TRUSTED_DOCUMENTS: .* is not the sha256 hash of its document/);
    const apollo = path.join(dir, 'apollo.json');
    await writeFile(apollo, JSON.stringify({ format: 'apollo-persisted-query-manifest', version: 1, operations: [{ id: CURSOR_HASH, name: 'Cursor', type: 'query', body: CURSOR }] }));
    expect(loadConfig({ FLOWGRAPH_TRUSTED_DOCUMENTS: apollo }).trustedDocuments).toEqual([apollo]);
    expect(loadConfig({}).trustedDocuments).toEqual([]);
  });
});
