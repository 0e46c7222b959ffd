// The durable event log: events are written in the transaction of their change, numbered without gaps,
// and become visible in sequence order even under many concurrent writers; retention prunes a prefix.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/database.ts';
import { appendFlowEvents, isResumable, pruneFlowEvents, readEventsAfter, readLogBounds } from '../src/services/event-log.ts';
import { createFlowGraph, newTenant } from './support/factories.ts';
import { CHANGE_STATUS_SQL, changeFlowStatus, deleteFlow, RolledBack } from './support/flow-changes.ts';
import { workerDatabaseUrl } from './support/postgres-databases.ts';
import { onPostgres, resetDatabase, testDatabase } from './support/test-database.ts';

let database: Database;

beforeAll(async () => {
  database = await testDatabase();
});
beforeEach(async () => resetDatabase(database));

async function sequences(): Promise<number[]> {
  const rows = await database.sql.query<{ seq: string }>('SELECT sequence::text AS seq FROM flow_events ORDER BY flow_events.sequence');
  return rows.map((row) => Number(row.seq));
}

describe('appendFlowEvents', () => {
  it('writes the event with its change: committed changes have one, rolled-back ones none, numbers stay gap-free', async () => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });

    const first = await changeFlowStatus(database.prisma, tenant, flowId);
    expect(first).toMatchObject({ sequence: 1n, from: 'running', to: 'paused' });
    await expect(changeFlowStatus(database.prisma, tenant, flowId, { rollBack: true })).rejects.toBeInstanceOf(RolledBack);
    const second = await changeFlowStatus(database.prisma, tenant, flowId);
    // The rolled-back change drew sequence 2 and gave it back: the next commit has it.
    expect(second).toMatchObject({ sequence: 2n, from: 'paused', to: 'running' });

    expect(await sequences()).toEqual([1, 2]);
    const flow = await database.prisma.masterFlow.findUniqueOrThrow({ where: { flowId } });
    expect(flow).toMatchObject({ flowStatus: 'running', version: 2 });
    const events = await database.prisma.flowEvent.findMany({ orderBy: { sequence: 'asc' } });
    expect(events.map((event) => event.payload)).toEqual([
      { before: 'running', after: 'paused', version: 1 },
      { before: 'paused', after: 'running', version: 2 },
    ]);
    expect(events.every((event) => event.actor === tenant.userId && event.masterFlowId === flowId)).toBe(true);
    expect(await readLogBounds(database.prisma)).toEqual({ lastSequence: 2n, prunedThrough: 0n });
  });

  it('numbers several events of one transaction consecutively, in the order given', async () => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant);
    const base = { ...tenant, masterFlowId: flowId, flowType: 'discovery', actor: 'tester' } as const;
    const drawn = await database.prisma.$transaction((tx) =>
      appendFlowEvents(tx, [
        { ...base, kind: 'master_flow_created', userId: undefined } as never,
        { ...base, kind: 'import_stored', userId: undefined } as never,
      ]),
    );
    expect(drawn).toEqual([1n, 2n]);
    const kinds = await database.prisma.flowEvent.findMany({ orderBy: { sequence: 'asc' }, select: { kind: true } });
    expect(kinds.map((row) => row.kind)).toEqual(['master_flow_created', 'import_stored']);
    expect(await database.prisma.$transaction((tx) => appendFlowEvents(tx, []))).toEqual([]);
  });

  it('keeps the deletion event of a master flow after its subtree is gone', async () => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { imports: 2, recordsPerImport: 3 });
    const sequence = await deleteFlow(database.prisma, tenant, flowId);
    expect(await database.prisma.masterFlow.count({ where: { flowId } })).toBe(0);
    expect(await database.prisma.rawImportRecord.count({ where: { masterFlowId: flowId } })).toBe(0);
    const event = await database.prisma.flowEvent.findUniqueOrThrow({ where: { sequence } });
    expect(event).toMatchObject({ kind: 'master_flow_deleted', masterFlowId: flowId, clientAccountId: tenant.clientAccountId });
  });
});

describe('readEventsAfter', () => {
  it('returns the events after a position, oldest first, exactly as Prisma reads them', async () => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
    const other = newTenant();
    const { flowId: otherFlowId } = await createFlowGraph(database.prisma, other, { flowStatus: 'running' });
    for (let change = 0; change < 3; change += 1) {
      await changeFlowStatus(database.prisma, tenant, flowId);
      await changeFlowStatus(database.prisma, other, otherFlowId);
    }
    await database.prisma.$transaction((tx) =>
      appendFlowEvents(tx, [
        { clientAccountId: tenant.clientAccountId, engagementId: tenant.engagementId, masterFlowId: flowId, flowType: 'discovery', kind: 'import_stored', actor: 'tester', payload: { nested: { list: [1, 'two', null] }, big: 2 ** 40 } },
      ]),
    );
    const viaPrisma = await database.prisma.flowEvent.findMany({ where: { sequence: { gt: 2n } }, orderBy: { sequence: 'asc' } });
    expect(viaPrisma).toHaveLength(5);
    // Same keys, types (bigint sequence, Date, parsed JSON) and values, every tenant, in order.
    expect(await readEventsAfter(database, 2n, 10)).toStrictEqual(viaPrisma);
    expect(await readEventsAfter(database, 2n, 2)).toStrictEqual(viaPrisma.slice(0, 2));
    expect(await readEventsAfter(database, 7n, 10)).toEqual([]);
  });
});

