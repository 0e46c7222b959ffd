import { builder } from '../builder.ts';
import { FlowNotRunningError } from '../domain/flow-errors.ts';
import { ErrorInterface } from './error.ts';
import { MasterFlowStatusEnum } from './master-flow-status.ts';

export const FlowNotRunningRef = builder.objectType(FlowNotRunningError, {
  name: 'FlowNotRunning',
  description: 'Discovery phases only move while the master flow is running; resume (or retry) it first.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    flowId: t.expose('flowId', { type: 'UUID', description: 'The master flow.' }),
    flowStatus: t.field({ type: MasterFlowStatusEnum, description: 'The status the flow is in.', resolve: (error) => error.flowStatus }),
  }),
});
