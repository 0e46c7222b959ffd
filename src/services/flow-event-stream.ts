// The stream behind Subscription.flowEvents: the events after the client's cursor from the log, then
// live ones from this process's hub, with no gap and no duplicate at the seam.
//
// The seam: the replay reads the log up to the hub's position, and repeats until it has caught up with
// the hub; then, in the same tick as that check, it subscribes to the hub for everything after it. The
// hub fans out each batch synchronously, so nothing can slip between the last replayed event and the
// first live one.
//
// Streams are Repeaters (the library Yoga's own pub/sub is built on) rather than async generators: a
// generator waiting for its next event cannot be returned early, so a client that unsubscribed would
// keep its hub subscription until an event happened to arrive for it.
import { Repeater } from '@repeaterjs/repeater';
import type { FlowEventFilter, Tenant } from '../domain/flow-event-filter.ts';
import type { FlowEvent, PrismaClient } from '../generated/prisma/client.ts';
import { isResumable, readLogBounds, readTenantEvents } from './event-log.ts';
import { FlowEventCursorExpiredError, FlowEventsOverflowError } from './flow-event-errors.ts';
import type { FlowEventHub, HubSubscription } from './flow-event-hub.ts';

export type FlowEventStreamItem = FlowEvent | FlowEventCursorExpiredError | FlowEventsOverflowError;

export interface FlowEventStreamOptions {
  prisma: PrismaClient;
  hub: FlowEventHub;
  /** Most live events queued for a subscriber that has not taken them. */
  bufferSize: number;
  /** Rows per replay query. */
  replayPageSize?: number;
}

export function flowEventStream(
  options: FlowEventStreamOptions,
  tenant: Tenant,
  filter: FlowEventFilter,
  after: bigint | null,
): Repeater<FlowEventStreamItem> {
  const { prisma, hub, bufferSize } = options;
  const pageSize = options.replayPageSize ?? 200;
  // Fail at subscribe time, not at the first event, when the process has no running hub.
  if (!hub.running) throw new Error('the flow event hub is not running');

  return new Repeater<FlowEventStreamItem>(async (push, stop) => {
    let stopped = false;
    void stop.then(() => (stopped = true));
    let subscription: HubSubscription | undefined;
    try {
      // `position`: the client has every matching event up to here.
      let position: bigint;
      if (after === null) {
        position = hub.lastSequence;
      } else {
        const bounds = await readLogBounds(prisma);
        if (!isResumable(after, bounds)) {
          await push(new FlowEventCursorExpiredError(bounds.prunedThrough));
          return stop();
        }
        position = after;
        while (!stopped && position < hub.lastSequence) {
          const target = hub.lastSequence;
          const rows = await readTenantEvents(prisma, tenant, filter, { after: position, upTo: target }, pageSize);
          // Pruning deletes and records its watermark in one transaction: read after the page, the
          // watermark tells whether rows of this page's range were already gone when it was read.
          const { prunedThrough } = await readLogBounds(prisma);
          if (prunedThrough > position) {
            await push(new FlowEventCursorExpiredError(prunedThrough));
            return stop();
          }
          for (const row of rows) {
            if (stopped) return;
            await push(row);
          }
          position = rows.length < pageSize ? target : rows[rows.length - 1]!.sequence;
        }
      }
      if (stopped) return;
      subscription = hub.subscribe(tenant, filter, { after: position, capacity: bufferSize });
      for (;;) {
        const take = await Promise.race([subscription.take(), stop.then(() => ({ type: 'closed' }) as const)]);
        if (take.type === 'closed') return stop();
        if (take.type === 'overflow') {
          await push(new FlowEventsOverflowError(position, bufferSize));
          return stop();
        }
        await push(take.event);
        position = take.event.sequence;
      }
    } finally {
      subscription?.close();
    }
  });
}

/**
 * The stream behind Subscription.masterFlowChanged: a tick now, then one after each change of the flow,
 * a last one after its deletion. Only the newest change is kept while the client is busy: it re-reads the
 * flow anyway, so changes that arrive meanwhile fold into one tick and the queue never grows. A flow that
 * does not exist in the tenant (missing, or another tenant's) gives one tick (the resolver reads null) and
 * ends.
 */
export function masterFlowChangeStream(
  prisma: PrismaClient,
  hub: FlowEventHub,
  tenant: Tenant,
  flowId: string,
): Repeater<FlowEvent | null> {
  if (!hub.running) throw new Error('the flow event hub is not running');
  return new Repeater<FlowEvent | null>(async (push, stop) => {
    // Subscribe before looking the flow up, so that a change in between is not missed.
    const subscription = hub.subscribe(tenant, { masterFlowId: flowId }, { after: hub.lastSequence, capacity: 1, latestOnly: true });
    try {
      const where = { flowId, clientAccountId: tenant.clientAccountId, engagementId: tenant.engagementId };
      const exists = (await prisma.masterFlow.count({ where })) > 0;
      await push(null);
      if (!exists) return stop();
      for (;;) {
        const take = await Promise.race([subscription.take(), stop.then(() => ({ type: 'closed' }) as const)]);
        if (take.type !== 'event') return stop();
        await push(take.event);
        if (take.event.kind === 'master_flow_deleted') return stop();
      }
    } finally {
      subscription.close();
    }
  });
}
