// Many writers, two server processes, subscribers that resume through flowgraph/client, and faults while events
// flow: flowgraph mutations and plain SQL on several connections write a few thousand events of two tenants;
// graphql-ws and SSE subscribers on both processes (clients created with their default options) follow one
// tenant's log; meanwhile one process is SIGKILLed and started again on the same port and every LISTEN
// connection is terminated. Afterwards every subscriber's sequence is exactly the tenant's log: no gap, no
// duplicate, in order, nothing of the other tenant.
import pg from 'pg';
import { createClient as createSseClient } from 'graphql-sse';
import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { resumeFlowEvents, type FlowEventItem, type FlowEventResume } from '../src/client/flow-event-resume.ts';
import type { Viewer } from '../src/context.ts';
import { openDatabase, type Database } from '../src/db/database.ts';
import { applyMigrations } from '../src/db/migrator.ts';
import { LISTENER_APPLICATION_NAME } from '../src/db/wake-up-channel.ts';
import { createFlowGraph, newTenant } from './support/factories.ts';
import { viewerHeaders } from './support/graphql.ts';
import { until } from './support/polling.ts';
import { dropDatabase, recreateDatabase, workerDatabaseUrl } from './support/postgres-databases.ts';
import { freePort, startServer, type ServerProcess } from './support/server-process.ts';
import { sequenceOf } from './support/subscriptions.ts';
import { onPostgres } from './support/test-database.ts';

const EVENTS = `subscription ($after: String) {
  flowEvents(after: $after) {
    __typename
    ... on FlowEvent { cursor flowId kind }
    ... on FlowEventsOverflowError { lastCursor message }
    ... on FlowEventCursorExpiredError { oldestCursor message }
  }
}`;

type Event = FlowEventItem & { flowId: string; kind: string };

