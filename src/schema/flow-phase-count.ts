import { builder } from '../builder.ts';
import type { DiscoveryPhase } from '../domain/discovery-phases.ts';
import { DiscoveryPhaseEnum } from './discovery-phase.ts';

export const FlowPhaseCountRef = builder.objectRef<{ phase: DiscoveryPhase; count: number }>('FlowPhaseCount').implement({
  description: 'How many of the tenant\'s discovery flows are at one phase (the first they have not completed).',
  fields: (t) => ({
    phase: t.field({ type: DiscoveryPhaseEnum, description: 'The phase.', resolve: (entry) => entry.phase }),
    count: t.field({ type: 'SafeInt', description: 'Discovery flows at it.', resolve: (entry) => entry.count }),
  }),
});
