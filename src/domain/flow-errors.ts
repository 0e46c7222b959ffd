// What can go wrong with a change to a master flow that the client can act on. The schema exposes each
// class as a typed GraphQL error; the lifecycle service throws them and its transaction rolls back.
import type { DiscoveryPhase } from './discovery-phases.ts';
import type { MasterFlowStatus } from './master-flow-status.ts';

/** No such flow in the caller's tenant. A flow of another tenant is reported exactly like a missing one. */
export class FlowNotFoundError extends Error {
  override name = 'FlowNotFoundError';
  constructor(
    readonly flowId: string | null,
    what = 'master flow',
  ) {
    super(flowId ? `There is no ${what} ${flowId}.` : `The ${what} this change refers to no longer exists.`);
  }
}

/** The move is not in the master flow transition table, or not what the verb asked for does. */
export class InvalidTransitionError extends Error {
  override name = 'InvalidTransitionError';
  constructor(
    readonly flowId: string,
    readonly from: MasterFlowStatus,
    readonly to: MasterFlowStatus,
    verb?: string,
    allowedFrom?: readonly MasterFlowStatus[],
  ) {
    super(
      verb && allowedFrom
        ? `Cannot ${verb} a master flow that is ${from}: ${verb} moves a flow from ${allowedFrom.join(' or ')} to ${to}.`
        : `A master flow cannot go from ${from} to ${to}.`,
    );
  }
}

/** The flow changed since the client read it (optimistic concurrency). */
export class StaleFlowError extends Error {
  override name = 'StaleFlowError';
  constructor(
    readonly flowId: string,
    readonly expectedVersion: number,
    readonly currentVersion: number,
  ) {
    super(
      `Master flow ${flowId} is at version ${currentVersion}, not ${expectedVersion}: it changed since you read it. Read it again and retry.`,
    );
  }
}

/** Only the current phase of a discovery flow can be completed. */
export class PhaseOutOfOrderError extends Error {
  override name = 'PhaseOutOfOrderError';
  constructor(
    readonly flowId: string,
    readonly phase: DiscoveryPhase,
    readonly currentPhase: DiscoveryPhase | null,
  ) {
    super(
      currentPhase
        ? `Cannot complete ${phase}: the current phase is ${currentPhase}.`
        : `Cannot complete ${phase}: every phase is already complete.`,
    );
  }
}

/** Phases only move while the master flow is running. */
export class FlowNotRunningError extends Error {
  override name = 'FlowNotRunningError';
  constructor(
    readonly flowId: string,
    readonly flowStatus: MasterFlowStatus,
  ) {
    super(`Master flow ${flowId} is ${flowStatus}; phases can only be completed while it is running.`);
  }
}
