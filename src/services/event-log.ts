// The durable flow event log (docs/design.md, invariant 4): every change of a flow appends its events in the
// transaction that makes the change, so a rolled-back change leaves no event and a committed one always has its
// events. The database does the appending, for every writer: triggers on the flow tables stage the events, and
// at commit a deferred trigger numbers them from the single row of flow_event_sequence and moves them into
// flow_events (migration 20261202000000_flow_event_triggers). That row's lock is held until the commit is
// done, so numbers become visible in exactly the order they were drawn, with no gap (a plain sequence hands out
// numbers that commit out of order, and a reader that saw N could later see N-1 appear; test/event-log.test.ts
// shows both). This module only reads the log, and prunes it.
//
// Waking the listeners needs nothing here either: a statement trigger on flow_events (migration
// 20261127000000_flow_event_delivery) calls pg_notify, which PostgreSQL delivers at commit and drops on
// rollback.
import type { Database } from '../db/database.ts';
import type { FlowEventFilter, Tenant } from '../domain/flow-event-filter.ts';
import type { FlowEvent, Prisma, PrismaClient } from '../generated/prisma/client.ts';

export { FLOW_EVENT_KINDS, type FlowEventKind } from '../domain/flow-event-kinds.ts';

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

// The sequence travels as text (a bigint does not fit a JavaScript number) under another name than the column:
// `ORDER BY sequence` would otherwise sort by the text alias, and "10" sorts before "9" (the bug behind
// repeated and reordered live events). The order is the column's, qualified so no alias can shadow it.
const EVENTS_AFTER = `SELECT e.sequence::text AS "sequenceText", e.client_account_id AS "clientAccountId",
  e.engagement_id AS "engagementId", e.master_flow_id AS "masterFlowId", e.flow_type AS "flowType", e.kind, e.actor,
  e.payload, e.created_at AS "createdAt"
FROM flow_events e WHERE e.sequence > $1::bigint ORDER BY e.sequence LIMIT $2::int`;

/**
 * Every event after `after`, of every tenant, oldest first: what one process's listener fans out, on every
 * wake-up. A plain statement rather than Prisma's findMany, which cost about 2 ms of the server's CPU per
 * read (its query plan is interpreted each time); the rows are FlowEvents as Prisma would return them.
 */
export async function readEventsAfter(database: Pick<Database, 'read'>, after: bigint, limit: number): Promise<FlowEvent[]> {
  const rows = await database.read<Omit<FlowEvent, 'sequence'> & { sequenceText: string }>(EVENTS_AFTER, [after.toString(), limit]);
  return rows.map(({ sequenceText, ...row }) => ({ ...row, sequence: BigInt(sequenceText) }));
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
