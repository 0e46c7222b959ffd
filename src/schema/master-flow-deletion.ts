import { builder } from '../builder.ts';
import { FlowNotFoundError } from '../domain/flow-errors.ts';
import { deleteMasterFlow } from '../services/master-flow-lifecycle.ts';
import './flow-not-found-error.ts';

export const MasterFlowDeletionRef = builder.prismaObject('MasterFlowDeletion', {
  description: 'The audit record of a deleted master flow: who deleted it, when, and how many rows went with it.',
  fields: (t) => ({
    flowId: t.expose('flowId', { type: 'UUID', description: 'The deleted master flow.' }),
    deletedBy: t.exposeString('deletedBy', { description: 'User who deleted it.' }),
    deletedAt: t.expose('deletedAt', { type: 'DateTime', description: 'When it was deleted.' }),
    masterFlowsDeleted: t.int({ description: 'Master flows deleted (always 1).', resolve: () => 1 }),
    dataImportsDeleted: t.exposeInt('dataImportsDeleted', { description: 'Data imports deleted with it.' }),
    rawRecordsDeleted: t.exposeInt('rawRecordsDeleted', { description: 'Raw import records deleted with it.' }),
    discoveryFlowsDeleted: t.exposeInt('discoveryFlowsDeleted', { description: 'Discovery flows deleted with it.' }),
  }),
});

builder.mutationField('deleteMasterFlow', (t) =>
  t.prismaField({
    type: 'MasterFlowDeletion',
    authScopes: { admin: true },
    description:
      'Deletes a master flow and, by cascade, its data imports, raw import records and discovery flows, in one transaction; records who did it and how many rows of each table went. Other flows and tenants are untouched.',
    args: { flowId: t.arg({ type: 'UUID', required: true, description: 'The master flow to delete.' }) },
    errors: {
      types: [FlowNotFoundError],
      directResult: true,
      union: { name: 'DeleteMasterFlowResult', description: 'The deletion record, or why nothing was deleted.' },
    },
    resolve: async (query, _root, args, ctx) => {
      const id = await deleteMasterFlow(ctx.prisma, ctx.viewer, args.flowId);
      return ctx.prisma.masterFlowDeletion.findUniqueOrThrow({ ...query, where: { id } });
    },
  }),
);
