// Changes to an existing master flow: status transitions, discovery phase completion, deletion. Each one
// locks the master flow row (SELECT … FOR UPDATE) inside its transaction, so concurrent changes to one flow
// run one after the other and the second sees the first's version (a StaleFlow error, never a lost update);
// the discovery flow changes in the same transaction, so the two never disagree (docs/design.md).
//
// The events of each change and the version bump are the database's work: the triggers of the flow tables
// append status_changed, phase_completed and master_flow_deleted and bump `version` once per transaction,
// for flowgraph and for every other writer alike (migration 20261202000000_flow_event_triggers).
import type { Viewer } from '../context.ts';
import {
  PHASE_COMPLETED_FIELD,
  nextPhase,
  progressPercentage,
  type DiscoveryPhase,
  type PhaseFlags,
  type PhaseState,
} from '../domain/discovery-phases.ts';
import {
  FlowNotFoundError,
  FlowNotRunningError,
  InvalidTransitionError,
  PhaseOutOfOrderError,
  StaleFlowError,
} from '../domain/flow-errors.ts';
import { canTransition, DISCOVERY_STATUS_FOR, type MasterFlowStatus } from '../domain/master-flow-status.ts';
import type { Prisma, PrismaClient } from '../generated/prisma/client.ts';
import { runWrite } from './write-transaction.ts';

/** The lifecycle verbs, each with the one status it moves to and the statuses it moves from. */
export const TRANSITION_VERBS = {
  start: { to: 'running', from: ['initialized'] },
  pause: { to: 'paused', from: ['running'] },
  resume: { to: 'running', from: ['paused'] },
  complete: { to: 'completed', from: ['running', 'paused'] },
  fail: { to: 'failed', from: ['running', 'paused'] },
  retry: { to: 'running', from: ['failed'] },
} as const satisfies Record<string, { to: MasterFlowStatus; from: readonly MasterFlowStatus[] }>;

export type TransitionVerb = keyof typeof TRANSITION_VERBS;

interface LockedFlow {
  flow_id: string;
  flow_type: string;
  flow_status: MasterFlowStatus;
  version: number;
  phase_transitions: unknown;
  error_history: unknown;
}

/** The viewer's master flow, locked until the transaction ends; a foreign or missing one is "not found". */
async function lockMasterFlow(tx: Prisma.TransactionClient, viewer: Viewer, flowId: string): Promise<LockedFlow> {
  const [flow] = await tx.$queryRaw<LockedFlow[]>`
    SELECT flow_id, flow_type, flow_status, version, phase_transitions, error_history
      FROM crewai_flow_state_extensions
     WHERE flow_id = ${flowId}::uuid
       AND client_account_id = ${viewer.clientAccountId}::uuid
       AND engagement_id = ${viewer.engagementId}::uuid
       FOR UPDATE`;
  if (!flow) throw new FlowNotFoundError(flowId);
  return flow;
}

function asArray(value: unknown): Prisma.InputJsonValue[] {
  return Array.isArray(value) ? (value as Prisma.InputJsonValue[]) : [];
}

export interface TransitionRequest {
  flowId: string;
  verb: TransitionVerb;
  /** The version the client last saw. */
  expectedVersion: number;
  /** Why the flow failed (fail only). */
  reason?: string | null;
}

export async function transitionMasterFlow(prisma: PrismaClient, viewer: Viewer, request: TransitionRequest): Promise<void> {
  const { to, from: allowedFrom } = TRANSITION_VERBS[request.verb];
  await runWrite(
    prisma,
    async (tx) => {
      const flow = await lockMasterFlow(tx, viewer, request.flowId);
      if (flow.version !== request.expectedVersion) {
        throw new StaleFlowError(request.flowId, request.expectedVersion, flow.version);
      }
      const from = flow.flow_status;
      if (!(allowedFrom as readonly MasterFlowStatus[]).includes(from) || !canTransition(from, to)) {
        throw new InvalidTransitionError(request.flowId, from, to, request.verb, allowedFrom);
      }
      const at = new Date();
      await tx.masterFlow.update({
        where: { flowId: request.flowId },
        data: {
          flowStatus: to,
          phaseTransitions: [...asArray(flow.phase_transitions), { from, to, at: at.toISOString(), by: viewer.userId }],
          ...(from === 'failed' ? { retryCount: { increment: 1 } } : {}),
          ...(to === 'failed'
            ? {
                errorHistory: [
                  ...asArray(flow.error_history),
                  { at: at.toISOString(), by: viewer.userId, reason: request.reason ?? null },
                ],
              }
            : {}),
        },
      });
      await tx.discoveryFlow.updateMany({
        where: { masterFlowId: request.flowId },
        data: {
          status: DISCOVERY_STATUS_FOR[to],
          ...(to === 'failed' ? { errorMessage: request.reason ?? null } : from === 'failed' ? { errorMessage: null } : {}),
        },
      });
    },
    { flowId: request.flowId, actor: viewer.userId },
  );
}

