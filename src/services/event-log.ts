// The durable flow event log (DESIGN.md invariant 4): every state change appends its events here,
// inside the transaction that makes the change, so a rolled-back change leaves no event and a
// committed one always has its events.
//
// Sequence numbers come from the single row of flow_event_sequence, incremented with UPDATE: the row
// lock is held until the transaction ends, so a second writer waits, and numbers become visible in
// exactly the order they were drawn (a plain sequence hands out numbers that commit out of order, and
// a reader that saw N could later see N-1 appear). A rolled-back writer releases its numbers to the
// next one, so the log has no gaps either. Append events last in a transaction to hold the lock briefly.
import type { Prisma } from '../generated/prisma/client.ts';

export const FLOW_EVENT_KINDS = [
  'master_flow_created',
  'import_stored',
  'status_changed',
  'phase_completed',
  'master_flow_deleted',
] as const;

export type FlowEventKind = (typeof FLOW_EVENT_KINDS)[number];

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
