// Flow events across real server processes: two instances on one PostgreSQL database, a restart with a
// client resuming from its cursor, and the LISTEN connection killed while events flow.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/db/database.ts';
import { applyMigrations } from '../src/db/migrator.ts';
import { LISTENER_APPLICATION_NAME } from '../src/db/wake-up-channel.ts';
import { createFlowGraph, newTenant } from './support/factories.ts';
import { changeFlowStatus } from './support/flow-changes.ts';
import { dropDatabase, recreateDatabase, workerDatabaseUrl } from './support/postgres-databases.ts';
import { startServer, type ServerProcess } from './support/server-process.ts';
import { connectWs, sequenceOf, subscribeSse, subscribeWs, type Received } from './support/subscriptions.ts';
import { onPostgres } from './support/test-database.ts';
import { viewerHeaders } from './support/graphql.ts';
import type { Viewer } from '../src/context.ts';
import { FlowEventsLiveDocument, type FlowEventsLiveSubscription } from './generated/graphql.ts';

const servers: ServerProcess[] = [];
const clients: { dispose(): Promise<void> }[] = [];

async function start(env: Record<string, string>): Promise<ServerProcess> {
  const server = await startServer(env);
  servers.push(server);
  return server;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.dispose().catch(() => {})));
  await Promise.all(servers.splice(0).map((server) => server.stop('SIGKILL')));
});

function sequences(received: Received<FlowEventsLiveSubscription>): number[] {
  return received.data.flatMap((data) => (data.flowEvents.__typename === 'FlowEvent' ? [sequenceOf(data.flowEvents.cursor)] : []));
}

function hasSequences(count: number) {
  return (received: Received<FlowEventsLiveSubscription>) => sequences(received).length >= count;
}

/**
 * The current end of the log, read from a server before subscribing: subscribing with it as `after` gets
 * every later event, however long the subscription takes to be registered (what a client does too).
 */
async function cursorNow(server: ServerProcess, viewer: Viewer): Promise<string> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...viewerHeaders(viewer) },
    body: JSON.stringify({ query: '{ flowEventCursor }' }),
  });
  const body = (await response.json()) as { data: { flowEventCursor: string } };
  return body.data.flowEventCursor;
}

