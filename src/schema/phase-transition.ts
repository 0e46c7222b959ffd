import { builder } from '../builder.ts';
import { mapStatus, STATUS_COLUMNS } from '../domain/legacy-values.ts';
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

const MASTER_STATUS_COLUMN = STATUS_COLUMNS.find((column) => column.table === 'crewai_flow_state_extensions')!;

/**
 * A status as flowgraph names it. Legacy histories use the old platform's names ('in_progress',
 * 'pending'); they are shown under the names the repair maps them to (src/domain/legacy-values.ts), and
 * the stored history is left as it is. A name no rule maps is not a status this API can show.
 */
function shownStatus(value: unknown): MasterFlowStatus | undefined {
  if (typeof value !== 'string') return undefined;
  const mapped = mapStatus(MASTER_STATUS_COLUMN, value);
  if (mapped === null) return value as MasterFlowStatus;
  return mapped === 'unmapped' ? undefined : (mapped.to as MasterFlowStatus);
}

/** Legacy rows may hold transitions in other shapes; only well-formed entries are exposed. */
export function parsePhaseTransitions(value: unknown): PhaseTransitionShape[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((entry: unknown) => {
    if (typeof entry !== 'object' || entry === null) return [];
    const { from, to, at, by } = entry as Record<string, unknown>;
    const shownTo = shownStatus(to);
    const shownFrom = from === null || from === undefined ? null : shownStatus(from);
    if (!shownTo || shownFrom === undefined || typeof at !== 'string') return [];
    return [{ from: shownFrom, to: shownTo, at, by: typeof by === 'string' ? by : 'unknown' }];
  });
}
