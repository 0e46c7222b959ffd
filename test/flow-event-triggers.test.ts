// The database writes the event log for every writer (migration 20261202000000_flow_event_triggers): changes
// made with plain SQL, as the platform's orchestrator and agents make them, get the same events as flowgraph's
// own, with their actor, a version bump once per transaction, and nothing for a rolled-back change. The live
// hub delivers the log as it is, in numeric order across 9→10, 99→100 and 999→1000, and through backlogs
// beyond its read size. On PGlite and on PostgreSQL.
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/database.ts';
import type { FlowEvent } from '../src/generated/prisma/client.ts';
import { readLogBounds } from '../src/services/event-log.ts';
import { CLOSED, FlowEventHub, OVERFLOW, type HubSubscription } from '../src/services/flow-event-hub.ts';
import { createFlowGraph, newTenant } from './support/factories.ts';
import { execute, testApp } from './support/graphql.ts';
import { until } from './support/polling.ts';
import { workerDatabaseUrl } from './support/postgres-databases.ts';
import { onPostgres, resetDatabase, testDatabase } from './support/test-database.ts';
import { PauseMasterFlowDocument } from './generated/graphql.ts';

let database: Database;

/**
 * A writer that is not flowgraph: plain SQL in its own transactions, named `platform-worker` like the
 * platform's own programs. On PostgreSQL it is a separate pg connection; PGlite has one session, shared.
 */
interface PlainWriter {
  /** Runs one statement, or several in order, in one transaction of its own. */
  transaction(sql: string | [string, unknown[]][], params?: unknown[]): Promise<void>;
  close(): Promise<void>;
}

const steps = (sql: string | [string, unknown[]][], params: unknown[]): [string, unknown[]][] =>
  typeof sql === 'string' ? [[sql, params]] : sql;

async function plainWriter(): Promise<PlainWriter> {
  if (onPostgres) {
    const url = workerDatabaseUrl(process.env.TEST_DATABASE_URL!, process.env.VITEST_POOL_ID ?? '1');
    const client = new pg.Client({ connectionString: url, application_name: 'platform-worker' });
    await client.connect();
    return {
      async transaction(sql, params = []) {
        await client.query('BEGIN');
        try {
          for (const [text, values] of steps(sql, params)) await client.query(text, values);
          await client.query('COMMIT');
        } catch (error) {
          await client.query('ROLLBACK');
          throw error;
        }
      },
      close: () => client.end(),
    };
  }
  return {
    async transaction(sql, params = []) {
      await database.sql.exec(`BEGIN; SET LOCAL application_name = 'platform-worker'`);
      try {
        for (const [text, values] of steps(sql, params)) await database.sql.query(text, values);
        await database.sql.exec('COMMIT');
      } catch (error) {
        await database.sql.exec('ROLLBACK');
        throw error;
      }
    },
    close: async () => {},
  };
}

let writer: PlainWriter;
beforeAll(async () => {
  database = await testDatabase();
  writer = await plainWriter();
});
afterAll(async () => writer?.close());
beforeEach(async () => resetDatabase(database));

async function logEnd(): Promise<bigint> {
  return (await readLogBounds(database.prisma)).lastSequence;
}

function eventsAfter(after: bigint): Promise<FlowEvent[]> {
  return database.prisma.flowEvent.findMany({ where: { sequence: { gt: after } }, orderBy: { sequence: 'asc' } });
}

const summary = (events: FlowEvent[]) => events.map((event) => ({ kind: event.kind, actor: event.actor, payload: event.payload }));

async function flowRow(flowId: string) {
  return database.prisma.masterFlow.findUniqueOrThrow({ where: { flowId } });
}

