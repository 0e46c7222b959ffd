import { builder } from '../builder.ts';
import { FLOW_EVENT_KINDS, type FlowEventKind } from '../domain/flow-event-kinds.ts';
import { enumValues } from './enum-values.ts';

const DESCRIPTIONS: Record<FlowEventKind, string> = {
  master_flow_created: 'A master flow was created.',
  import_stored: 'An import was stored: its master flow, data import, raw records and discovery flow.',
  status_changed: 'The master flow\'s status changed (payload: before, after, version).',
  phase_completed: 'A discovery phase was completed (payload: phase, currentPhase, progressPercentage).',
  master_flow_deleted:
    'The master flow and its whole subtree were deleted (payload: before, dataImportsDeleted, rawRecordsDeleted, ' +
    'discoveryFlowsDeleted).',
  flow_updated:
    'Something else a dashboard shows changed: a name, a failure reason, a counter, an import or discovery flow ' +
    'added or removed (payload: entity — master_flow, data_import or discovery_flow —, change — updated, created ' +
    'or deleted — and, for updates, the changed columns in `fields`). At most one per master flow and transaction, ' +
    'and none in a transaction that already has another event for the flow.',
};

export const FlowEventKindEnum = builder.enumType('FlowEventKind', {
  description: 'What a flow event records.',
  values: enumValues(FLOW_EVENT_KINDS, (value) => DESCRIPTIONS[value]),
});
