import { builder } from '../builder.ts';
import { MASTER_FLOW_STATUSES, type MasterFlowStatus } from '../domain/master-flow-status.ts';
import { enumValues } from './enum-values.ts';

const DESCRIPTIONS: Record<MasterFlowStatus, string> = {
  initialized: 'Created, not started yet.',
  running: 'Working through its phases.',
  paused: 'Stopped by a user; can be resumed.',
  completed: 'Finished successfully. Final.',
  failed: 'Stopped by an error; can be retried.',
};

export const MasterFlowStatusEnum = builder.enumType('MasterFlowStatus', {
  description:
    'Lifecycle state of a master flow: INITIALIZED → RUNNING, RUNNING ⇄ PAUSED, RUNNING|PAUSED → COMPLETED|FAILED, FAILED → RUNNING.',
  values: enumValues(MASTER_FLOW_STATUSES, (value) => DESCRIPTIONS[value]),
});
