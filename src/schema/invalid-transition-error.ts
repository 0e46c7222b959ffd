import { builder } from '../builder.ts';
import { InvalidTransitionError } from '../domain/flow-errors.ts';
import { ErrorInterface } from './error.ts';
import { MasterFlowStatusEnum } from './master-flow-status.ts';

export const InvalidTransitionRef = builder.objectType(InvalidTransitionError, {
  name: 'InvalidTransition',
  description: 'The status change is not allowed from the current status of the flow (see MasterFlowStatus).',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    flowId: t.expose('flowId', { type: 'UUID', description: 'The master flow.' }),
    from: t.field({ type: MasterFlowStatusEnum, description: 'The status the flow is in.', resolve: (error) => error.from }),
    to: t.field({ type: MasterFlowStatusEnum, description: 'The status that was asked for.', resolve: (error) => error.to }),
  }),
});
