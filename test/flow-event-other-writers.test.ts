// Changes written by programs that are not flowgraph (the platform's orchestrator and agents, with a plain pg
// client) reach flowgraph's subscribers like flowgraph's own: two server processes on one PostgreSQL database,
// flowEvents and masterFlowChanged over graphql-ws and SSE on each, every committed change in commit order with
// its actor, a rolled-back one nowhere, the version raised so a client holding the old one gets StaleFlow.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Viewer } from '../src/context.ts';
import { openDatabase, type Database } from '../src/db/database.ts';
import { applyMigrations } from '../src/db/migrator.ts';
import { viewerHeaders } from './support/graphql.ts';
import { newTenant } from './support/factories.ts';
import { dropDatabase, recreateDatabase, workerDatabaseUrl } from './support/postgres-databases.ts';
import { startServer, type ServerProcess } from './support/server-process.ts';
import { connectWs, sequenceOf, subscribeSse, subscribeWs, type Received } from './support/subscriptions.ts';
import { onPostgres } from './support/test-database.ts';
import {
  FlowEventsLiveDocument,
  MasterFlowChangedDocument,
  type FlowEventsLiveSubscription,
  type MasterFlowChangedSubscription,
} from './generated/graphql.ts';

const servers: ServerProcess[] = [];
const clients: { dispose(): Promise<void> }[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.dispose().catch(() => {})));
  await Promise.all(servers.splice(0).map((server) => server.stop('SIGKILL')));
});

