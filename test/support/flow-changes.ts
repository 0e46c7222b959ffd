// State changes of master flows, each with its event appended in the same transaction: what the issue-3
// mutations (transitions, deleteMasterFlow) do, done straight through Prisma so that the event tests do not
// depend on them. Swap these for the mutations once they exist; the tests only need "change a flow, get
// its sequence".
import type { Viewer } from '../../src/context.ts';
import { canTransition, type MasterFlowStatus } from '../../src/domain/master-flow-status.ts';
import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import { appendFlowEvents } from '../../src/services/event-log.ts';

export class RolledBack extends Error {
  override name = 'RolledBack';
}

export interface Change {
  sequence: bigint;
  from: MasterFlowStatus;
  to: MasterFlowStatus;
}

/** The status a flow can move to next, alternating running ⇄ paused (initialized starts running). */
export function nextStatus(from: MasterFlowStatus): MasterFlowStatus {
  const to: MasterFlowStatus = from === 'running' ? 'paused' : 'running';
  if (!canTransition(from, to)) throw new Error(`test flows only alternate running and paused, not ${from}`);
  return to;
}

/**
 * Moves a master flow to its next status, bumps its version and appends a status_changed event, in one
 * transaction. With `rollBack`, the transaction fails after the event was appended.
 */
export async function changeFlowStatus(
  prisma: PrismaClient,
  viewer: Viewer,
  flowId: string,
  options: { rollBack?: boolean; beforeCommit?: () => Promise<void> } = {},
): Promise<Change> {
  return prisma.$transaction(async (tx) => {
    const flow = await tx.masterFlow.findFirstOrThrow({
      where: { flowId, clientAccountId: viewer.clientAccountId, engagementId: viewer.engagementId },
    });
    const from = flow.flowStatus as MasterFlowStatus;
    const to = nextStatus(from);
    const updated = await tx.masterFlow.updateMany({
      where: { id: flow.id, version: flow.version },
      data: {
        flowStatus: to,
        version: { increment: 1 },
        phaseTransitions: [
          ...(Array.isArray(flow.phaseTransitions) ? flow.phaseTransitions : []),
          { from, to, at: new Date().toISOString(), by: viewer.userId },
        ],
      },
    });
    if (updated.count !== 1) throw new Error('concurrent change');
    const [sequence] = await appendFlowEvents(tx, [
      {
        clientAccountId: flow.clientAccountId,
        engagementId: flow.engagementId,
        masterFlowId: flow.flowId,
        flowType: flow.flowType,
        kind: 'status_changed',
        actor: viewer.userId,
        payload: { from, to, version: flow.version + 1 },
      },
    ]);
    await options.beforeCommit?.();
    if (options.rollBack) throw new RolledBack('rolled back on purpose');
    return { sequence: sequence!, from, to };
  });
}

/** Deletes a master flow (its subtree goes by cascade) and appends master_flow_deleted, in one transaction. */
export async function deleteFlow(prisma: PrismaClient, viewer: Viewer, flowId: string): Promise<bigint> {
  return prisma.$transaction(async (tx) => {
    const flow = await tx.masterFlow.findFirstOrThrow({
      where: { flowId, clientAccountId: viewer.clientAccountId, engagementId: viewer.engagementId },
    });
    await tx.masterFlow.delete({ where: { id: flow.id } });
    const [sequence] = await appendFlowEvents(tx, [
      {
        clientAccountId: flow.clientAccountId,
        engagementId: flow.engagementId,
        masterFlowId: flow.flowId,
        flowType: flow.flowType,
        kind: 'master_flow_deleted',
        actor: viewer.userId,
        payload: { status: flow.flowStatus },
      },
    ]);
    return sequence!;
  });
}
