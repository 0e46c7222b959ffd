import { builder } from '../builder.ts';
import { DISCOVERY_FLOW_STATUSES, type DiscoveryFlowStatus } from '../domain/master-flow-status.ts';
import { enumValues } from './enum-values.ts';

const DESCRIPTIONS: Record<DiscoveryFlowStatus, string> = {
  active: 'Its master flow is initialized or running.',
  paused: 'Its master flow is paused.',
  completed: 'Every phase is complete.',
  failed: 'Its master flow failed.',
};

export const DiscoveryFlowStatusEnum = builder.enumType('DiscoveryFlowStatus', {
  description: 'State of a discovery flow; it always mirrors its master flow.',
  values: enumValues(DISCOVERY_FLOW_STATUSES, (value) => DESCRIPTIONS[value]),
});
