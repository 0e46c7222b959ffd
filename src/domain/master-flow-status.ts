// The master flow lifecycle (docs/design.md): initialized → running, running ⇄ paused,
// running|paused → completed|failed, failed → running (retry).
export const MASTER_FLOW_STATUSES = ['initialized', 'running', 'paused', 'completed', 'failed'] as const;

export type MasterFlowStatus = (typeof MASTER_FLOW_STATUSES)[number];

const ALLOWED: Record<MasterFlowStatus, readonly MasterFlowStatus[]> = {
  initialized: ['running'],
  running: ['paused', 'completed', 'failed'],
  paused: ['running', 'completed', 'failed'],
  completed: [],
  failed: ['running'],
};

export function canTransition(from: MasterFlowStatus, to: MasterFlowStatus): boolean {
  return ALLOWED[from].includes(to);
}

export function isMasterFlowStatus(value: string): value is MasterFlowStatus {
  return (MASTER_FLOW_STATUSES as readonly string[]).includes(value);
}

/** A discovery flow mirrors its master flow's status under the platform's own names. */
export const DISCOVERY_STATUS_FOR: Record<MasterFlowStatus, DiscoveryFlowStatus> = {
  initialized: 'active',
  running: 'active',
  paused: 'paused',
  completed: 'completed',
  failed: 'failed',
};

export const DISCOVERY_FLOW_STATUSES = ['active', 'paused', 'completed', 'failed'] as const;

export type DiscoveryFlowStatus = (typeof DISCOVERY_FLOW_STATUSES)[number];
