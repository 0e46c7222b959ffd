// The pieces of the event log that need no server: cursors, the subscription filter (the same rule in SQL
// for replay and pages, in memory for live fan-out), the retention settings and the pruning job.
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.ts';
import type { Database } from '../src/db/database.ts';
import { decodeFlowEventCursor, encodeFlowEventCursor } from '../src/domain/flow-event-cursor.ts';
import { matchesFlowEventFilter, type FlowEventFilter } from '../src/domain/flow-event-filter.ts';
import { readTenantEvents } from '../src/services/event-log.ts';
import { startEventPruning } from '../src/services/event-retention.ts';
import { createFlowGraph, newTenant } from './support/factories.ts';
import { stageFlowEvents, type StagedFlowEvent } from './support/staged-events.ts';
import { resetDatabase, testDatabase } from './support/test-database.ts';

let database: Database;
beforeAll(async () => {
  database = await testDatabase();
});
beforeEach(async () => resetDatabase(database));

describe('flow event cursors', () => {
  it('round-trip a sequence and refuse anything else', () => {
    for (const sequence of [0n, 1n, 42n, 2n ** 63n - 1n]) expect(decodeFlowEventCursor(encodeFlowEventCursor(sequence))).toBe(sequence);
    const refused = ['', 'abc', encodeFlowEventCursor(1n).replace(/=+$/, ''), Buffer.from('FlowEvent:-1').toString('base64'),
      Buffer.from('FlowEvent:01').toString('base64'), Buffer.from('FlowEvent:9223372036854775808').toString('base64'),
      Buffer.from('MasterFlow:1').toString('base64'), 'x'.repeat(100)];
    for (const cursor of refused) expect(decodeFlowEventCursor(cursor)).toBeNull();
  });
});

describe('the flow event filter', () => {
  it('selects the same events in SQL (replay, pages) as in memory (live fan-out)', async () => {
    const tenant = newTenant();
    const other = newTenant();
    const discovery = await createFlowGraph(database.prisma, tenant);
    const assessment = await createFlowGraph(database.prisma, tenant, { flowType: 'assessment' });
    const foreign = await createFlowGraph(database.prisma, other);
    const event = (owner: typeof tenant, flowId: string, flowType: string, kind: StagedFlowEvent['kind']): StagedFlowEvent => ({
      clientAccountId: owner.clientAccountId,
      engagementId: owner.engagementId,
      masterFlowId: flowId,
      flowType,
      kind,
      actor: 'tester',
    });
    await database.prisma.$transaction((tx) =>
      stageFlowEvents(tx, [
        event(tenant, discovery.flowId, 'discovery', 'import_stored'),
        event(tenant, discovery.flowId, 'discovery', 'phase_completed'),
        event(tenant, assessment.flowId, 'assessment', 'status_changed'),
        event(other, foreign.flowId, 'discovery', 'status_changed'),
        event(tenant, assessment.flowId, 'assessment', 'master_flow_deleted'),
      ]),
    );
    const all = await database.prisma.flowEvent.findMany({ orderBy: { sequence: 'asc' } });
    const filters: FlowEventFilter[] = [
      {},
      { masterFlowId: discovery.flowId },
      { masterFlowId: foreign.flowId },
      { flowTypes: ['assessment'] },
      { flowTypes: [] },
      { kinds: ['status_changed', 'master_flow_deleted'] },
      { masterFlowId: assessment.flowId, kinds: ['status_changed'], flowTypes: ['assessment', 'discovery'] },
    ];
    for (const filter of filters) {
      const inSql = await readTenantEvents(database.prisma, tenant, filter, { after: 0n }, 100);
      const inMemory = all.filter(
        (row) => row.clientAccountId === tenant.clientAccountId && row.engagementId === tenant.engagementId && matchesFlowEventFilter(row, filter),
      );
      expect(inSql.map((row) => row.sequence), JSON.stringify(filter)).toEqual(inMemory.map((row) => row.sequence));
    }
    expect((await readTenantEvents(database.prisma, tenant, {}, { after: 1n, upTo: 3n }, 100)).map((row) => row.sequence)).toEqual([2n, 3n]);
    expect(matchesFlowEventFilter({ ...all[0]!, masterFlowId: discovery.flowId.toUpperCase() }, { masterFlowId: discovery.flowId })).toBe(true);
  });
});

describe('retention settings', () => {
  it('read FLOWGRAPH_EVENT_RETENTION and friends, with defaults, and refuse nonsense clearly', () => {
    expect(loadConfig({})).toMatchObject({ eventRetentionMs: 7 * 86_400_000, eventPruneIntervalMs: 3_600_000, subscriptionBufferSize: 1_000 });
    expect(loadConfig({ FLOWGRAPH_EVENT_RETENTION: '36h', FLOWGRAPH_EVENT_PRUNE_INTERVAL: '90000', FLOWGRAPH_SUBSCRIPTION_BUFFER: '10' })).toMatchObject({
      eventRetentionMs: 36 * 3_600_000,
      eventPruneIntervalMs: 90_000,
      subscriptionBufferSize: 10,
    });
    for (const env of [{ FLOWGRAPH_EVENT_RETENTION: 'a week' }, { FLOWGRAPH_EVENT_RETENTION: '-1d' }, { FLOWGRAPH_EVENT_RETENTION: '10ms' }, { FLOWGRAPH_SUBSCRIPTION_BUFFER: '0' }]) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
    }
    expect(() => loadConfig({ FLOWGRAPH_EVENT_RETENTION: 'soon' })).toThrow(/FLOWGRAPH_EVENT_RETENTION must be a duration such as 7d/);
  });
});

describe('the pruning job', () => {
  it('prunes events older than the retention, at start and then periodically', async () => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant);
    const append = () =>
      database.prisma.$transaction((tx) =>
        stageFlowEvents(tx, [{ ...tenant, userId: undefined, masterFlowId: flowId, flowType: 'discovery', kind: 'status_changed', actor: 'tester' } as never]),
      );
    await append();
    await database.sql.query(`UPDATE flow_events SET created_at = now() - interval '1 hour'`);
    const job = startEventPruning(database.prisma, { retentionMs: 60_000, intervalMs: 200 });
    try {
      for (let attempt = 0; (await database.prisma.flowEvent.count()) > 0; attempt += 1) {
        if (attempt > 100) throw new Error('the start-up run never pruned');
        await sleep(50);
      }
      await append();
      await database.sql.query(`UPDATE flow_events SET created_at = now() - interval '1 hour'`);
      for (let attempt = 0; (await database.prisma.flowEvent.count()) > 0; attempt += 1) {
        if (attempt > 100) throw new Error('the periodic run never pruned');
        await sleep(50);
      }
      const prunedEnd = (await database.prisma.flowEventSequence.findUniqueOrThrow({ where: { id: 1 } })).lastSequence;
      await append();
      expect(await job.runOnce()).toBe(0); // a fresh event stays
      expect(await database.prisma.flowEvent.count()).toBe(1);
      expect((await database.prisma.flowEventSequence.findUniqueOrThrow({ where: { id: 1 } })).prunedThrough).toBe(prunedEnd);
    } finally {
      await job.stop();
    }
  });
});
