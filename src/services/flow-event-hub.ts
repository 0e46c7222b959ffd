// The fan-out of one flowgraph process. On every wake-up it reads the new rows of the event log once,
// in sequence order, for all its subscribers (one query per batch, never one per subscriber or per
// event), and hands each row to the subscribers of its tenant whose filter it matches. Every process
// runs one hub, so a change committed through any instance reaches the subscribers of all of them.
//
// Each subscription has a bounded queue: a client that reads slower than events arrive cannot grow the
// server's memory. When the queue is full the subscription is dropped (its queue freed) and told so, and
// the stream ends with the position the client has everything up to, to resume from.
import { countStatements, type StatementTally } from '../db/statement-counter.ts';
import { workSpan } from '../observability/tracing-hooks.ts';
import type { Database } from '../db/database.ts';
import { openWakeUpChannel, type WakeUpChannel, type WakeUpOptions } from '../db/wake-up-channel.ts';
import { matchesFlowEventFilter, tenantKey, type FlowEventFilter, type Tenant } from '../domain/flow-event-filter.ts';
import type { FlowEvent } from '../generated/prisma/client.ts';
import { readEventsAfter, readLogBounds } from './event-log.ts';

/** Why a subscription has no more events: it fell too far behind, or it was closed. */
export const OVERFLOW: unique symbol = Symbol('overflow');
export const CLOSED: unique symbol = Symbol('closed');
/** The next event of a subscription, or why there will be none. */
export type Take = FlowEvent | typeof OVERFLOW | typeof CLOSED;

export interface HubSubscription {
  /**
   * The next event if one is queued, or why there will be none; undefined when the caller must wait.
   * Synchronous so that a stream's next() costs one promise per event, not a chain of them (at fan-out
   * every promise is paid once per event and subscriber; bench/RESULTS.md).
   */
  poll(): Take | undefined;
  /** Calls `waiter` once, synchronously inside the hub's fan-out, with what poll() would return next. */
  wait(waiter: (take: Take) => void): void;
  /** The next event (waits for one), or why there will be none. */
  take(): Promise<Take>;
  /** Stops delivery and frees the queue. Idempotent. */
  close(): void;
}

export interface SubscribeOptions {
  /** Events at or before this sequence are not delivered (the caller has them already). */
  after: bigint;
  /** Most events queued for a subscriber that has not taken them; one more ends the subscription. */
  capacity: number;
  /** Keep only the newest queued event instead of overflowing (for "the state now" subscriptions). */
  latestOnly?: boolean;
}

export interface HubLogger {
  info(message: string): void;
  error(message: string, error?: unknown): void;
}

export interface FlowEventHubOptions extends WakeUpOptions {
  /** Rows read per query while catching up. */
  batchSize?: number;
  /** Wait before reading again after a failed read. */
  retryDelayMs?: number;
  logger?: HubLogger;
}

class Subscriber implements HubSubscription {
  queue: FlowEvent[] = [];
  overflowed = false;
  closed = false;
  private waiter: ((take: Take) => void) | undefined;

  constructor(
    readonly key: string,
    readonly filter: FlowEventFilter,
    readonly options: SubscribeOptions,
    private readonly detach: (subscriber: Subscriber) => void,
  ) {}

  offer(event: FlowEvent): void {
    if (this.closed || this.overflowed || event.sequence <= this.options.after) return;
    if (!matchesFlowEventFilter(event, this.filter)) return;
    if (this.waiter) {
      const wake = this.waiter;
      this.waiter = undefined;
      wake(event);
      return;
    }
    if (this.options.latestOnly) {
      this.queue = [event];
      return;
    }
    if (this.queue.length >= this.options.capacity) {
      this.overflowed = true;
      this.queue = [];
      this.detach(this);
      return;
    }
    this.queue.push(event);
  }

  poll(): Take | undefined {
    if (this.queue.length > 0) return this.queue.shift();
    if (this.overflowed) return OVERFLOW;
    if (this.closed) return CLOSED;
    return undefined;
  }

  wait(waiter: (take: Take) => void): void {
    const now = this.poll();
    if (now === undefined) this.waiter = waiter;
    else waiter(now);
  }

  take(): Promise<Take> {
    const now = this.poll();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    const wake = this.waiter;
    this.waiter = undefined;
    wake?.(CLOSED);
  }

  close(): void {
    this.end();
    this.detach(this);
  }
}

