// Values in legacy rows that flowgraph's CHECK constraints do not allow, and the documented rules the repair
// maps them with. A value no rule covers is never dropped or guessed: the repair refuses and names it, and
// the operator decides with `--map-status table.column:from=to`.
import { DISCOVERY_PHASES, nextPhase, progressPercentage, type DiscoveryPhase, type PhaseFlags } from './discovery-phases.ts';
import { IMPORT_STATUSES } from './import-status.ts';
import { DISCOVERY_FLOW_STATUSES, MASTER_FLOW_STATUSES } from './master-flow-status.ts';

export interface StatusColumn {
  table: 'crewai_flow_state_extensions' | 'data_imports' | 'discovery_flows';
  column: 'flow_status' | 'status';
  allowed: readonly string[];
  /**
   * Spellings the old platform used for an allowed state. Only unambiguous ones: each names exactly the
   * state flowgraph has for it ('active' is how the platform says a flow is running, and so on).
   */
  synonyms: Record<string, string>;
}

export const STATUS_COLUMNS: readonly StatusColumn[] = [
  {
    table: 'crewai_flow_state_extensions',
    column: 'flow_status',
    allowed: MASTER_FLOW_STATUSES,
    synonyms: { active: 'running', in_progress: 'running', pending: 'initialized', error: 'failed' },
  },
  {
    table: 'data_imports',
    column: 'status',
    allowed: IMPORT_STATUSES,
    synonyms: { in_progress: 'processing', running: 'processing', error: 'failed' },
  },
  {
    table: 'discovery_flows',
    column: 'status',
    allowed: DISCOVERY_FLOW_STATUSES,
    synonyms: { running: 'active', in_progress: 'active', initialized: 'active', error: 'failed' },
  },
];

export type StatusMappingRule = 'letter_case' | 'synonym' | 'operator';

export interface StatusMapping {
  table: StatusColumn['table'];
  column: StatusColumn['column'];
  from: string;
  to: string;
  rule: StatusMappingRule;
  rows: number;
}

/** `table.column:from=to`, as given to `--map-status`. */
export interface OperatorMapping {
  table: string;
  column: string;
  from: string;
  to: string;
}

export class StatusMappingError extends Error {
  override name = 'StatusMappingError';
}

export function parseOperatorMapping(text: string): OperatorMapping {
  const match = /^(\w+)\.(\w+):(.*)=(.*)$/.exec(text);
  if (!match) {
    throw new StatusMappingError(`--map-status expects table.column:from=to (for example data_imports.status:validated=completed), got "${text}"`);
  }
  const [, table, column, from, to] = match as unknown as [string, string, string, string, string];
  const target = STATUS_COLUMNS.find((candidate) => candidate.table === table && candidate.column === column);
  if (!target) {
    const known = STATUS_COLUMNS.map((candidate) => `${candidate.table}.${candidate.column}`).join(', ');
    throw new StatusMappingError(`--map-status: ${table}.${column} is not a status column the repair maps (${known})`);
  }
  if (!target.allowed.includes(to)) {
    throw new StatusMappingError(`--map-status: "${to}" is not allowed in ${table}.${column} (allowed: ${target.allowed.join(', ')})`);
  }
  return { table, column, from, to };
}

/**
 * What a stored value becomes: null when it is already allowed, a mapping when a rule covers it, and
 * 'unmapped' when none does. Operator mappings win over the built-in rules.
 */
export function mapStatus(
  spec: StatusColumn,
  value: string,
  operator: readonly OperatorMapping[] = [],
): { to: string; rule: StatusMappingRule } | null | 'unmapped' {
  const chosen = operator.find((mapping) => mapping.table === spec.table && mapping.column === spec.column && mapping.from === value);
  if (chosen) return chosen.to === value ? null : { to: chosen.to, rule: 'operator' };
  if (spec.allowed.includes(value)) return null;
  const normalised = value.trim().toLowerCase().replace(/[\s-]+/g, '_');
  if (spec.allowed.includes(normalised)) return { to: normalised, rule: 'letter_case' };
  const synonym = spec.synonyms[normalised];
  if (synonym) return { to: synonym, rule: 'synonym' };
  return 'unmapped';
}

export interface PhaseFacts {
  id: string;
  currentPhase: string | null;
  progressPercentage: number;
  flags: PhaseFlags;
}

export interface PhaseFix {
  id: string;
  currentPhase: { from: string | null; to: DiscoveryPhase | null } | null;
  progressPercentage: { from: number; to: number } | null;
}

/**
 * A discovery flow's current phase and progress are derived from its five completion flags
 * (src/domain/discovery-phases.ts). Where the stored value is one the CHECK constraints refuse (a phase
 * name flowgraph does not have, a share outside 0..100), the derived value replaces it; valid values are
 * left exactly as they are, even when they disagree with the flags.
 */
export function phaseFix(flow: PhaseFacts): PhaseFix | null {
  const phaseValid = flow.currentPhase === null || (DISCOVERY_PHASES as readonly string[]).includes(flow.currentPhase);
  const progressValid = Number.isFinite(flow.progressPercentage) && flow.progressPercentage >= 0 && flow.progressPercentage <= 100;
  if (phaseValid && progressValid) return null;
  return {
    id: flow.id,
    currentPhase: phaseValid ? null : { from: flow.currentPhase, to: nextPhase(flow.flags) },
    progressPercentage: progressValid ? null : { from: flow.progressPercentage, to: progressPercentage(flow.flags) },
  };
}
