// The durable event log: the database's triggers write the events in the transaction of their change, numbered
// without gaps at commit, visible in sequence order even under many concurrent writers; retention prunes a prefix.
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/database.ts';
import { isResumable, pruneFlowEvents, readEventsAfter, readLogBounds } from '../src/services/event-log.ts';
import { createFlowGraph, newTenant } from './support/factories.ts';
import { changeFlowStatus, changeStatusSql, deleteFlow, RolledBack } from './support/flow-changes.ts';
import { stageFlowEvents } from './support/staged-events.ts';
import { workerDatabaseUrl } from './support/postgres-databases.ts';
import { onPostgres, resetDatabase, testDatabase } from './support/test-database.ts';

let database: Database;

beforeAll(async () => {
  database = await testDatabase();
});
beforeEach(async () => resetDatabase(database));

async function sequences(after = 0n): Promise<number[]> {
  const rows = await database.sql.query<{ seq: string }>(
    'SELECT sequence::text AS seq FROM flow_events WHERE sequence > $1 ORDER BY flow_events.sequence',
    [after.toString()],
  );
  return rows.map((row) => Number(row.seq));
}

/** The log's end now: fixtures write events too (every writer does), so tests count from here. */
async function logEnd(): Promise<bigint> {
  return (await readLogBounds(database.prisma)).lastSequence;
}

describe('the events of a change', () => {
  it('are written with it: committed changes have one, rolled-back ones none, numbers stay gap-free', async () => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
    const start = await logEnd();
    const { version: startVersion } = await database.prisma.masterFlow.findUniqueOrThrow({ where: { flowId } });

    const first = await changeFlowStatus(database.prisma, tenant, flowId);
    expect(first).toMatchObject({ sequence: start + 1n, from: 'running', to: 'paused' });
    await expect(changeFlowStatus(database.prisma, tenant, flowId, { rollBack: true })).rejects.toBeInstanceOf(RolledBack);
    const second = await changeFlowStatus(database.prisma, tenant, flowId);
    // The rolled-back change staged an event and gave nothing away: the next commit has the next number.
    expect(second).toMatchObject({ sequence: start + 2n, from: 'paused', to: 'running' });

    expect(await sequences(start)).toEqual([Number(start) + 1, Number(start) + 2]);
    const flow = await database.prisma.masterFlow.findUniqueOrThrow({ where: { flowId } });
    expect(flow).toMatchObject({ flowStatus: 'running', version: startVersion + 2 });
    const events = await database.prisma.flowEvent.findMany({ where: { sequence: { gt: start } }, orderBy: { sequence: 'asc' } });
    expect(events.map((event) => event.payload)).toEqual([
      { before: 'running', after: 'paused', version: startVersion + 1 },
      { before: 'paused', after: 'running', version: startVersion + 2 },
    ]);
    expect(events.every((event) => event.actor === tenant.userId && event.masterFlowId === flowId)).toBe(true);
    expect(await readLogBounds(database.prisma)).toEqual({ lastSequence: start + 2n, prunedThrough: 0n });
    // Nothing is left staged once the transactions are over.
    expect(await database.prisma.flowEventOutbox.count()).toBe(0);
    expect(await database.prisma.flowEventCommit.count()).toBe(0);
  });

  it('are numbered consecutively within one transaction, in the order staged', async () => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant);
    const start = await logEnd();
    const base = { clientAccountId: tenant.clientAccountId, engagementId: tenant.engagementId, masterFlowId: flowId, flowType: 'discovery', actor: 'tester' };
    await database.prisma.$transaction(async (tx) => {
      await stageFlowEvents(tx, [{ ...base, kind: 'master_flow_created' }]);
      await stageFlowEvents(tx, [{ ...base, kind: 'import_stored' }, { ...base, kind: 'phase_completed' }]);
    });
    const rows = await database.prisma.flowEvent.findMany({ where: { sequence: { gt: start } }, orderBy: { sequence: 'asc' } });
    expect(rows.map((row) => [row.sequence, row.kind])).toEqual([
      [start + 1n, 'master_flow_created'],
      [start + 2n, 'import_stored'],
      [start + 3n, 'phase_completed'],
    ]);
  });

  it('of a deletion outlive the master flow and say what went with it', async () => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { imports: 2, recordsPerImport: 3 });
    const start = await logEnd();
    const sequence = await deleteFlow(database.prisma, tenant, flowId);
    expect(await database.prisma.masterFlow.count({ where: { flowId } })).toBe(0);
    expect(await database.prisma.rawImportRecord.count({ where: { masterFlowId: flowId } })).toBe(0);
    // One event: the cascade's deletions of the children add none.
    expect(await sequences(start)).toEqual([Number(sequence)]);
    const event = await database.prisma.flowEvent.findUniqueOrThrow({ where: { sequence } });
    expect(event).toMatchObject({
      kind: 'master_flow_deleted',
      masterFlowId: flowId,
      clientAccountId: tenant.clientAccountId,
      actor: tenant.userId,
      payload: { before: 'running', dataImportsDeleted: 2, rawRecordsDeleted: 6, discoveryFlowsDeleted: 1 },
    });
  });
});