describe.runIf(onPostgres)('on one PostgreSQL database', () => {
  let url: string;
  let database: Database;

  beforeAll(async () => {
    url = workerDatabaseUrl(process.env.TEST_DATABASE_URL!, `processes_${process.env.VITEST_POOL_ID ?? '1'}`);
    await recreateDatabase(url);
    database = await openDatabase({ databaseUrl: url, poolSize: 4 });
    await applyMigrations(database.sql);
  });
  afterAll(async () => {
    await database?.close();
    if (url) await dropDatabase(url);
  });

  it('a change made through instance A reaches a graphql-ws subscriber on B and an SSE subscriber on A', async () => {
    const [a, b] = await Promise.all([start({ DATABASE_URL: url }), start({ DATABASE_URL: url })]);
    const tenant = newTenant('carol');
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
    const connection = connectWs(`${b.url}/graphql`, tenant);
    const onB = subscribeWs(connection, FlowEventsLiveDocument, { after: await cursorNow(b, tenant) });
    const onA = subscribeSse(`${a.url}/graphql`, tenant, FlowEventsLiveDocument, { after: await cursorNow(a, tenant) });
    clients.push(onB, onA, connection);

    // The changes are made through A's API (pause and resume, each with the version last seen).
    let version = 0;
    for (let index = 0; index < 5; index += 1) {
      const verb = index % 2 === 0 ? 'pauseMasterFlow' : 'resumeMasterFlow';
      const response = await fetch(`${a.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...viewerHeaders(tenant) },
        body: JSON.stringify({
          query: `mutation($flowId: UUID!, $version: Int!) { ${verb}(flowId: $flowId, version: $version) { __typename ... on MasterFlow { version } } }`,
          variables: { flowId, version },
        }),
      });
      const body = (await response.json()) as { data: Record<string, { __typename: string; version: number }> };
      expect(body.data[verb]!.__typename).toBe('MasterFlow');
      version = body.data[verb]!.version;
    }
    const changes = (
      await database.prisma.flowEvent.findMany({ where: { masterFlowId: flowId, kind: 'status_changed' }, orderBy: { sequence: 'asc' } })
    ).map((event) => Number(event.sequence));
    expect(changes).toHaveLength(5);
    await onB.until(hasSequences(5), '5 events on B');
    await onA.until(hasSequences(5), '5 events on A');
    expect(sequences(onB)).toEqual(changes);
    expect(sequences(onA)).toEqual(changes);
    const first = onB.data[0]!.flowEvents;
    expect(first).toMatchObject({
      __typename: 'FlowEvent',
      kind: 'STATUS_CHANGED',
      actor: 'carol',
      payload: { before: 'running', after: 'paused', version: 1 },
      masterFlow: { flowId }, // its status is the flow's now, possibly after later changes
    });
  });

  it('loses nothing when the LISTEN connection is killed while events flow', async () => {
    // At info level, so that the reconnections show in the log.
    const server = await start({ DATABASE_URL: url, FLOWGRAPH_LOG_LEVEL: 'info' });
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
    const connection = connectWs(`${server.url}/graphql`, tenant);
    const received = subscribeWs(connection, FlowEventsLiveDocument, { filter: { masterFlowId: flowId }, after: await cursorNow(server, tenant) });
    clients.push(received, connection);

    const written: number[] = [];
    let killed = 0;
    for (let index = 0; index < 60; index += 1) {
      written.push(Number((await changeFlowStatus(database.prisma, tenant, flowId)).sequence));
      // The second kill comes just before the last writes, with no pause: those commit while the listener
      // is down, so no notification will ever announce them; only the catch-up after reconnecting can.
      if (index === 20 || index === 57) {
        const rows = await database.sql.query<{ killed: boolean }>(
          `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
            WHERE datname = current_database() AND application_name = $1`,
          [LISTENER_APPLICATION_NAME],
        );
        killed += rows.filter((row) => row.killed).length;
      }
      if (index < 57) await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await received.until(hasSequences(written.length), `${written.length} events`);
    expect(sequences(received)).toEqual(written);
    expect(killed).toBe(2);
    expect(server.output()).toMatch(/event listener connection lost/);
    expect(server.output()).toMatch(/event listener reconnected/);
  });

  it('a client resumes with its cursor after a restart: exactly the missed events, in order, then live ones', async () => {
    await restartScenario({ DATABASE_URL: url }, async (apply) => apply(database));
  });
});

describe('on the embedded database', () => {
  it('a client resumes with its cursor after a restart: exactly the missed events, in order, then live ones', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flowgraph-events-'));
    // PGlite belongs to one process at a time: changes while the server is down are made by opening its
    // data directory here, and closing it before the server starts again.
    await restartScenario({ FLOWGRAPH_DATA_DIR: dataDir, DATABASE_URL: '' }, async (apply) => {
      const database = await openDatabase({ dataDir });
      try {
        await applyMigrations(database.sql);
        await apply(database);
      } finally {
        await database.close();
      }
    });
  });
});

/**
 * Starts a server, subscribes over both transports, stops the server with subscribers connected, makes
 * changes while it is down, starts it again and resumes from the last cursor each client received.
 */
async function restartScenario(
  env: Record<string, string>,
  withDatabase: (apply: (database: Database) => Promise<void>) => Promise<void>,
): Promise<void> {
  const tenant = newTenant();
  let flowId = '';
  const written: number[] = [];
  const change = async (database: Database, count: number) => {
    for (let index = 0; index < count; index += 1) written.push(Number((await changeFlowStatus(database.prisma, tenant, flowId)).sequence));
  };
  await withDatabase(async (database) => {
    flowId = (await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' })).flowId;
  });

  let server = await start(env);
  const connection = connectWs(`${server.url}/graphql`, tenant);
  const initial = await cursorNow(server, tenant);
  const ws = subscribeWs(connection, FlowEventsLiveDocument, { after: initial });
  const sse = subscribeSse(`${server.url}/graphql`, tenant, FlowEventsLiveDocument, { after: initial });
  clients.push(ws, sse, connection);
  if (env.DATABASE_URL) {
    await withDatabase((database) => change(database, 3));
    await ws.until(hasSequences(3), '3 events over graphql-ws');
    await sse.until(hasSequences(3), '3 events over SSE');
  }
  const seenBefore = written.length;

  // A graceful stop with subscribers connected: both clients see their connection cut (so they know to
  // resume), and the process exits cleanly.
  expect(await server.stop('SIGTERM')).toBe(0);
  await ws.ended();
  await sse.ended();
  expect(ws.error).toBeDefined();
  expect(sse.error).toBeDefined();
  const wsCursor = ws.data.at(-1)?.flowEvents;
  const sseCursor = sse.data.at(-1)?.flowEvents;

  await withDatabase((database) => change(database, 4));
  server = await start(env);
  const after = (item: typeof wsCursor) => (item?.__typename === 'FlowEvent' ? item.cursor : undefined);
  const connection2 = connectWs(`${server.url}/graphql`, tenant);
  // A client that received no event yet resumes from the cursor it subscribed with.
  const ws2 = subscribeWs(connection2, FlowEventsLiveDocument, { after: after(wsCursor) ?? initial });
  const sse2 = subscribeSse(`${server.url}/graphql`, tenant, FlowEventsLiveDocument, { after: after(sseCursor) ?? initial });
  clients.push(ws2, sse2, connection2);
  const missed = written.slice(seenBefore);
  await ws2.until(hasSequences(missed.length), 'the missed events over graphql-ws');
  await sse2.until(hasSequences(missed.length), 'the missed events over SSE');
  expect(sequences(ws2)).toEqual(missed);
  expect(sequences(sse2)).toEqual(missed);

  if (env.DATABASE_URL) {
    // Live ones follow on the same subscriptions (on PGlite only the server itself can write now).
    await withDatabase((database) => change(database, 2));
    await ws2.until(hasSequences(missed.length + 2), 'live events over graphql-ws');
    await sse2.until(hasSequences(missed.length + 2), 'live events over SSE');
    expect(sequences(ws2)).toEqual(written.slice(seenBefore));
    expect(sequences(sse2)).toEqual(written.slice(seenBefore));
  }
}