describe.runIf(onPostgres)('the live log under concurrent writers and faults', () => {
  let url: string;
  let database: Database;
  const servers: { a?: ServerProcess; b?: ServerProcess } = {};

  beforeAll(async () => {
    url = workerDatabaseUrl(process.env.TEST_DATABASE_URL!, `chaos_${process.env.VITEST_POOL_ID ?? '1'}`);
    await recreateDatabase(url);
    database = await openDatabase({ databaseUrl: url, poolSize: 4 });
    await applyMigrations(database.sql);
  });
  afterAll(async () => {
    await Promise.all([servers.a?.stop('SIGKILL'), servers.b?.stop('SIGKILL')]);
    await database?.close();
    if (url) await dropDatabase(url);
  });

  it('every subscriber receives exactly its tenant\'s log, in order, through a SIGKILL and lost LISTEN connections', async () => {
    const portA = await freePort();
    const portB = await freePort();
    [servers.a, servers.b] = await Promise.all([
      startServer({ DATABASE_URL: url, PORT: String(portA) }),
      startServer({ DATABASE_URL: url, PORT: String(portB) }),
    ]);
    const urls = { a: `http://127.0.0.1:${portA}/graphql`, b: `http://127.0.0.1:${portB}/graphql` };
    const tenant = newTenant('watcher');
    const other = newTenant('stranger');
    const flows: Awaited<ReturnType<typeof createFlowGraph>>[] = [];
    for (let index = 0; index < 6; index += 1) flows.push(await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' }));
    const otherFlows: Awaited<ReturnType<typeof createFlowGraph>>[] = [];
    for (let index = 0; index < 2; index += 1) otherFlows.push(await createFlowGraph(database.prisma, other, { flowStatus: 'running' }));
    const tenantFlowIds = new Set(flows.map((flow) => flow.flowId));
    const start = (await database.prisma.flowEventSequence.findUniqueOrThrow({ where: { id: 1 } })).lastSequence;

    // Subscribers: graphql-ws and SSE, on each process, their clients with default options.
    const received = new Map<string, number[]>();
    const resumes: FlowEventResume[] = [];
    const disposers: (() => void)[] = [];
    const { flowEventCursor } = await fetch(urls.a, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...viewerHeaders(tenant) },
      body: JSON.stringify({ query: '{ flowEventCursor }' }),
    }).then(async (response) => ((await response.json()) as { data: { flowEventCursor: string } }).data);
    expect(BigInt(sequenceOf(flowEventCursor))).toBe(start);
    for (const server of ['a', 'b'] as const) {
      for (const transport of ['graphql-ws', 'sse'] as const) {
        for (let copy = 0; copy < 2; copy += 1) {
          const name = `${transport} on ${server} #${copy + 1}`;
          const client =
            transport === 'graphql-ws'
              ? createWsClient({ url: urls[server].replace(/^http/, 'ws'), webSocketImpl: WebSocket, connectionParams: viewerHeaders(tenant) })
              : createSseClient({ url: urls[server], headers: viewerHeaders(tenant) });
          disposers.push(() => void client.dispose());
          const got: number[] = [];
          received.set(name, got);
          resumes.push(
            resumeFlowEvents<Event>(client, {
              query: EVENTS,
              after: flowEventCursor,
              backoff: { initialMs: 100, maxMs: 2_000 },
              onEvent: (event) => {
                if (!tenantFlowIds.has(event.flowId)) throw new Error(`${name} got an event of flow ${event.flowId}`);
                got.push(sequenceOf(event.cursor));
              },
              onCursorExpired: () => {
                throw new Error(`${name}: the cursor expired`);
              },
            }),
          );
        }
      }
    }

    // Writers: flowgraph mutations through A (pause/resume with the version last seen), and plain SQL on three
    // connections of their own, for both tenants.
    let written = 0;
    let writing = true;
    const mutationWriter = (async () => {
      const versions = new Map<string, { version: number; paused: boolean }>();
      for (const flow of flows.slice(0, 2)) versions.set(flow.flowId, { version: 0, paused: false });
      while (writing) {
        for (const [flowId, state] of versions) {
          const verb = state.paused ? 'resumeMasterFlow' : 'pauseMasterFlow';
          const response = await fetch(urls.a, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...viewerHeaders(tenant) },
            body: JSON.stringify({
              query: `mutation ($flowId: UUID!, $version: Int!) { r: ${verb}(flowId: $flowId, version: $version) { __typename ... on MasterFlow { version } ... on StaleFlow { currentVersion } } }`,
              variables: { flowId, version: state.version },
            }),
          });
          const result = ((await response.json()) as { data: { r: { __typename: string; version?: number; currentVersion?: number } } }).data.r;
          if (result.__typename === 'MasterFlow') {
            state.version = result.version!;
            state.paused = !state.paused;
            written += 1;
          } else if (result.__typename === 'StaleFlow') {
            state.version = result.currentVersion!; // a plain-SQL writer changed it meanwhile: that is the point
            const status = await database.prisma.masterFlow.findUniqueOrThrow({ where: { flowId } });
            state.paused = status.flowStatus === 'paused';
          } else throw new Error(`${verb}: ${JSON.stringify(result)}`);
        }
      }
    })();
    const sqlWriters = Array.from({ length: 3 }, async (_unused, writer) => {
      const client = new pg.Client({ connectionString: url, application_name: `platform-worker-${writer}` });
      await client.connect();
      try {
        for (let turn = 0; writing; turn += 1) {
          const own = flows[2 + ((writer + turn) % 4)]!.flowId;
          const foreign = otherFlows[turn % 2]!.flowId;
          await client.query('BEGIN');
          await client.query(
            `UPDATE crewai_flow_state_extensions SET flow_status = CASE flow_status WHEN 'running' THEN 'paused' ELSE 'running' END
              WHERE flow_id = ANY ($1::uuid[])`,
            [[own, foreign, ...(turn % 3 === 0 ? [flows[0]!.flowId] : [])]],
          );
          if (turn % 4 === 0) await client.query(`UPDATE discovery_flows SET error_message = $2 WHERE master_flow_id = $1`, [own, `turn ${turn}`]);
          if (turn % 7 === 0) {
            await client.query('ROLLBACK');
            continue;
          }
          await client.query('COMMIT');
          written += turn % 3 === 0 ? 3 : 2;
          // About 150 events a second in all: the faults below fall in the middle of the writing.
          await new Promise((resolve) => setTimeout(resolve, 40));
        }
      } finally {
        await client.end();
      }
    });

    // The faults, while the writers write: B is killed, stays away while 200 more events are written (its
    // subscribers' clients retry meanwhile), and starts again on its port; then the LISTEN connections of both
    // go, and the writing goes on past it.
    const after = async (more: number, what: string) => {
      const goal = written + more;
      await until(() => written >= goal, what, 12_000);
    };
    await after(200, 'the first writes');
    await servers.b!.stop('SIGKILL');
    await after(200, 'writes while B is away');
    servers.b = await startServer({ DATABASE_URL: url, PORT: String(portB) });
    await after(200, 'writes after B is back');
    const terminated = await database.sql.query<{ pid: number }>(
      `SELECT pg_terminate_backend(pid) AS pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()`,
      [LISTENER_APPLICATION_NAME],
    );
    expect(terminated.length).toBe(2);
    await after(300, 'writes after the LISTEN connections were terminated');
    writing = false;
    await Promise.all([mutationWriter, ...sqlWriters]);

    // The tenant's log, as the database has it: what every subscriber must have received, exactly.
    const log = (
      await database.prisma.flowEvent.findMany({
        where: { clientAccountId: tenant.clientAccountId, engagementId: tenant.engagementId, sequence: { gt: start } },
        orderBy: { sequence: 'asc' },
        select: { sequence: true },
      })
    ).map((event) => Number(event.sequence));
    expect(log.length).toBeGreaterThan(600);
    const otherEvents = await database.prisma.flowEvent.count({ where: { clientAccountId: other.clientAccountId, sequence: { gt: start } } });
    expect(otherEvents).toBeGreaterThan(150);
    try {
      await until(() => [...received.values()].every((got) => got.length >= log.length), 'every subscriber to catch up', 6_000);
    } finally {
      for (const resume of resumes) resume.stop();
      for (const dispose of disposers) dispose();
    }
    for (const [name, got] of received) expect({ name, got }).toEqual({ name, got: log });
  });
});