export class FlowEventHub {
  private readonly byTenant = new Map<string, Set<Subscriber>>();
  private channel: WakeUpChannel | undefined;
  private started = false;
  private stopped = false;
  private draining = false;
  private again = false;
  private retry: NodeJS.Timeout | undefined;
  private last = 0n;
  private readonly batchSize: number;
  private readonly logger: HubLogger;
  /** SQL statements the hub itself has issued (kept apart from the operations' tallies). */
  readonly statements: StatementTally = { statements: 0 };
  /** Rows read from the log and offered to subscribers. */
  eventsRead = 0;
  /** Rows a read returned at or below the last sequence dispatched, and so dropped (0 unless a read misorders). */
  staleRows = 0;

  constructor(
    private readonly database: Database,
    private readonly options: FlowEventHubOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.logger = options.logger ?? { info: () => {}, error: () => {} };
  }

  /** The last sequence this hub has read and fanned out. */
  get lastSequence(): bigint {
    return this.last;
  }

  get running(): boolean {
    return this.started && !this.stopped;
  }

  get subscriberCount(): number {
    let count = 0;
    for (const set of this.byTenant.values()) count += set.size;
    return count;
  }

  async start(): Promise<void> {
    if (this.started) return;
    // LISTEN first, then read where the log ends: an event committed in between wakes us, and one
    // committed before is not new. Wake-ups before the end is known are kept for after.
    this.channel = await openWakeUpChannel(
      this.database,
      {
        onWake: () => this.wake(),
        onDisconnect: (error) => this.logger.error('event listener connection lost; reconnecting', error),
        onReconnect: () => this.logger.info('event listener reconnected; catching up from the last sequence read'),
      },
      this.options,
    );
    // Prisma queries run when awaited: the await must happen inside the counting context.
    const bounds = await countStatements(this.statements, async () => await readLogBounds(this.database.prisma));
    this.last = bounds.lastSequence;
    this.started = true;
    this.wake();
  }

  /** Ends every subscription and stops listening. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    for (const set of this.byTenant.values()) for (const subscriber of set) subscriber.end();
    this.byTenant.clear();
    await this.channel?.close();
  }

  /**
   * Registers a subscriber. Synchronous on purpose: a caller that reads `lastSequence`, replays the log
   * up to it and subscribes in the same tick misses nothing and receives nothing twice, because the hub
   * fans out each batch in one synchronous step.
   */
  subscribe(tenant: Tenant, filter: FlowEventFilter, options: SubscribeOptions): HubSubscription {
    if (!this.running) throw new Error('the flow event hub is not running');
    const key = tenantKey(tenant);
    const subscriber = new Subscriber(key, filter, options, (gone) => this.detach(gone));
    let set = this.byTenant.get(key);
    if (!set) this.byTenant.set(key, (set = new Set()));
    set.add(subscriber);
    return subscriber;
  }

  private detach(subscriber: Subscriber): void {
    const set = this.byTenant.get(subscriber.key);
    if (!set) return;
    set.delete(subscriber);
    if (set.size === 0) this.byTenant.delete(subscriber.key);
  }

  private wake(): void {
    if (!this.started || this.stopped) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      do {
        this.again = false;
        // Until the log's end: a read that fills its batch is followed by another from where it stopped.
        for (;;) {
          // A plain statement, counted when it is sent (unlike a Prisma query, which runs when awaited).
          const rows = await workSpan('flowgraph.events.read', { 'flowgraph.events.after': String(this.last) }, () =>
            countStatements(this.statements, () => readEventsAfter(this.database, this.last, this.batchSize)),
          );
          if (this.stopped) return;
          for (const row of rows) this.dispatch(row);
          if (rows.length < this.batchSize) break;
        }
      } while (this.again && !this.stopped);
    } catch (error) {
      if (this.stopped) return;
      this.logger.error('reading new flow events failed; retrying', error);
      this.retry = setTimeout(() => {
        this.retry = undefined;
        this.wake();
      }, this.options.retryDelayMs ?? 1_000);
    } finally {
      this.draining = false;
    }
  }

  private dispatch(event: FlowEvent): void {
    // Whatever a statement returns, nothing at or below what was dispatched goes out again: subscribers get
    // each event once and in order even if a read repeats or reorders rows.
    if (event.sequence <= this.last) {
      this.staleRows += 1;
      return;
    }
    this.last = event.sequence;
    this.eventsRead += 1;
    const set = this.byTenant.get(tenantKey(event));
    if (!set) return;
    for (const subscriber of set) subscriber.offer(event);
  }
}
