// The five discovery phases, in the order a discovery flow walks them, and the legacy boolean column
// that records each one's completion.
export const DISCOVERY_PHASES = [
  'data_import',
  'data_validation',
  'field_mapping',
  'data_cleansing',
  'asset_inventory',
] as const;

export type DiscoveryPhase = (typeof DISCOVERY_PHASES)[number];

export const PHASE_COMPLETED_FIELD = {
  data_import: 'dataImportCompleted',
  data_validation: 'dataValidationCompleted',
  field_mapping: 'fieldMappingCompleted',
  data_cleansing: 'dataCleansingCompleted',
  asset_inventory: 'assetInventoryCompleted',
} as const satisfies Record<DiscoveryPhase, string>;

export type PhaseCompletedField = (typeof PHASE_COMPLETED_FIELD)[DiscoveryPhase];

export type PhaseFlags = Record<PhaseCompletedField, boolean>;

/** Share of completed phases, 0 to 100. */
export function progressPercentage(flags: PhaseFlags): number {
  const done = DISCOVERY_PHASES.filter((phase) => flags[PHASE_COMPLETED_FIELD[phase]]).length;
  return (done / DISCOVERY_PHASES.length) * 100;
}

/** The first phase not yet completed, or null when every phase is. */
export function nextPhase(flags: PhaseFlags): DiscoveryPhase | null {
  return DISCOVERY_PHASES.find((phase) => !flags[PHASE_COMPLETED_FIELD[phase]]) ?? null;
}

export function isDiscoveryPhase(value: string): value is DiscoveryPhase {
  return (DISCOVERY_PHASES as readonly string[]).includes(value);
}

/** Where phase_state keeps a phase's completion time. */
export interface PhaseState {
  [phase: string]: { completedAt?: string } | undefined;
}

/** One phase of a discovery flow, as DiscoveryFlow.phases lists it. */
export interface PhaseStatus {
  phase: DiscoveryPhase;
  completed: boolean;
  /** From phase_state; null when the phase is not complete or the platform did not record the time. */
  completedAt: string | null;
}

/** Every phase in order, from a discovery flow's completion flags and its phase_state. */
export function phaseStatuses(flow: PhaseFlags & { phaseState: unknown }): PhaseStatus[] {
  const state = (flow.phaseState ?? {}) as PhaseState;
  return DISCOVERY_PHASES.map((phase) => ({
    phase,
    completed: flow[PHASE_COMPLETED_FIELD[phase]],
    completedAt: (flow[PHASE_COMPLETED_FIELD[phase]] && state[phase]?.completedAt) || null,
  }));
}