describe("the fan-out benchmark's one-statement change", () => {
  it('changes a flow and appends its event exactly as changeFlowStatus does', async () => {
    const tenant = newTenant();
    const viaPrisma = (await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' })).flowId;
    const viaStatement = (await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' })).flowId;
    const flowRow = (flowId: string) => database.prisma.masterFlow.findUniqueOrThrow({ where: { flowId } });
    const before = { [viaPrisma]: await flowRow(viaPrisma), [viaStatement]: await flowRow(viaStatement) };
    const changedAfter = Date.now() - 1_000;

    // Running → paused → running → paused, each way, interleaved so that both draw from the counter row.
    const drawn: bigint[] = [];
    for (let change = 0; change < 3; change += 1) {
      drawn.push((await changeFlowStatus(database.prisma, tenant, viaPrisma)).sequence);
      const [row] = await database.sql.query<{ sequence: string }>(CHANGE_STATUS_SQL, [viaStatement, tenant.clientAccountId, tenant.engagementId, tenant.userId]);
      drawn.push(BigInt(row!.sequence));
    }
    expect(drawn).toEqual([1n, 2n, 3n, 4n, 5n, 6n]);

    // What each change did to its flow: the same columns, to the same values, but for the times.
    const changes = async (flowId: string) => {
      const after: Record<string, unknown> = { ...(await flowRow(flowId)) };
      const old: Record<string, unknown> = before[flowId]!;
      const changed = Object.fromEntries(Object.entries(after).filter(([key, value]) => JSON.stringify(value) !== JSON.stringify(old[key])));
      const { updatedAt, phaseTransitions, ...rest } = changed as { updatedAt: Date; phaseTransitions: { at: string }[] };
      expect(updatedAt.getTime()).toBeGreaterThanOrEqual(changedAfter);
      for (const transition of phaseTransitions) expect(transition.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      return { ...rest, phaseTransitions: phaseTransitions.map(({ at: _at, ...transition }) => transition) };
    };
    const prismaChanges = await changes(viaPrisma);
    expect(prismaChanges).toMatchObject({ flowStatus: 'paused', version: 3 });
    expect(await changes(viaStatement)).toStrictEqual(prismaChanges);

    // Their events: the same but for the flow and the time, and in the order they were drawn.
    const events = await readEventsAfter(database, 0n, 10);
    expect(events.map((event) => event.sequence)).toEqual(drawn);
    const comparable = (flowId: string) =>
      events.filter((event) => event.masterFlowId === flowId).map(({ sequence: _sequence, masterFlowId: _flow, createdAt: _time, ...event }) => event);
    expect(comparable(viaPrisma)).toHaveLength(3);
    expect(comparable(viaStatement)).toStrictEqual(comparable(viaPrisma));
  });
});

describe('sequence order under concurrent writers', () => {
  it('a reader never sees a gap that is filled later (many writers, some rolling back)', async () => {
    const writers = 8;
    const changesPerWriter = 25;
    const tenant = newTenant();
    const flows = await Promise.all(
      Array.from({ length: writers }, () => createFlowGraph(database.prisma, tenant, { flowStatus: 'running' })),
    );
    let done = false;
    let committed = 0;
    let rolledBack = 0;
    const writing = Promise.all(
      flows.map(async ({ flowId }, writer) => {
        for (let change = 0; change < changesPerWriter; change += 1) {
          await sleep(Math.random() * 3);
          const rollBack = (writer + change) % 5 === 0;
          try {
            // Holding the transaction open after drawing the number is what would let a later number
            // commit first with a plain sequence.
            await changeFlowStatus(database.prisma, tenant, flowId, { rollBack, beforeCommit: () => sleep(Math.random() * 3) });
            committed += 1;
          } catch (error) {
            if (!(error instanceof RolledBack)) throw error;
            rolledBack += 1;
          }
        }
      }),
    ).finally(() => (done = true));

    // The reader: each read must continue exactly where the previous one ended.
    let seen = 0;
    let readsWithNewRows = 0;
    const violations: string[] = [];
    while (!done) {
      const rows = await database.sql.query<{ seq: string }>(
        'SELECT sequence::text AS seq FROM flow_events WHERE sequence > $1 ORDER BY flow_events.sequence',
        [seen],
      );
      const got = rows.map((row) => Number(row.seq));
      const expected = got.map((_value, index) => seen + 1 + index);
      if (JSON.stringify(got) !== JSON.stringify(expected)) violations.push(`after ${seen}: ${got.join(',')}`);
      if (got.length > 0) readsWithNewRows += 1;
      seen = got.at(-1) ?? seen;
      const [older] = await database.sql.query<{ count: number }>('SELECT count(*)::int AS count FROM flow_events WHERE sequence <= $1', [seen]);
      if (older?.count !== seen) violations.push(`${older?.count} rows at or below ${seen}`);
      await sleep(0);
    }
    await writing;

    expect(violations).toEqual([]);
    expect(committed + rolledBack).toBe(writers * changesPerWriter);
    expect(rolledBack).toBeGreaterThan(0);
    expect(readsWithNewRows).toBeGreaterThan(5); // the reader really ran between the writers
    expect(await sequences()).toEqual(Array.from({ length: committed }, (_unused, index) => index + 1));
    const versions = await database.prisma.masterFlow.aggregate({ where: { clientAccountId: tenant.clientAccountId }, _sum: { version: true } });
    expect(versions._sum.version).toBe(committed);
  });

  describe.runIf(onPostgres)('on PostgreSQL, with separate connections', () => {
    let a: pg.Client;
    let b: pg.Client;
    let reader: pg.Client;
    beforeAll(async () => {
      const url = workerDatabaseUrl(process.env.TEST_DATABASE_URL!, process.env.VITEST_POOL_ID ?? '1');
      [a, b, reader] = [new pg.Client(url), new pg.Client(url), new pg.Client(url)];
      await Promise.all([a.connect(), b.connect(), reader.connect()]);
    });
    afterAll(async () => Promise.all([a, b, reader].map((client) => client?.end())));

    const visible = async (table: string) =>
      (await reader.query<{ n: number }>(`SELECT n FROM ${table} ORDER BY n`)).rows.map((row) => row.n);

    it('a plain sequence lets a later number commit first: the reader sees 2, then 1 appears', async () => {
      await a.query('DROP TABLE IF EXISTS plain_log; CREATE TABLE plain_log (n int PRIMARY KEY DEFAULT 0); DROP SEQUENCE IF EXISTS plain_seq; CREATE SEQUENCE plain_seq');
      await a.query('BEGIN');
      await a.query(`INSERT INTO plain_log VALUES (nextval('plain_seq'))`);
      await b.query('BEGIN');
      await b.query(`INSERT INTO plain_log VALUES (nextval('plain_seq'))`);
      await b.query('COMMIT');
      expect(await visible('plain_log')).toEqual([2]);
      await a.query('COMMIT');
      expect(await visible('plain_log')).toEqual([1, 2]); // the gap was filled late
      await a.query('DROP TABLE plain_log; DROP SEQUENCE plain_seq');
    });

    it('the counter row makes the second writer wait for the first to commit', async () => {
      const tenant = newTenant();
      const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let drawnByFirst!: () => void;
      const firstDrew = new Promise<void>((resolve) => (drawnByFirst = resolve));
      const first = changeFlowStatus(database.prisma, tenant, flowId, {
        beforeCommit: async () => {
          drawnByFirst();
          await released;
        },
      });
      await firstDrew;
      const other = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
      const second = changeFlowStatus(database.prisma, tenant, other.flowId);
      // Wait until the second writer is blocked on the counter row's lock.
      for (let attempt = 0; ; attempt += 1) {
        const { rows } = await reader.query<{ waiting: number }>(
          `SELECT count(*)::int AS waiting FROM pg_stat_activity
            WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%flow_event_sequence%'`,
        );
        if (rows[0]!.waiting === 1) break;
        if (attempt > 500) throw new Error('the second writer never waited for the counter row');
        await sleep(10);
      }
      expect(await sequences()).toEqual([]);
      release();
      expect((await first).sequence).toBe(1n);
      expect((await second).sequence).toBe(2n);
      expect(await sequences()).toEqual([1, 2]);
    });
  });
});

describe('pruneFlowEvents', () => {
  async function age(sequence: number, days: number) {
    await database.sql.query(`UPDATE flow_events SET created_at = now() - make_interval(days => $2) WHERE sequence = $1`, [sequence, days]);
  }

  it('deletes a prefix of the log older than the retention and records the watermark', async () => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
    for (let change = 0; change < 5; change += 1) await changeFlowStatus(database.prisma, tenant, flowId);
    // created_at is each writer's transaction start, so it need not grow with the sequence: 3 is newer than 4.
    await age(1, 10);
    await age(2, 9);
    await age(4, 8);
    const result = await pruneFlowEvents(database.prisma, 7 * 24 * 3_600_000);
    expect(result).toEqual({ deleted: 4, lastSequence: 5n, prunedThrough: 4n });
    expect(await sequences()).toEqual([5]);

    const bounds = await readLogBounds(database.prisma);
    expect(isResumable(3n, bounds)).toBe(false);
    expect(isResumable(4n, bounds)).toBe(true);
    expect(isResumable(5n, bounds)).toBe(true);
    expect(isResumable(6n, bounds)).toBe(false); // beyond the end: not a cursor of this log

    // Nothing old left: the watermark stays.
    expect(await pruneFlowEvents(database.prisma, 7 * 24 * 3_600_000)).toEqual({ deleted: 0, lastSequence: 5n, prunedThrough: 4n });
  });
});
