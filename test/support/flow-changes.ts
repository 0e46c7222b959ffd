// State changes of master flows straight through Prisma, as any writer of the flow tables would make them: the
// database's triggers append their events (migration 20261202000000_flow_event_triggers), numbered when the
// transaction commits. The event tests need what the mutations cannot offer (a change that rolls back, a hook
// before commit, changes made while no server runs), and the sequence number of each change. The
// multi-process tests make their changes through the real mutations and through plain SQL.
import type { Viewer } from '../../src/context.ts';
import { canTransition, type MasterFlowStatus } from '../../src/domain/master-flow-status.ts';
import type { Prisma, PrismaClient } from '../../src/generated/prisma/client.ts';
import { nameActor } from '../../src/services/write-transaction.ts';

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
 * Numbers this transaction's staged events now instead of at commit, and returns the last of them: from here
 * to the commit the transaction holds the counter row's lock, as every writer does while it commits.
 */
export async function numberEventsNow(tx: Prisma.TransactionClient): Promise<bigint> {
  await tx.$executeRawUnsafe('SET CONSTRAINTS flow_event_commits_number_events IMMEDIATE');
  const [row] = await tx.$queryRaw<{ last: string }[]>`SELECT last_sequence::text AS last FROM flow_event_sequence WHERE id = 1`;
  return BigInt(row!.last);
}

/** The newest event of a master flow (after its change committed). */
async function newestEvent(prisma: PrismaClient, flowId: string): Promise<bigint> {
  const event = await prisma.flowEvent.findFirstOrThrow({ where: { masterFlowId: flowId }, orderBy: { sequence: 'desc' } });
  return event.sequence;
}

/**
 * Moves a master flow to its next status and records the transition, in one transaction; the triggers bump its
 * version and append its status_changed event. With `rollBack`, the transaction fails after the change. With
 * `numberNow`, the event is numbered before `beforeCommit` runs, so the transaction holds the counter row from
 * there to its commit.
 */
export async function changeFlowStatus(
  prisma: PrismaClient,
  viewer: Viewer,
  flowId: string,
  options: { rollBack?: boolean; beforeCommit?: () => Promise<void>; numberNow?: boolean; timeoutMs?: number } = {},
): Promise<Change> {
  const limits = options.timeoutMs ? { maxWait: options.timeoutMs, timeout: options.timeoutMs } : undefined;
  const change = await prisma.$transaction(async (tx) => {
    await nameActor(tx, viewer.userId);
    const flow = await tx.masterFlow.findFirstOrThrow({
      where: { flowId, clientAccountId: viewer.clientAccountId, engagementId: viewer.engagementId },
    });
    const from = flow.flowStatus as MasterFlowStatus;
    const to = nextStatus(from);
    const updated = await tx.masterFlow.updateMany({
      where: { id: flow.id, version: flow.version },
      data: {
        flowStatus: to,
        phaseTransitions: [
          ...(Array.isArray(flow.phaseTransitions) ? flow.phaseTransitions : []),
          { from, to, at: new Date().toISOString(), by: viewer.userId },
        ],
      },
    });
    if (updated.count !== 1) throw new Error('concurrent change');
    const numbered = options.numberNow ? await numberEventsNow(tx) : undefined;
    await options.beforeCommit?.();
    if (options.rollBack) throw new RolledBack('rolled back on purpose');
    return { sequence: numbered, from, to };
  }, limits);
  return { ...change, sequence: change.sequence ?? (await newestEvent(prisma, flowId)) };
}

/** Deletes a master flow (its subtree goes by cascade); the trigger appends master_flow_deleted. */
export async function deleteFlow(prisma: PrismaClient, viewer: Viewer, flowId: string): Promise<bigint> {
  await prisma.$transaction(async (tx) => {
    await nameActor(tx, viewer.userId);
    const flow = await tx.masterFlow.findFirstOrThrow({
      where: { flowId, clientAccountId: viewer.clientAccountId, engagementId: viewer.engagementId },
    });
    await tx.masterFlow.delete({ where: { id: flow.id } });
  });
  return newestEvent(prisma, flowId);
}

/**
 * The change of changeFlowStatus (status running ⇄ paused, a phase transition; the triggers bump the version
 * and append status_changed) as one round trip, for the fan-out benchmark's writer (bench/flow-events-fanout.ts):
 * for a fifth of the CPU of Prisma's interactive transaction (1.2 against 6.2 ms per change), which on a 2-core
 * machine would be taken from the server and the subscribers (bench/RESULTS.md). It is a plain SQL writer, like
 * the platform's workers: with `actor` it names itself in flowgraph.actor, without it the event records its
 * application_name and role. The event is numbered before the commit (SET CONSTRAINTS … IMMEDIATE) so the
 * benchmark learns its sequence in the same round trip; the counter row is then held for the rest of that round
 * trip only. test/event-log.test.ts requires the same rows as changeFlowStatus.
 */
export function changeStatusSql(flow: { flowId: string; clientAccountId: string; engagementId: string }, by: string, actor?: string): string {
  const literal = (value: string) => `'${value.replaceAll("'", "''")}'`;
  for (const id of [flow.flowId, flow.clientAccountId, flow.engagementId]) {
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new Error(`not a uuid: ${id}`);
  }
  return `BEGIN;
SET CONSTRAINTS flow_event_commits_number_events IMMEDIATE;
${actor === undefined ? '' : `SELECT set_config('flowgraph.actor', ${literal(actor)}, true);`}
UPDATE crewai_flow_state_extensions
  SET flow_status = CASE flow_status WHEN 'running' THEN 'paused' ELSE 'running' END,
      updated_at = now(),
      phase_transitions = phase_transitions || jsonb_build_array(jsonb_build_object(
        'from', flow_status, 'to', CASE flow_status WHEN 'running' THEN 'paused' ELSE 'running' END,
        'at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'by', ${literal(by)}::text))
  WHERE flow_id = '${flow.flowId}' AND client_account_id = '${flow.clientAccountId}' AND engagement_id = '${flow.engagementId}';
SELECT last_sequence::text AS sequence FROM flow_event_sequence WHERE id = 1;
COMMIT;`;
}
