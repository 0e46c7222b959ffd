// The kinds of master flow the platform runs (crewai_flow_state_extensions.flow_type).
export const FLOW_TYPES = [
  'discovery',
  'assessment',
  'collection',
  'planning',
  'execution',
  'modernize',
  'finops',
  'observability',
  'decommission',
] as const;

export type FlowType = (typeof FLOW_TYPES)[number];
