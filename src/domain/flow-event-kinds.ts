// What a flow event records (flow_events.kind). Every state change of a master flow or discovery flow
// appends one of these in the transaction that makes the change (DESIGN.md invariant 4).
export const FLOW_EVENT_KINDS = [
  'master_flow_created',
  'import_stored',
  'status_changed',
  'phase_completed',
  'master_flow_deleted',
] as const;

export type FlowEventKind = (typeof FLOW_EVENT_KINDS)[number];

export function isFlowEventKind(value: string): value is FlowEventKind {
  return (FLOW_EVENT_KINDS as readonly string[]).includes(value);
}
