// What a flow event records (flow_events.kind). Every change of a master flow, its data imports or its discovery
// flows appends one of these in the transaction that makes the change, whoever writes it: the database's
// triggers derive the kind from what changed (docs/design.md, invariant 4). The CHECK constraints of
// flow_events and flow_event_outbox hold the same list; test/migrations.test.ts checks that they agree.
export const FLOW_EVENT_KINDS = [
  'master_flow_created',
  'import_stored',
  'status_changed',
  'phase_completed',
  'master_flow_deleted',
  'flow_updated',
] as const;

export type FlowEventKind = (typeof FLOW_EVENT_KINDS)[number];

export function isFlowEventKind(value: string): value is FlowEventKind {
  return (FLOW_EVENT_KINDS as readonly string[]).includes(value);
}