describe('changes written with plain SQL by another program', () => {
  it('a status change gets status_changed with its application name and role, and a new version', async () => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
    const before = await flowRow(flowId);
    const start = await logEnd();
    await writer.transaction(`UPDATE crewai_flow_state_extensions SET flow_status = 'paused' WHERE flow_id = $1`, [flowId]);
    const after = await flowRow(flowId);
    expect(after.version).toBe(before.version + 1);
    expect(after.updatedAt.getTime()).toBeGreaterThan(before.updatedAt.getTime());
    expect(summary(await eventsAfter(start))).toEqual([
      { kind: 'status_changed', actor: 'platform-worker (postgres)', payload: { before: 'running', after: 'paused', version: before.version + 1 } },
    ]);
  });

  it('a program names its own actor with the transaction-local setting flowgraph.actor', async () => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
    const start = await logEnd();
    await writer.transaction(
      `WITH actor AS (SELECT set_config('flowgraph.actor', 'orchestrator/agent-7', true))
       UPDATE crewai_flow_state_extensions SET flow_status = 'paused' FROM actor WHERE flow_id = $1`,
      [flowId],
    );
    expect((await eventsAfter(start)).map((event) => event.actor)).toEqual(['orchestrator/agent-7']);
    // The setting ends with its transaction: the next change is the program's again.
    await writer.transaction(`UPDATE crewai_flow_state_extensions SET flow_status = 'running' WHERE flow_id = $1`, [flowId]);
    expect((await eventsAfter(start)).map((event) => event.actor)).toEqual(['orchestrator/agent-7', 'platform-worker (postgres)']);
  });

  it('a phase completed on discovery_flows gets phase_completed, and bumps the master flow once', async () => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running', completedPhases: 1 });
    const before = await flowRow(flowId);
    const start = await logEnd();
    await writer.transaction(
      `UPDATE discovery_flows SET data_validation_completed = true, current_phase = 'field_mapping', progress_percentage = 40
        WHERE master_flow_id = $1`,
      [flowId],
    );
    expect(summary(await eventsAfter(start))).toEqual([
      {
        kind: 'phase_completed',
        actor: 'platform-worker (postgres)',
        payload: { phase: 'data_validation', currentPhase: 'field_mapping', progressPercentage: 40 },
      },
    ]);
    expect((await flowRow(flowId)).version).toBe(before.version + 1);
  });

  it('one transaction that changes a flow in several statements bumps its version once, with one event', async () => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running', completedPhases: 1 });
    const before = await flowRow(flowId);
    const start = await logEnd();
    await writer.transaction([
      [`UPDATE discovery_flows SET error_message = 'slow source' WHERE master_flow_id = $1`, [flowId]],
      [`UPDATE crewai_flow_state_extensions SET flow_name = 'Renamed', retry_count = retry_count + 1 WHERE flow_id = $1`, [flowId]],
      [`UPDATE data_imports SET error_message = 'checked' WHERE master_flow_id = $1`, [flowId]],
    ]);
    expect((await flowRow(flowId)).version).toBe(before.version + 1);
    // The first change names itself; the rest of the transaction adds no second flow_updated for the flow.
    expect(summary(await eventsAfter(start))).toEqual([
      { kind: 'flow_updated', actor: 'platform-worker (postgres)', payload: { entity: 'discovery_flow', change: 'updated', fields: ['error_message'] } },
    ]);
    await writer.transaction(`UPDATE crewai_flow_state_extensions SET flow_name = 'Renamed again' WHERE flow_id = $1`, [flowId]);
    expect((await flowRow(flowId)).version).toBe(before.version + 2);
    expect((await eventsAfter(start)).at(-1)!.payload).toEqual({ entity: 'master_flow', change: 'updated', fields: ['flow_name'], version: before.version + 2 });
  });

  it('creating a whole flow graph, then deleting it: created, stored, deleted, and nothing else', async () => {
    const tenant = newTenant();
    const flowId = crypto.randomUUID();
    const importId = crypto.randomUUID();
    const start = await logEnd();
    await writer.transaction(
      `WITH m AS (
         INSERT INTO crewai_flow_state_extensions (flow_id, client_account_id, engagement_id, user_id, flow_type, flow_status)
         VALUES ($1, $3, $4, 'worker', 'discovery', 'running') RETURNING flow_id
       ), i AS (
         INSERT INTO data_imports (id, client_account_id, engagement_id, master_flow_id, import_name, import_type, filename,
                                   status, imported_by)
         SELECT $2, $3, $4, flow_id, 'servers.csv', 'servers', 'servers.csv', 'processing', 'worker' FROM m RETURNING id
       )
       SELECT count(*) FROM i`,
      [flowId, importId, tenant.clientAccountId, tenant.engagementId],
    );
    // Later transactions add the discovery flow and the rows, and store the import.
    await writer.transaction(
      `WITH d AS (
         INSERT INTO discovery_flows (flow_id, master_flow_id, client_account_id, engagement_id, user_id, data_import_id,
                                      status, current_phase, progress_percentage, data_import_completed)
         VALUES ($1, $1, $3, $4, 'worker', $2, 'active', 'data_validation', 20, true) RETURNING 1
       ) SELECT count(*) FROM d`,
      [flowId, importId, tenant.clientAccountId, tenant.engagementId],
    );
    await writer.transaction(
      `INSERT INTO raw_import_records (data_import_id, client_account_id, engagement_id, master_flow_id, row_number, raw_data)
       SELECT $2, $3, $4, $1, n, jsonb_build_object('host', n) FROM generate_series(1, 250) AS n`,
      [flowId, importId, tenant.clientAccountId, tenant.engagementId],
    );
    await writer.transaction(
      `UPDATE data_imports SET status = 'completed', total_records = 250, processed_records = 250, failed_records = 3 WHERE id = $1`,
      [importId],
    );
    await writer.transaction(`DELETE FROM crewai_flow_state_extensions WHERE flow_id = $1`, [flowId]);
    const events = await eventsAfter(start);
    expect(events.map((event) => [event.kind, event.payload])).toEqual([
      ['master_flow_created', { after: 'running' }],
      ['flow_updated', { entity: 'discovery_flow', change: 'created' }],
      [
        'import_stored',
        { totalRecords: 250, validRecords: 247, invalidRecords: 3, phase: 'data_import', currentPhase: 'data_validation', progressPercentage: 20 },
      ],
      ['master_flow_deleted', { before: 'running', dataImportsDeleted: 1, rawRecordsDeleted: 250, discoveryFlowsDeleted: 1 }],
    ]);
    expect(events.every((event) => event.masterFlowId === flowId && event.clientAccountId === tenant.clientAccountId)).toBe(true);
  });

  it('a rolled-back change leaves no event, no new version and nothing staged', async () => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
    const before = await flowRow(flowId);
    const start = await logEnd();
    await expect(
      writer.transaction(
        `WITH m AS (UPDATE crewai_flow_state_extensions SET flow_status = 'paused' WHERE flow_id = $1 RETURNING 1)
         SELECT 1 / (SELECT count(*) - 1 FROM m)`,
        [flowId],
      ),
    ).rejects.toThrow(/division by zero/);
    expect(await eventsAfter(start)).toEqual([]);
    expect((await flowRow(flowId)).version).toBe(before.version);
    expect(await database.prisma.flowEventOutbox.count()).toBe(0);
    expect(await logEnd()).toBe(start);
  });

  it('an update that changes nothing appends nothing and keeps the version', async () => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
    const before = await flowRow(flowId);
    const start = await logEnd();
    await writer.transaction(`UPDATE crewai_flow_state_extensions SET flow_status = flow_status WHERE flow_id = $1`, [flowId]);
    expect(await eventsAfter(start)).toEqual([]);
    expect((await flowRow(flowId)).version).toBe(before.version);
  });

  it('a client holding the version before another program changed the flow gets StaleFlow', async () => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
    const seen = (await flowRow(flowId)).version;
    await writer.transaction(`UPDATE crewai_flow_state_extensions SET flow_name = 'renamed by the orchestrator' WHERE flow_id = $1`, [flowId]);
    const app = testApp(database);
    const result = await execute(app, tenant, PauseMasterFlowDocument, { flowId, version: seen });
    expect(result.errors).toBeUndefined();
    expect(result.data!.pauseMasterFlow).toMatchObject({ __typename: 'StaleFlow', expectedVersion: seen, currentVersion: seen + 1 });
    expect((await flowRow(flowId)).flowStatus).toBe('running');
  });
});

