import { builder } from '../builder.ts';
import { FlowNotFoundError } from '../domain/flow-errors.ts';
import { ErrorInterface } from './error.ts';

export const FlowNotFoundRef = builder.objectType(FlowNotFoundError, {
  name: 'FlowNotFound',
  description: 'No such flow in your tenant (a flow of another tenant is reported the same way), or it was deleted meanwhile.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    flowId: t.expose('flowId', { type: 'UUID', nullable: true, description: 'The flow id that was asked for (null when the change named none).' }),
  }),
});
