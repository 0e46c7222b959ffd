import { builder } from '../builder.ts';
import type { PhaseStatus } from '../domain/discovery-phases.ts';
import { DiscoveryPhaseEnum } from './discovery-phase.ts';

export const DiscoveryPhaseStatusRef = builder
  .objectRef<PhaseStatus>('DiscoveryPhaseStatus')
  .implement({
    description: 'Whether one phase of a discovery flow is complete, and since when.',
    fields: (t) => ({
      phase: t.field({ type: DiscoveryPhaseEnum, description: 'The phase.', resolve: (status) => status.phase }),
      completed: t.exposeBoolean('completed', { description: 'Whether the phase is complete.' }),
      completedAt: t.field({
        type: 'DateTime',
        nullable: true,
        description: 'When the phase was completed; null when it is not, or when the platform did not record it.',
        resolve: (status) => status.completedAt,
      }),
    }),
  });
