import { builder } from '../builder.ts';
import type { MasterFlowStatus } from '../domain/master-flow-status.ts';
import { MasterFlowStatusEnum } from './master-flow-status.ts';

/** One entry of crewai_flow_state_extensions.phase_transitions, as flowgraph writes it. */
export interface PhaseTransitionShape {
  from: MasterFlowStatus | null;
  to: MasterFlowStatus;
  at: string;
  by: string;
}

export const PhaseTransitionRef = builder.objectRef<PhaseTransitionShape>('PhaseTransition').implement({
  description: 'One status change of a master flow.',
  fields: (t) => ({
    from: t.field({
      type: MasterFlowStatusEnum,
      nullable: true,
      description: 'Status before the change; null for the flow\'s creation.',
      resolve: (transition) => transition.from,
    }),
    to: t.field({ type: MasterFlowStatusEnum, description: 'Status after the change.', resolve: (transition) => transition.to }),
    at: t.field({ type: 'DateTime', description: 'When the change happened.', resolve: (transition) => transition.at }),
    by: t.exposeString('by', { description: 'User who made the change.' }),
  }),
});

/** Legacy rows may hold transitions in other shapes; only well-formed entries are exposed. */
export function parsePhaseTransitions(value: unknown): PhaseTransitionShape[] {
  if (!Array.isArray(value)) return [];
  return value.filter(
    (entry): entry is PhaseTransitionShape =>
      typeof entry === 'object' && entry !== null && typeof entry.to === 'string' && typeof entry.at === 'string',
  ).map((entry) => ({ ...entry, by: typeof entry.by === 'string' ? entry.by : 'unknown', from: entry.from ?? null }));
}