async function graphql<T>(server: ServerProcess, viewer: Viewer, query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...viewerHeaders(viewer) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as { data: T; errors?: unknown };
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

type LiveEvent = Extract<FlowEventsLiveSubscription['flowEvents'], { __typename: 'FlowEvent' }>;

function liveEvents(received: Received<FlowEventsLiveSubscription>): LiveEvent[] {
  return received.data.flatMap((data) => (data.flowEvents.__typename === 'FlowEvent' ? [data.flowEvents] : []));
}

describe.runIf(onPostgres)('changes written by another program with plain SQL', () => {
  let url: string;
  let database: Database;
  let worker: pg.Client;

  beforeAll(async () => {
    url = workerDatabaseUrl(process.env.TEST_DATABASE_URL!, `writers_${process.env.VITEST_POOL_ID ?? '1'}`);
    await recreateDatabase(url);
    database = await openDatabase({ databaseUrl: url, poolSize: 2 });
    await applyMigrations(database.sql);
    worker = new pg.Client({ connectionString: url, application_name: 'platform-worker' });
    await worker.connect();
  });
  afterAll(async () => {
    await worker?.end();
    await database?.close();
    if (url) await dropDatabase(url);
  });

  it('reach flowEvents and masterFlowChanged subscribers on two instances, in commit order, with their actor', async () => {
    const [a, b] = await Promise.all([startServer({ DATABASE_URL: url }), startServer({ DATABASE_URL: url })]);
    servers.push(a, b);
    const tenant = newTenant('dana');
    const other = newTenant('eve');
    const flowId = randomUUID();
    const importId = randomUUID();

    const after = (await graphql<{ flowEventCursor: string }>(a, tenant, '{ flowEventCursor }')).flowEventCursor;
    const wsA = connectWs(`${a.url}/graphql`, tenant);
    const wsB = connectWs(`${b.url}/graphql`, tenant);
    clients.push(wsA, wsB);
    const events = {
      wsOnB: subscribeWs(wsB, FlowEventsLiveDocument, { after }),
      sseOnA: subscribeSse(`${a.url}/graphql`, tenant, FlowEventsLiveDocument, { after }),
      // Another tenant's subscriber, to see that nothing of this tenant reaches it.
      otherOnA: subscribeSse(`${a.url}/graphql`, other, FlowEventsLiveDocument, { after }),
    };
    clients.push(...Object.values(events));

    // 1. The worker creates a whole flow graph in one transaction.
    await worker.query('BEGIN');
    await worker.query(
      `INSERT INTO crewai_flow_state_extensions (flow_id, client_account_id, engagement_id, user_id, flow_type, flow_status, version)
       VALUES ($1, $2, $3, 'orchestrator', 'discovery', 'running', 1)`,
      [flowId, tenant.clientAccountId, tenant.engagementId],
    );
    await worker.query(
      `INSERT INTO data_imports (id, client_account_id, engagement_id, master_flow_id, import_name, import_type, filename, status, imported_by)
       VALUES ($1, $2, $3, $4, 'cmdb.csv', 'cmdb', 'cmdb.csv', 'processing', 'orchestrator')`,
      [importId, tenant.clientAccountId, tenant.engagementId, flowId],
    );
    await worker.query(
      `INSERT INTO raw_import_records (data_import_id, client_account_id, engagement_id, master_flow_id, row_number, raw_data)
       SELECT $1, $2, $3, $4, n, jsonb_build_object('host', 'h' || n) FROM generate_series(1, 40) AS n`,
      [importId, tenant.clientAccountId, tenant.engagementId, flowId],
    );
    await worker.query(
      `INSERT INTO discovery_flows (flow_id, master_flow_id, client_account_id, engagement_id, user_id, data_import_id, status,
                                    current_phase, progress_percentage, data_import_completed)
       VALUES ($1, $1, $2, $3, 'orchestrator', $4, 'active', 'data_validation', 20, true)`,
      [flowId, tenant.clientAccountId, tenant.engagementId, importId],
    );
    await worker.query(
      `UPDATE data_imports SET status = 'completed', total_records = 40, processed_records = 40, progress_percentage = 100 WHERE id = $1`,
      [importId],
    );
    await worker.query('COMMIT');

    // masterFlowChanged on both instances and transports, now that the flow exists.
    const changed = {
      wsOnA: subscribeWs(wsA, MasterFlowChangedDocument, { flowId }),
      sseOnB: subscribeSse(`${b.url}/graphql`, tenant, MasterFlowChangedDocument, { flowId }),
    };
    clients.push(...Object.values(changed));
    for (const [name, received] of Object.entries(changed)) await received.until((r) => r.results.length >= 1, `${name}: the first tick`);
    const seenVersion = changed.wsOnA.data[0]!.masterFlowChanged!.version;
    expect(seenVersion).toBe(1);

    // 2. The orchestrator pauses the flow, naming itself; 3. a change that rolls back; 4. an agent resumes it
    // and completes a phase in one transaction; 5. the flow is deleted.
    await worker.query('BEGIN');
    await worker.query(`SELECT set_config('flowgraph.actor', 'orchestrator', true)`);
    await worker.query(`UPDATE crewai_flow_state_extensions SET flow_status = 'paused' WHERE flow_id = $1`, [flowId]);
    await worker.query('COMMIT');

    // A client that read the flow before the pause still holds version 1: flowgraph refuses its change.
    const stale = await graphql<{ resumeMasterFlow: { __typename: string; expectedVersion?: number; currentVersion?: number } }>(
      b,
      tenant,
      'mutation($flowId: UUID!) { resumeMasterFlow(flowId: $flowId, version: 1) { __typename ... on StaleFlow { expectedVersion currentVersion } } }',
      { flowId },
    );
    expect(stale.resumeMasterFlow).toEqual({ __typename: 'StaleFlow', expectedVersion: 1, currentVersion: 2 });

    await worker.query('BEGIN');
    await worker.query(`UPDATE crewai_flow_state_extensions SET flow_status = 'failed' WHERE flow_id = $1`, [flowId]);
    await worker.query('ROLLBACK');

    await worker.query('BEGIN');
    await worker.query(`UPDATE crewai_flow_state_extensions SET flow_status = 'running' WHERE flow_id = $1`, [flowId]);
    await worker.query(`UPDATE discovery_flows SET status = 'active' WHERE master_flow_id = $1`, [flowId]);
    await worker.query(
      `UPDATE discovery_flows SET data_validation_completed = true, current_phase = 'field_mapping', progress_percentage = 40
        WHERE master_flow_id = $1`,
      [flowId],
    );
    await worker.query('COMMIT');
    const { masterFlow } = await graphql<{ masterFlow: { version: number; flowStatus: string } }>(
      a,
      tenant,
      'query($flowId: UUID!) { masterFlow(flowId: $flowId) { version flowStatus } }',
      { flowId },
    );
    expect(masterFlow).toEqual({ version: 3, flowStatus: 'RUNNING' });

    await worker.query(`DELETE FROM crewai_flow_state_extensions WHERE flow_id = $1`, [flowId]);

    const log = await database.prisma.flowEvent.findMany({ where: { masterFlowId: flowId }, orderBy: { sequence: 'asc' } });
    expect(log.map((event) => [event.kind, event.actor])).toEqual([
      ['master_flow_created', 'platform-worker (postgres)'],
      ['import_stored', 'platform-worker (postgres)'],
      ['status_changed', 'orchestrator'],
      ['status_changed', 'platform-worker (postgres)'],
      ['phase_completed', 'platform-worker (postgres)'],
      ['master_flow_deleted', 'platform-worker (postgres)'],
    ]);
    expect(log.map((event) => event.payload)).toEqual([
      { after: 'running' },
      { totalRecords: 40, validRecords: 40, invalidRecords: 0, phase: 'data_import', currentPhase: 'data_validation', progressPercentage: 20 },
      { before: 'running', after: 'paused', version: 2 },
      { before: 'paused', after: 'running', version: 3 },
      { phase: 'data_validation', currentPhase: 'field_mapping', progressPercentage: 40 },
      { before: 'running', dataImportsDeleted: 1, rawRecordsDeleted: 40, discoveryFlowsDeleted: 1 },
    ]);

    const expected = log.map((event) => Number(event.sequence));
    for (const [name, received] of [['graphql-ws on B', events.wsOnB], ['SSE on A', events.sseOnA]] as const) {
      await received.until((r) => liveEvents(r).length >= expected.length, `${name}: every event`);
      const got = liveEvents(received);
      expect(got.map((event) => sequenceOf(event.cursor))).toEqual(expected);
      expect(got.map((event) => [event.kind, event.actor])).toEqual(
        log.map((event) => [event.kind.toUpperCase(), event.actor]),
      );
      expect(got.every((event) => event.flowId === flowId)).toBe(true);
    }

    // masterFlowChanged: a tick per committed change after subscribing (folded while busy, never a rolled-back
    // one), the last one the deletion (null), then the stream ends.
    for (const [name, received] of Object.entries(changed)) {
      await received.until((r) => r.completed, `${name}: the end after the deletion`);
      const ticks = received.data.map((data) => data.masterFlowChanged);
      expect(ticks.at(-1)).toBeNull();
      const versions = ticks.flatMap((tick) => (tick ? [tick.version] : []));
      expect(versions[0]).toBe(1);
      expect(versions).toEqual([...versions].sort((x, y) => x - y));
      expect(versions).toContain(3);
      expect(ticks.flatMap((tick) => (tick ? [tick.flowStatus] : []))).not.toContain('FAILED');
    }

    // Nothing of this tenant went to the other tenant's subscriber.
    await graphql(a, other, '{ flowEventCursor }');
    expect(liveEvents(events.otherOnA)).toEqual([]);
  });
});
