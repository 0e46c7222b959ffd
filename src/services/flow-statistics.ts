// How many of a tenant's flows are in each state: master flows by status, discovery flows by current phase.
// Two GROUP BY counts over the tenant's flows (never their records). Every status and phase is listed,
// with zeros, in lifecycle order, so a chart keeps its bars in place as counts move; the CHECK constraints
// allow no other values.
import type { Viewer } from '../context.ts';
import { DISCOVERY_PHASES, type DiscoveryPhase } from '../domain/discovery-phases.ts';
import { MASTER_FLOW_STATUSES, type MasterFlowStatus } from '../domain/master-flow-status.ts';
import type { PrismaClient } from '../generated/prisma/client.ts';

export interface FlowStatistics {
  masterFlows: number;
  byStatus: { status: MasterFlowStatus; count: number }[];
  discoveryFlows: number;
  /** Discovery flows by the phase they are in; completed ones (every phase done) are `completedDiscoveryFlows`. */
  byPhase: { phase: DiscoveryPhase; count: number }[];
  completedDiscoveryFlows: number;
}

export async function flowStatistics(prisma: PrismaClient, viewer: Pick<Viewer, 'clientAccountId' | 'engagementId'>): Promise<FlowStatistics> {
  const tenant = { clientAccountId: viewer.clientAccountId, engagementId: viewer.engagementId };
  const [statuses, phases] = await Promise.all([
    prisma.masterFlow.groupBy({ by: ['flowStatus'], where: tenant, _count: { _all: true } }),
    prisma.discoveryFlow.groupBy({ by: ['currentPhase'], where: tenant, _count: { _all: true } }),
  ]);
  const statusCount = new Map(statuses.map((group) => [group.flowStatus, group._count._all]));
  const phaseCount = new Map(phases.map((group) => [group.currentPhase, group._count._all]));
  return {
    masterFlows: statuses.reduce((sum, group) => sum + group._count._all, 0),
    byStatus: MASTER_FLOW_STATUSES.map((status) => ({ status, count: statusCount.get(status) ?? 0 })),
    discoveryFlows: phases.reduce((sum, group) => sum + group._count._all, 0),
    byPhase: DISCOVERY_PHASES.map((phase) => ({ phase, count: phaseCount.get(phase) ?? 0 })),
    completedDiscoveryFlows: phaseCount.get(null) ?? 0,
  };
}
