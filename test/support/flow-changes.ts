// State changes of master flows, each with its event appended in the same transaction, like the lifecycle
// mutations (src/services/master-flow-lifecycle.ts) do, but straight through Prisma: the event tests need
// what the mutations cannot offer (a change that rolls back after appending, a hook before commit, changes
// made while no server runs), and the sequence number of each change. The multi-process test makes its
// changes through the real mutations.
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
  options: { rollBack?: boolean; beforeCommit?: () => Promise<void>; timeoutMs?: number } = {},
): Promise<Change> {
  const limits = options.timeoutMs ? { maxWait: options.timeoutMs, timeout: options.timeoutMs } : undefined;
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
        payload: { before: from, after: to, version: flow.version + 1 },
      },
    ]);
    await options.beforeCommit?.();
    if (options.rollBack) throw new RolledBack('rolled back on purpose');
    return { sequence: sequence!, from, to };
  }, limits);
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
