import { builder } from '../builder.ts';
import type { MasterFlowStatus } from '../domain/master-flow-status.ts';
import { MasterFlowStatusEnum } from './master-flow-status.ts';

export const FlowStatusCountRef = builder.objectRef<{ status: MasterFlowStatus; count: number }>('FlowStatusCount').implement({
  description: 'How many of the tenant\'s master flows are in one lifecycle state.',
  fields: (t) => ({
    status: t.field({ type: MasterFlowStatusEnum, description: 'The state.', resolve: (entry) => entry.status }),
    count: t.field({ type: 'SafeInt', description: 'Master flows in it.', resolve: (entry) => entry.count }),
  }),
});
