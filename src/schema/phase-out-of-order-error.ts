import { builder } from '../builder.ts';
import { PhaseOutOfOrderError } from '../domain/flow-errors.ts';
import { DiscoveryPhaseEnum } from './discovery-phase.ts';
import { ErrorInterface } from './error.ts';

export const PhaseOutOfOrderRef = builder.objectType(PhaseOutOfOrderError, {
  name: 'PhaseOutOfOrder',
  description: 'Only the current phase of a discovery flow can be completed.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    flowId: t.expose('flowId', { type: 'UUID', description: 'The master flow.' }),
    phase: t.field({ type: DiscoveryPhaseEnum, description: 'The phase that was asked to complete.', resolve: (error) => error.phase }),
    currentPhase: t.field({
      type: DiscoveryPhaseEnum,
      nullable: true,
      description: 'The phase that can be completed now; null when every phase is complete.',
      resolve: (error) => error.currentPhase,
    }),
  }),
});