describe('raw import records', () => {
  it('carry no event trigger: an import pays nothing per row for the log', async () => {
    const triggers = await database.sql.query<{ name: string }>(
      `SELECT tgname AS name FROM pg_trigger WHERE tgrelid = 'raw_import_records'::regclass AND NOT tgisinternal ORDER BY tgname`,
    );
    expect(triggers.map((trigger) => trigger.name)).toEqual(['raw_import_records_links_on_insert', 'raw_import_records_links_on_update']);
  });
});

describe('the live hub', () => {
  let hub: FlowEventHub | undefined;
  afterAll(async () => hub?.stop());

  async function startHub(batchSize?: number): Promise<FlowEventHub> {
    await hub?.stop();
    hub = new FlowEventHub(database, batchSize ? { batchSize } : {});
    await hub.start();
    return hub;
  }

  /** Every event the subscription gets, until `count` arrived. */
  async function collect(subscription: HubSubscription, count: number): Promise<bigint[]> {
    const got: bigint[] = [];
    while (got.length < count) {
      const take = await subscription.take();
      if (take === OVERFLOW || take === CLOSED) throw new Error(`the subscription ended after ${got.length} events`);
      got.push(take.sequence);
    }
    return got;
  }

  for (const batchSize of [undefined, 7]) {
    it(`delivers the log across 9→10, 99→100, 999→1000 and a backlog past its read size (batch ${batchSize ?? 500})`, async () => {
      const tenant = newTenant();
      const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
      const live = await startHub(batchSize);
      const subscription = live.subscribe(tenant, {}, { after: await logEnd(), capacity: 5_000 });
      const committed = async (count: number) => {
        await writer.transaction(
          `WITH staged AS (
             INSERT INTO flow_event_outbox (transaction_id, client_account_id, engagement_id, master_flow_id, flow_type, kind, actor, payload)
             SELECT flowgraph_transaction_id(), $1, $2, $3, 'discovery', 'status_changed', 'tester', jsonb_build_object('n', n)
               FROM generate_series(1, $4::int) AS n ORDER BY n
             RETURNING 1)
           SELECT flowgraph_queue_event_commit() FROM (SELECT count(*) FROM staged) AS s`,
          [tenant.clientAccountId, tenant.engagementId, flowId, count],
        );
      };
      // One by one across 9→10, then transactions that put 99→100 and 999→1000 inside one read, then a backlog
      // of 700 (more than the hub reads at once) written while the hub is busy: the log ends at 1,712.
      const start = Number(await logEnd());
      for (let sequence = start + 1; sequence <= 12; sequence += 1) await committed(1);
      await committed(95 - 12);
      await committed(10);
      await committed(995 - 105);
      await committed(10);
      await committed(700);
      const end = Number(await logEnd());
      expect(end).toBe(1_705);
      const got = await collect(subscription, end - start);
      expect(got.map(Number)).toEqual(Array.from({ length: end - start }, (_unused, index) => start + 1 + index));
      await until(() => live.lastSequence === BigInt(end), 'the hub to reach the end of the log');
      expect(subscription.poll()).toBeUndefined(); // nothing more, nothing twice
      expect(live.staleRows).toBe(0);
    });
  }

  it('a bulk UPDATE of 10,000 master flows in one statement appends 10,000 events, all delivered in order', async () => {
    const tenant = newTenant();
    await writer.transaction(
      `INSERT INTO crewai_flow_state_extensions (flow_id, client_account_id, engagement_id, user_id, flow_type, flow_status)
       SELECT gen_random_uuid(), $1, $2, 'worker', 'assessment', 'running' FROM generate_series(1, 10000)`,
      [tenant.clientAccountId, tenant.engagementId],
    );
    const live = await startHub();
    const start = await logEnd();
    expect(start).toBe(10_000n); // one master_flow_created each, from the one INSERT
    const subscription = live.subscribe(tenant, { kinds: ['status_changed'] }, { after: start, capacity: 20_000 });
    await writer.transaction(`UPDATE crewai_flow_state_extensions SET flow_status = 'paused' WHERE client_account_id = $1`, [tenant.clientAccountId]);
    const got = await collect(subscription, 10_000);
    expect(got.map(Number)).toEqual(Array.from({ length: 10_000 }, (_unused, index) => 10_001 + index));
    const events = await eventsAfter(start);
    expect(events).toHaveLength(10_000);
    expect(new Set(events.map((event) => event.masterFlowId)).size).toBe(10_000);
    expect(events.every((event) => event.kind === 'status_changed' && (event.payload as { version: number }).version === 1)).toBe(true);
    const versions = await database.prisma.masterFlow.aggregate({ where: { clientAccountId: tenant.clientAccountId }, _sum: { version: true } });
    expect(versions._sum.version).toBe(10_000);
  });
});
