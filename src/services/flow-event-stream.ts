// The stream behind Subscription.flowEvents: the events after the client's cursor from the log, then
// live ones from this process's hub, with no gap and no duplicate at the seam.
//
// The seam: the replay reads the log up to the hub's position, and repeats until it has caught up with
// the hub; then, in the same tick as that check, it subscribes to the hub for everything after it. The
// hub fans out each batch synchronously, so nothing can slip between the last replayed event and the
// first live one.
//
// flowEvents is a hand-written async iterator rather than a Repeater or an async generator. A generator
// waiting for its next event cannot be returned early, so a client that unsubscribed would keep its hub
// subscription until an event happened to arrive for it; here return() ends a pending next() at once.
// And it is on the fan-out's hot path: a live event costs one promise (the one next() returns, resolved
// synchronously inside the hub's fan-out), where a Repeater with a Promise.race per event cost several,
// paid once per event and subscriber (bench/RESULTS.md, "Live flow events").
//
// Live events can also be pushed (pushLiveEventsTo): once the client has everything before them, each
// live event goes to a sink synchronously inside the hub's fan-out, and next() settles only with the
// stream's end. graphql-ws subscriptions take this way (src/graphql/shared-subscription-execution.ts):
// it costs no promise per event and subscriber at all.
import { Repeater } from '@repeaterjs/repeater';
import type { FlowEventCursors } from '../domain/flow-event-cursor.ts';
import type { FlowEventFilter, Tenant } from '../domain/flow-event-filter.ts';
import type { FlowEvent, PrismaClient } from '../generated/prisma/client.ts';
import { isResumable, readLogBounds, readTenantEvents } from './event-log.ts';
import { FlowEventCursorExpiredError, FlowEventsOverflowError } from './flow-event-errors.ts';
import { CLOSED, OVERFLOW, type FlowEventHub, type HubSubscription, type Take } from './flow-event-hub.ts';

export type FlowEventStreamItem = FlowEvent | FlowEventCursorExpiredError | FlowEventsOverflowError;

export interface FlowEventStreamOptions {
  prisma: PrismaClient;
  hub: FlowEventHub;
  /** Most live events queued for a subscriber that has not taken them. */
  bufferSize: number;
  /** Rows per replay query. */
  replayPageSize?: number;
  /** How positions are written as cursors in the errors that end a stream. */
  cursors: FlowEventCursors;
}

const DONE: IteratorReturnResult<undefined> = Object.freeze({ done: true, value: undefined });

/**
 * Takes one pushed event: true when done with it, or a promise settled when it is (the client is behind,
 * or the event's result is still being computed). Until then the stream queues the following events in
 * the subscription's bounded queue; a rejected promise or a throw ends the stream with that error.
 */
export type LiveEventSink = (event: FlowEvent) => true | Promise<unknown>;

/** A stream whose live events can be pushed to a sink instead of being taken one next() at a time. */
export interface PushableEventStream {
  /**
   * From the first next() called once the replayed events have all been handed out (the caller has taken
   * everything before the live ones), the live events go to `sink` instead, queued ones first, in order,
   * one at a time; that next() settles only with what ends the stream: an error item, or done. Call it
   * before the first next().
   */
  pushLiveEventsTo(sink: LiveEventSink): void;
}

export function isPushableEventStream(stream: object): stream is PushableEventStream {
  return typeof (stream as Partial<PushableEventStream>).pushLiveEventsTo === 'function';
}

class FlowEventIterator implements AsyncIterableIterator<FlowEventStreamItem>, PushableEventStream {
  /** The client has every matching event up to here (null: not known yet, the replay decides). */
  private position: bigint | null;
  /** Replayed rows not handed out yet. */
  private replayed: FlowEvent[] = [];
  private subscription: HubSubscription | undefined;
  /** An error item to hand out last, then done. */
  private last: FlowEventStreamItem | undefined;
  private finished = false;
  /** The caller of a next() that waits for the hub (at most one: callers take items one at a time). */
  private resolveWaiting: ((result: IteratorResult<FlowEventStreamItem, undefined>) => void) | undefined;
  private rejectWaiting: ((error: unknown) => void) | undefined;
  private readonly onTake = (take: Take) => {
    const resolve = this.resolveWaiting!;
    this.resolveWaiting = undefined;
    this.rejectWaiting = undefined;
    resolve(this.live(take));
  };
  /** Where live events are pushed (see PushableEventStream), once the replay has been handed out. */
  private sink: LiveEventSink | undefined;
  /** The sink has not finished with the last event pushed to it. */
  private sinkBusy = false;
  private readonly onPushedTake = (take: Take) => {
    this.push(take);
    this.pump();
  };
  private readonly onSinkDone = () => {
    this.sinkBusy = false;
    this.pump();
  };
  private readonly onSinkFailed = (error: unknown) => this.fail(error);

