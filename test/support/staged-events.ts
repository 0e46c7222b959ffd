// Events with made-up kinds, tenants and payloads, for the tests of what reads and delivers the log (filters,
// isolation, cursors). They enter the log the one way every event does: staged in the transaction, numbered
// from the counter row at commit by the database (migration 20261202000000_flow_event_triggers).
import type { FlowEventKind } from '../../src/domain/flow-event-kinds.ts';
import type { Prisma } from '../../src/generated/prisma/client.ts';

export interface StagedFlowEvent {
  clientAccountId: string;
  engagementId: string;
  masterFlowId: string;
  flowType: string;
  kind: FlowEventKind;
  actor: string;
  payload?: Prisma.InputJsonValue;
}

/** Stages events, in order, in the caller's transaction; they get their sequence numbers when it commits. */
export async function stageFlowEvents(tx: Prisma.TransactionClient, events: StagedFlowEvent[]): Promise<void> {
  if (events.length === 0) return;
  await tx.$executeRaw`
    INSERT INTO flow_event_outbox (transaction_id, client_account_id, engagement_id, master_flow_id, flow_type, kind, actor, payload)
    SELECT flowgraph_transaction_id(), (e.value ->> 'clientAccountId')::uuid, (e.value ->> 'engagementId')::uuid,
           (e.value ->> 'masterFlowId')::uuid, e.value ->> 'flowType', e.value ->> 'kind', e.value ->> 'actor',
           coalesce(e.value -> 'payload', '{}'::jsonb)
      FROM jsonb_array_elements(${JSON.stringify(events)}::jsonb) WITH ORDINALITY AS e(value, n)
     ORDER BY e.n`;
  await tx.$executeRaw`SELECT flowgraph_queue_event_commit()`;
}
