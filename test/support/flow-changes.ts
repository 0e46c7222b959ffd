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

/**
 * The change of changeFlowStatus (status running ⇄ paused, version + 1, a phase transition, a
 * status_changed event numbered from the counter row) as one statement in its own transaction, for the
 * fan-out benchmark's writer (bench/flow-events-fanout.ts). The event is appended the same way (the counter
 * row's lock orders writers; flow_events' trigger notifies at commit), for a fifth of the CPU of Prisma's
 * interactive transaction (1.2 against 6.2 ms per change), which on a 2-core machine would be taken from
 * the server and the subscribers (bench/RESULTS.md). Parameters: flow id, client account id, engagement
 * id, user id; returns the event's sequence as text. test/event-log.test.ts requires the same rows as
 * changeFlowStatus.
 */
export const CHANGE_STATUS_SQL = `WITH counter AS (
  UPDATE flow_event_sequence SET last_sequence = last_sequence + 1 WHERE id = 1 RETURNING last_sequence
), flow AS (
  UPDATE crewai_flow_state_extensions
  SET flow_status = CASE flow_status WHEN 'running' THEN 'paused' ELSE 'running' END,
      version = version + 1,
      updated_at = now(),
      phase_transitions = phase_transitions || jsonb_build_array(jsonb_build_object(
        'from', flow_status, 'to', CASE flow_status WHEN 'running' THEN 'paused' ELSE 'running' END,
        'at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'by', $4::text))
  WHERE flow_id = $1::uuid AND client_account_id = $2::uuid AND engagement_id = $3::uuid
  RETURNING flow_id, flow_type, client_account_id, engagement_id, flow_status, version
)
INSERT INTO flow_events (sequence, client_account_id, engagement_id, master_flow_id, flow_type, kind, actor, payload)
SELECT counter.last_sequence, flow.client_account_id, flow.engagement_id, flow.flow_id, flow.flow_type, 'status_changed', $4::text,
  jsonb_build_object('before', CASE flow.flow_status WHEN 'running' THEN 'paused' ELSE 'running' END,
                     'after', flow.flow_status, 'version', flow.version)
FROM counter, flow
RETURNING sequence::text`;