  constructor(
    private readonly options: FlowEventStreamOptions,
    private readonly tenant: Tenant,
    private readonly filter: FlowEventFilter,
    private readonly after: bigint | null,
  ) {
    // Without a cursor the stream starts where the hub is now (at subscribe time, not at the first next()).
    this.position = after === null ? options.hub.lastSequence : null;
    if (after === null) this.subscribe();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<FlowEventStreamItem, undefined>> {
    if (this.finished) return Promise.resolve(DONE);
    if (this.replayed.length > 0) return Promise.resolve({ done: false, value: this.replayed.shift()! });
    if (this.last) {
      const value = this.last;
      this.finish();
      return Promise.resolve({ done: false, value });
    }
    const subscription = this.subscription;
    if (!subscription) return this.replay().then(() => this.next());
    if (this.sink) {
      // Everything before has been handed out and taken: from here on live events are pushed, and this
      // next() settles with the end of the stream.
      return new Promise((resolve, reject) => {
        this.resolveWaiting = resolve;
        this.rejectWaiting = reject;
        this.pump();
      });
    }
    const now = subscription.poll();
    if (now !== undefined) return Promise.resolve(this.live(now));
    return new Promise((resolve) => {
      this.resolveWaiting = resolve;
      subscription.wait(this.onTake);
    });
  }

  pushLiveEventsTo(sink: LiveEventSink): void {
    this.sink = sink;
  }

  return(): Promise<IteratorResult<FlowEventStreamItem, undefined>> {
    this.finish();
    return Promise.resolve(DONE);
  }

  throw(error?: unknown): Promise<IteratorResult<FlowEventStreamItem, undefined>> {
    this.finish();
    return Promise.reject(error);
  }

  private live(take: Take): IteratorResult<FlowEventStreamItem, undefined> {
    if (take === CLOSED || this.finished) {
      this.finish();
      return DONE;
    }
    if (take === OVERFLOW) {
      this.finish();
      return { done: false, value: new FlowEventsOverflowError(this.options.cursors.encode(this.position!), this.options.bufferSize) };
    }
    this.position = take.sequence;
    return { done: false, value: take };
  }

  /** Pushes queued events while the sink takes them at once, then waits for the hub's next one. */
  private pump(): void {
    const subscription = this.subscription!;
    while (!this.sinkBusy && !this.finished && this.resolveWaiting) {
      const take = subscription.poll();
      if (take === undefined) {
        subscription.wait(this.onPushedTake);
        return;
      }
      this.push(take);
    }
  }

  private push(take: Take): void {
    if (this.finished) return;
    if (take === CLOSED || take === OVERFLOW) {
      this.onTake(take);
      return;
    }
    this.position = take.sequence;
    let outcome: true | Promise<unknown>;
    try {
      outcome = this.sink!(take);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (outcome !== true) {
      this.sinkBusy = true;
      outcome.then(this.onSinkDone, this.onSinkFailed);
    }
  }

  /** Ends the stream with an error: the pending next() rejects with it. */
  private fail(error: unknown): void {
    const reject = this.rejectWaiting;
    this.resolveWaiting = undefined;
    this.rejectWaiting = undefined;
    this.finish();
    reject?.(error);
  }

  private subscribe(): void {
    const { hub, bufferSize } = this.options;
    this.subscription = hub.subscribe(this.tenant, this.filter, { after: this.position!, capacity: bufferSize });
  }

  /** Reads the next page of the log after the cursor, or subscribes to the hub once caught up with it. */
  private async replay(): Promise<void> {
    const { prisma, hub } = this.options;
    const pageSize = this.options.replayPageSize ?? 200;
    if (this.position === null) {
      const bounds = await readLogBounds(prisma);
      if (!isResumable(this.after!, bounds)) {
        this.last = new FlowEventCursorExpiredError(this.options.cursors.encode(bounds.prunedThrough));
        return;
      }
      this.position = this.after!;
    }
    if (this.finished) return;
    const position = this.position;
    if (position >= hub.lastSequence) {
      // Caught up, in the same tick as the check: nothing the hub fans out from now on is missed.
      this.subscribe();
      return;
    }
    const target = hub.lastSequence;
    const rows = await readTenantEvents(prisma, this.tenant, this.filter, { after: position, upTo: target }, pageSize);
    // Pruning deletes and records its watermark in one transaction: read after the page, the
    // watermark tells whether rows of this page's range were already gone when it was read.
    const { prunedThrough } = await readLogBounds(prisma);
    if (prunedThrough > position) {
      this.last = new FlowEventCursorExpiredError(this.options.cursors.encode(prunedThrough));
      return;
    }
    this.replayed = rows;
    this.position = rows.length < pageSize ? target : rows[rows.length - 1]!.sequence;
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.replayed = [];
    this.last = undefined;
    this.subscription?.close();
    const resolve = this.resolveWaiting;
    this.resolveWaiting = undefined;
    this.rejectWaiting = undefined;
    resolve?.(DONE);
  }
}

export function flowEventStream(
  options: FlowEventStreamOptions,
  tenant: Tenant,
  filter: FlowEventFilter,
  after: bigint | null,
): AsyncIterableIterator<FlowEventStreamItem> {
  // Fail at subscribe time, not at the first event, when the process has no running hub.
  if (!options.hub.running) throw new Error('the flow event hub is not running');
  return new FlowEventIterator(options, tenant, filter, after);
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
      // One `stop` reaction for the whole stream (not one per change): stopping closes the subscription,
      // which ends a pending take() with CLOSED.
      void stop.then(() => subscription.close());
      for (;;) {
        const take = await subscription.take();
        if (take === CLOSED || take === OVERFLOW) return stop();
        await push(take);
        if (take.kind === 'master_flow_deleted') return stop();
      }
    } finally {
      subscription.close();
    }
  });
}