describe('readEventsAfter', () => {
  it('returns the events after a position, oldest first, exactly as Prisma reads them', async () => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
    const other = newTenant();
    const { flowId: otherFlowId } = await createFlowGraph(database.prisma, other, { flowStatus: 'running' });
    const start = await logEnd();
    for (let change = 0; change < 3; change += 1) {
      await changeFlowStatus(database.prisma, tenant, flowId);
      await changeFlowStatus(database.prisma, other, otherFlowId);
    }
    await database.prisma.$transaction((tx) =>
      stageFlowEvents(tx, [
        { clientAccountId: tenant.clientAccountId, engagementId: tenant.engagementId, masterFlowId: flowId, flowType: 'discovery', kind: 'import_stored', actor: 'tester', payload: { nested: { list: [1, 'two', null] }, big: 2 ** 40 } },
      ]),
    );
    const from = start + 2n;
    const viaPrisma = await database.prisma.flowEvent.findMany({ where: { sequence: { gt: from } }, orderBy: { sequence: 'asc' } });
    expect(viaPrisma).toHaveLength(5);
    // Same keys, types (bigint sequence, Date, parsed JSON) and values, every tenant, in order.
    expect(await readEventsAfter(database, from, 10)).toStrictEqual(viaPrisma);
    expect(await readEventsAfter(database, from, 2)).toStrictEqual(viaPrisma.slice(0, 2));
    expect(await readEventsAfter(database, from + 5n, 10)).toEqual([]);
  });

  it('orders by number across 9→10, 99→100 and 999→1000, and pages through a long log without a gap', async () => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant);
    const start = await logEnd();
    const base = { clientAccountId: tenant.clientAccountId, engagementId: tenant.engagementId, masterFlowId: flowId, flowType: 'discovery', actor: 'tester' };
    const total = 1_205 - Number(start);
    await database.prisma.$transaction((tx) =>
      stageFlowEvents(tx, Array.from({ length: total }, (_unused, index) => ({ ...base, kind: 'status_changed' as const, payload: { index } }))),
    );
    const numbers = async (after: number, limit: number) => (await readEventsAfter(database, BigInt(after), limit)).map((event) => Number(event.sequence));
    const run = (from: number, count: number) => Array.from({ length: count }, (_unused, index) => from + index);
    expect(await numbers(7, 5)).toEqual(run(8, 5));
    expect(await numbers(95, 10)).toEqual(run(96, 10));
    expect(await numbers(995, 10)).toEqual(run(996, 10));
    // The hub's batch of 500 across every boundary: page after page continues exactly where the last ended.
    const paged: number[] = [];
    for (let after = 0; ; ) {
      const page = await numbers(after, 500);
      paged.push(...page);
      if (page.length < 500) break;
      after = page.at(-1)!;
    }
    expect(paged).toEqual(run(1, 1_205));
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
    const start = await logEnd();

    // Running → paused → running → paused, each way, interleaved so that both draw from the counter row.
    const drawn: bigint[] = [];
    for (let change = 0; change < 3; change += 1) {
      drawn.push((await changeFlowStatus(database.prisma, tenant, viaPrisma)).sequence);
      await database.sql.exec(changeStatusSql({ flowId: viaStatement, ...tenant }, tenant.userId, tenant.userId));
      drawn.push((await logEnd()));
    }
    expect(drawn).toEqual([1n, 2n, 3n, 4n, 5n, 6n].map((n) => n + start));

    // What each change did to its flow: the same columns, to the same values, but for the times.
    const plain = (_key: string, value: unknown) => (typeof value === 'bigint' ? value.toString() : value);
    const changes = async (flowId: string) => {
      const after: Record<string, unknown> = { ...(await flowRow(flowId)) };
      const old: Record<string, unknown> = before[flowId]!;
      const changed = Object.fromEntries(Object.entries(after).filter(([key, value]) => String(JSON.stringify(value, plain)) !== String(JSON.stringify(old[key], plain))));
      const { updatedAt, phaseTransitions, versionTransaction, ...rest } = changed as {
        updatedAt: Date;
        phaseTransitions: { at: string }[];
        versionTransaction: bigint;
      };
      expect(typeof versionTransaction).toBe('bigint');
      expect(updatedAt.getTime()).toBeGreaterThanOrEqual(changedAfter);
      for (const transition of phaseTransitions) expect(transition.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      return { ...rest, phaseTransitions: phaseTransitions.map(({ at: _at, ...transition }) => transition) };
    };
    const prismaChanges = await changes(viaPrisma);
    expect(prismaChanges).toMatchObject({ flowStatus: 'paused', version: before[viaPrisma]!.version + 3 });
    expect(await changes(viaStatement)).toStrictEqual(prismaChanges);

    // Their events: the same but for the flow and the time, and in the order they were drawn.
    const events = await readEventsAfter(database, start, 10);
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
    const start = Number(await logEnd());
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
            // commit first with a plain sequence; half the writers number at commit, as the services do.
            await changeFlowStatus(database.prisma, tenant, flowId, {
              rollBack,
              numberNow: writer % 2 === 0,
              beforeCommit: () => sleep(Math.random() * 3),
            });
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
    expect(await sequences()).toEqual(Array.from({ length: start + committed }, (_unused, index) => index + 1));
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

    /** Resolves when `count` connections of this database wait for a lock. */
    async function waitingForLocks(count: number): Promise<void> {
      for (let attempt = 0; ; attempt += 1) {
        const { rows } = await reader.query<{ waiting: number }>(
          `SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        if (rows[0]!.waiting >= count) return;
        if (attempt > 1_000) throw new Error(`${count} writers never waited for a lock`);
        await sleep(10);
      }
    }

    function held(): { release: () => void; reached: Promise<void>; hold: () => Promise<void> } {
      let release!: () => void;
      const released = new Promise<void>((resolve) => (release = resolve));
      let reach!: () => void;
      const reached = new Promise<void>((resolve) => (reach = resolve));
      return { release, reached, hold: async () => { reach(); await released; } };
    }

    it('an open transaction holds no number: a writer that commits first gets the lower one, nobody waits', async () => {
      const tenant = newTenant();
      const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
      const other = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
      const start = await logEnd();
      const gate = held();
      // The first writer has made its change (its event is staged) and stays open, as an import does for minutes.
      const first = changeFlowStatus(database.prisma, tenant, flowId, { beforeCommit: gate.hold });
      await gate.reached;
      const second = await changeFlowStatus(database.prisma, tenant, other.flowId);
      expect(second.sequence).toBe(start + 1n);
      expect(await sequences(start)).toEqual([Number(start) + 1]);
      gate.release();
      expect((await first).sequence).toBe(start + 2n);
      expect(await sequences(start)).toEqual([Number(start) + 1, Number(start) + 2]);
    });

    it('while one writer commits its numbers, the next one waits for the counter row', async () => {
      const tenant = newTenant();
      const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
      const other = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
      const start = await logEnd();
      const gate = held();
      const first = changeFlowStatus(database.prisma, tenant, flowId, { numberNow: true, beforeCommit: gate.hold });
      await gate.reached;
      const second = changeFlowStatus(database.prisma, tenant, other.flowId);
      // The second writer reaches its commit and waits for the first one's lock on the counter row.
      await waitingForLocks(1);
      expect(await sequences(start)).toEqual([]);
      gate.release();
      expect((await first).sequence).toBe(start + 1n);
      expect((await second).sequence).toBe(start + 2n);
      expect(await sequences(start)).toEqual([Number(start) + 1, Number(start) + 2]);
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
    // The fixture's own events are not part of this test.
    await database.sql.exec('DELETE FROM flow_events; UPDATE flow_event_sequence SET last_sequence = 0');
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
