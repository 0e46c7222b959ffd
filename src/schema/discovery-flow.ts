import { builder } from '../builder.ts';
import { tenantWhere } from '../context.ts';
import { phaseStatuses, type DiscoveryPhase } from '../domain/discovery-phases.ts';
import type { DiscoveryFlowStatus } from '../domain/master-flow-status.ts';
import { DiscoveryFlowStatusEnum } from './discovery-flow-status.ts';
import { DiscoveryPhaseEnum } from './discovery-phase.ts';
import { DiscoveryPhaseStatusRef } from './discovery-phase-status.ts';
import { FlowNotFoundError, FlowNotRunningError, PhaseOutOfOrderError, StaleFlowError } from '../domain/flow-errors.ts';
import { completeDiscoveryPhase } from '../services/master-flow-lifecycle.ts';
import './flow-not-found-error.ts';
import './flow-not-running-error.ts';
import './phase-out-of-order-error.ts';
import './stale-flow-error.ts';

export const DiscoveryFlowRef = builder.prismaNode('DiscoveryFlow', {
  description: 'The child flow that walks an import\'s data through the five discovery phases.',
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id, ...tenantWhere(ctx) }),
  nullable: true,
  fields: (t) => ({
    flowId: t.expose('flowId', { type: 'UUID', description: 'Same uuid as its master flow\'s flow id.' }),
    userId: t.exposeString('userId', { description: 'User who started the flow.' }),
    flowName: t.exposeString('flowName', { nullable: true, description: 'Human-readable name.' }),
    status: t.field({
      type: DiscoveryFlowStatusEnum,
      description: 'State of the flow; mirrors its master flow.',
      resolve: (flow) => flow.status as DiscoveryFlowStatus,
    }),
    currentPhase: t.field({
      type: DiscoveryPhaseEnum,
      nullable: true,
      description: 'The phase to complete next; null once every phase is complete.',
      resolve: (flow) => flow.currentPhase as DiscoveryPhase | null,
    }),
    phases: t.field({
      type: [DiscoveryPhaseStatusRef],
      description: 'Every phase, in order, with its completion.',
      resolve: (flow) => phaseStatuses(flow),
    }),
    progressPercentage: t.exposeFloat('progressPercentage', { description: 'Share of the five phases completed, 0 to 100.' }),
    errorMessage: t.exposeString('errorMessage', { nullable: true, description: 'Why the flow failed, when it did.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the flow was created.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the flow last changed.' }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true, description: 'When the last phase was completed.' }),
    masterFlow: t.relation('masterFlow', { description: 'The master flow this discovery flow belongs to.' }),
    dataImport: t.relation('dataImport', { nullable: true, description: 'The import the flow was started for.' }),
  }),
});

builder.mutationField('completeDiscoveryPhase', (t) =>
  t.prismaField({
    type: 'DiscoveryFlow',
    authScopes: { operator: true },
    description:
      'Completes the current phase of a running master flow\'s discovery flow and recomputes its progress; completing asset_inventory completes the discovery flow and its master flow in the same transaction. Bumps the master flow\'s version.',
    args: {
      flowId: t.arg({ type: 'UUID', required: true, description: 'The master flow (its discovery flow has the same flow id).' }),
      phase: t.arg({ type: DiscoveryPhaseEnum, required: true, description: 'The phase to complete: it must be the current one.' }),
      version: t.arg.int({
        required: false,
        description: 'The master flow version the client last saw; when given, a StaleFlow error if it changed since.',
      }),
    },
    errors: {
      types: [FlowNotFoundError, PhaseOutOfOrderError, FlowNotRunningError, StaleFlowError],
      directResult: true,
      union: { name: 'CompleteDiscoveryPhaseResult', description: 'The discovery flow after the change, or why nothing changed.' },
    },
    resolve: async (query, _root, args, ctx) => {
      const id = await completeDiscoveryPhase(ctx.prisma, ctx.viewer, {
        flowId: args.flowId,
        phase: args.phase,
        expectedVersion: args.version ?? null,
      });
      return ctx.prisma.discoveryFlow.findFirstOrThrow({ ...query, where: { id, ...tenantWhere(ctx) } });
    },
  }),
);
