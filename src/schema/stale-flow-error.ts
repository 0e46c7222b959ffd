import { builder } from '../builder.ts';
import { StaleFlowError } from '../domain/flow-errors.ts';
import { ErrorInterface } from './error.ts';

export const StaleFlowRef = builder.objectType(StaleFlowError, {
  name: 'StaleFlow',
  description: 'The master flow changed since the client read it: read it again (its version) and retry if the change still makes sense.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    flowId: t.expose('flowId', { type: 'UUID', description: 'The master flow.' }),
    expectedVersion: t.exposeInt('expectedVersion', { description: 'The version the client sent.' }),
    currentVersion: t.exposeInt('currentVersion', { description: 'The version the flow is at now.' }),
  }),
});