export interface CompletePhaseRequest {
  flowId: string;
  phase: DiscoveryPhase;
  /** When given, the change fails with StaleFlow unless the master flow is still at this version. */
  expectedVersion?: number | null;
}

/** Completes the current phase of a running flow's discovery flow; returns the discovery flow's id. */
export async function completeDiscoveryPhase(prisma: PrismaClient, viewer: Viewer, request: CompletePhaseRequest): Promise<string> {
  return runWrite(
    prisma,
    async (tx) => {
      const flow = await lockMasterFlow(tx, viewer, request.flowId);
      if (request.expectedVersion != null && flow.version !== request.expectedVersion) {
        throw new StaleFlowError(request.flowId, request.expectedVersion, flow.version);
      }
      if (flow.flow_status !== 'running') throw new FlowNotRunningError(request.flowId, flow.flow_status);
      const discovery = await tx.discoveryFlow.findFirst({
        where: { flowId: request.flowId, masterFlowId: request.flowId },
      });
      if (!discovery) throw new FlowNotFoundError(request.flowId, 'discovery flow for master flow');

      const flags = Object.fromEntries(
        Object.values(PHASE_COMPLETED_FIELD).map((field) => [field, discovery[field]]),
      ) as PhaseFlags;
      const current = nextPhase(flags);
      if (current !== request.phase) throw new PhaseOutOfOrderError(request.flowId, request.phase, current);

      const at = new Date();
      const done = { ...flags, [PHASE_COMPLETED_FIELD[request.phase]]: true } as PhaseFlags;
      const following = nextPhase(done);
      const progress = progressPercentage(done);
      const finished = following === null;
      const phaseState = { ...((discovery.phaseState ?? {}) as PhaseState), [request.phase]: { completedAt: at.toISOString() } };

      await tx.discoveryFlow.update({
        where: { id: discovery.id },
        data: {
          [PHASE_COMPLETED_FIELD[request.phase]]: true,
          currentPhase: following,
          progressPercentage: progress,
          phaseState,
          ...(finished ? { status: DISCOVERY_STATUS_FOR.completed, completedAt: at } : {}),
        },
      });
      // The master flow moves with its discovery flow: the update above gave it a new version (a trigger),
      // and completion of the last phase completes the master flow too.
      if (finished) {
        await tx.masterFlow.update({
          where: { flowId: request.flowId },
          data: {
            flowStatus: 'completed',
            phaseTransitions: [
              ...asArray(flow.phase_transitions),
              { from: flow.flow_status, to: 'completed', at: at.toISOString(), by: viewer.userId },
            ],
          },
        });
      }
      return discovery.id;
    },
    { flowId: request.flowId, actor: viewer.userId },
  );
}

export interface DeletionCounts {
  dataImportsDeleted: number;
  rawRecordsDeleted: number;
  discoveryFlowsDeleted: number;
}

/** Deletes a master flow and, by cascade, its subtree; writes the audit row; returns the audit row's id. */
export async function deleteMasterFlow(prisma: PrismaClient, viewer: Viewer, flowId: string): Promise<string> {
  return runWrite(
    prisma,
    async (tx) => {
      const flow = await lockMasterFlow(tx, viewer, flowId);
      // Exact: children are inserted under a key-share lock on the master row, which the lock above excludes.
      const [counts] = await tx.$queryRaw<{ data_imports: number; raw_records: number; discovery_flows: number }[]>`
        SELECT (SELECT count(*)::int FROM data_imports WHERE master_flow_id = ${flowId}::uuid) AS data_imports,
               (SELECT count(*)::int FROM raw_import_records WHERE master_flow_id = ${flowId}::uuid) AS raw_records,
               (SELECT count(*)::int FROM discovery_flows WHERE master_flow_id = ${flowId}::uuid) AS discovery_flows`;
      // The deletion's event (with the counts of what went with it) is the trigger's work.
      await tx.masterFlow.delete({ where: { flowId } });
      const deletion = await tx.masterFlowDeletion.create({
        data: {
          flowId,
          clientAccountId: viewer.clientAccountId,
          engagementId: viewer.engagementId,
          deletedBy: viewer.userId,
          dataImportsDeleted: counts!.data_imports,
          rawRecordsDeleted: counts!.raw_records,
          discoveryFlowsDeleted: counts!.discovery_flows,
        },
      });
      return deletion.id;
    },
    { flowId, actor: viewer.userId },
  );
}
