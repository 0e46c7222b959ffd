// The durable flow event log (DESIGN.md invariant 4): every state change appends its events here,
// inside the transaction that makes the change, so a rolled-back change leaves no event and a
// committed one always has its events.
//
// Sequence numbers come from the single row of flow_event_sequence, incremented with UPDATE: the row
// lock is held until the transaction ends, so a second writer waits, and numbers become visible in
// exactly the order they were drawn (a plain sequence hands out numbers that commit out of order, and
// a reader that saw N could later see N-1 appear; test/event-log.test.ts shows both). A rolled-back
// writer releases its numbers to the next one, so the log has no gaps either. Append events last in a
// transaction to hold the lock briefly.
//
// Waking the listeners needs nothing here: a statement trigger on flow_events (migration
// 20261127000000_flow_event_delivery) calls pg_notify, which PostgreSQL delivers at commit and drops on
// rollback.
import type { Database } from '../db/database.ts';
import type { FlowEventFilter, Tenant } from '../domain/flow-event-filter.ts';
import type { FlowEventKind } from '../domain/flow-event-kinds.ts';
import type { FlowEvent, Prisma, PrismaClient } from '../generated/prisma/client.ts';

export { FLOW_EVENT_KINDS, type FlowEventKind } from '../domain/flow-event-kinds.ts';

export interface NewFlowEvent {
  clientAccountId: string;
  engagementId: string;
  masterFlowId: string;
  flowType: string;
  kind: FlowEventKind;
  actor: string;
  payload?: Prisma.InputJsonValue;
}

/** Appends events in order; returns their sequence numbers. Must be called with a transaction client. */
export async function appendFlowEvents(tx: Prisma.TransactionClient, events: NewFlowEvent[]): Promise<bigint[]> {
  if (events.length === 0) return [];
  const [counter] = await tx.$queryRaw<{ last_sequence: bigint }[]>`
    UPDATE flow_event_sequence SET last_sequence = last_sequence + ${events.length} WHERE id = 1
    RETURNING last_sequence`;
  if (!counter) throw new Error('flow_event_sequence has no row; the init migration seeds it');
  const first = BigInt(counter.last_sequence) - BigInt(events.length) + 1n;
  const sequences = events.map((_event, index) => first + BigInt(index));
  await tx.flowEvent.createMany({
    data: events.map((event, index) => ({ ...event, payload: event.payload ?? {}, sequence: sequences[index]! })),
  });
  return sequences;
}

/** The committed end of the log and how far retention has pruned it. */
export interface LogBounds {
  /** The last sequence committed (0 when nothing was ever appended). */
  lastSequence: bigint;
  /** Every event up to this sequence is gone; cursors below it cannot be resumed. */
  prunedThrough: bigint;
}

export async function readLogBounds(prisma: PrismaClient): Promise<LogBounds> {
  const row = await prisma.flowEventSequence.findUnique({ where: { id: 1 } });
  if (!row) throw new Error('flow_event_sequence has no row; the init migration seeds it');
  return { lastSequence: row.lastSequence, prunedThrough: row.prunedThrough };
}

/**
 * Whether a client holding `after` can resume from it: nothing after it has been pruned, and it is not
 * beyond the end of the log (a cursor from another database, or from before a restore).
 */
export function isResumable(after: bigint, bounds: LogBounds): boolean {
  return after >= bounds.prunedThrough && after <= bounds.lastSequence;
}

const EVENTS_AFTER = `SELECT sequence::text AS sequence, client_account_id AS "clientAccountId", engagement_id AS "engagementId",
  master_flow_id AS "masterFlowId", flow_type AS "flowType", kind, actor, payload, created_at AS "createdAt"
FROM flow_events WHERE sequence > $1::bigint ORDER BY sequence LIMIT $2::int`;

/**
 * Every event after `after`, of every tenant, oldest first: what one process's listener fans out, on every
 * wake-up. A plain statement rather than Prisma's findMany, which cost about 2 ms of the server's CPU per
 * read (its query plan is interpreted each time); the rows are FlowEvents as Prisma would return them.
 */
export async function readEventsAfter(database: Pick<Database, 'read'>, after: bigint, limit: number): Promise<FlowEvent[]> {
  const rows = await database.read<Omit<FlowEvent, 'sequence'> & { sequence: string }>(EVENTS_AFTER, [after.toString(), limit]);
  return rows.map((row) => ({ ...row, sequence: BigInt(row.sequence) }));
}

export function flowEventWhere(tenant: Tenant, filter: FlowEventFilter): Prisma.FlowEventWhereInput {
  return {
    clientAccountId: tenant.clientAccountId,
    engagementId: tenant.engagementId,
    ...(filter.masterFlowId != null ? { masterFlowId: filter.masterFlowId } : {}),
    ...(filter.flowTypes != null ? { flowType: { in: [...filter.flowTypes] } } : {}),
    ...(filter.kinds != null ? { kind: { in: [...filter.kinds] } } : {}),
  };
}

/** One tenant's events in (after, upTo], filtered, oldest first, at most `limit`. */
export function readTenantEvents(
  prisma: PrismaClient,
  tenant: Tenant,
  filter: FlowEventFilter,
  range: { after: bigint; upTo?: bigint },
  limit: number,
): Promise<FlowEvent[]> {
  return prisma.flowEvent.findMany({
    where: {
      ...flowEventWhere(tenant, filter),
      sequence: { gt: range.after, ...(range.upTo !== undefined ? { lte: range.upTo } : {}) },
    },
    orderBy: { sequence: 'asc' },
    take: limit,
  });
}

/**
 * Deletes the events older than the retention period and records how far the log is pruned, in one
 * transaction. The log is cut at a sequence, not at a time: created_at is the writer's transaction start,
 * which does not grow with the sequence, and cutting by time could leave holes a resuming client would
 * silently skip. Everything up to the newest sequence older than the cut-off goes.
 */
export async function pruneFlowEvents(prisma: PrismaClient, retentionMs: number, now = new Date()): Promise<LogBounds & { deleted: number }> {
  const cutoff = new Date(now.getTime() - retentionMs);
  return prisma.$transaction(async (tx) => {
    const newest = await tx.flowEvent.aggregate({ where: { createdAt: { lt: cutoff } }, _max: { sequence: true } });
    const through = newest._max.sequence;
    let deleted = 0;
    if (through !== null) {
      deleted = (await tx.flowEvent.deleteMany({ where: { sequence: { lte: through } } })).count;
      await tx.$executeRaw`UPDATE flow_event_sequence SET pruned_through = GREATEST(pruned_through, ${through}) WHERE id = 1`;
    }
    const row = await tx.flowEventSequence.findUnique({ where: { id: 1 } });
    if (!row) throw new Error('flow_event_sequence has no row; the init migration seeds it');
    return { deleted, lastSequence: row.lastSequence, prunedThrough: row.prunedThrough };
  });
}
