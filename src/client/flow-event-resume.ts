// A client for Subscription.flowEvents that resumes right: each event of the log exactly once, in order,
// across dropped connections, server restarts, overflows and expired cursors. It works with a graphql-ws
// client and with a graphql-sse client (distinct connections mode, the default, is what the tests run;
// single connection mode re-sends the same request object the same way), created with their default
// options or any others, and needs nothing else: no Node built-ins, no runtime imports (a browser bundle
// and Node take the same file; import it as `flowgraph/client`).
//
// Why the variables carry a getter. Both clients retry on their own, silently, and resubscribe with the
// request they were first given: graphql-ws sends the subscribe message again on every new socket
// (`socket.send(stringifyMessage({ id, type: 'subscribe', payload }))` in its subscribe loop), graphql-sse
// sends the request body again on every attempt (`body: JSON.stringify(request)`). A plain
// `variables: { after }` would make every silent retry replay everything since the first cursor. Both
// serialise the request at the moment they send it, so `after` is a getter that reads the helper's latest
// cursor: a silent retry asks for exactly what the helper has not received, and a retry of the helper's own
// (after the client gave up) does the same.
//
// Cursors are opaque (FLOWGRAPH_CURSOR_KEY seals them) and an event carries nothing else that orders it,
// so the helper cannot tell "older" from "newer". Against a repeat it remembers the last `seenCursors`
// cursors (10,000 by default, a bounded memory) and skips an event whose cursor is among them.
//
// Memory stays bounded on the other side too: the clients read whatever arrives, so the server's
// per-subscription buffer never sees a slow onEvent. The helper queues at most `maxQueued` events for it,
// then unsubscribes and continues after the last one once onEvent has caught up.

/** A GraphQL request as both clients take it. */
export interface FlowEventRequest {
  query: string;
  variables?: Record<string, unknown>;
}

/** Where a client delivers results: graphql-ws's and graphql-sse's sinks have this shape. */
export interface FlowEventSink {
  next(result: { data?: unknown; errors?: readonly GraphQLErrorLike[] }): void;
  error(error: unknown): void;
  complete(): void;
}

/** A graphql-ws `Client` or a graphql-sse `Client` (anything that subscribes this way). */
export interface SubscribingClient {
  subscribe(request: FlowEventRequest, sink: FlowEventSink): () => void;
}

export interface GraphQLErrorLike {
  message: string;
  extensions?: Record<string, unknown>;
}

/** The fields of a FlowEvent the helper needs; the rest is whatever the query selects. */
export interface FlowEventItem {
  __typename: 'FlowEvent';
  cursor: string;
}

export interface CursorExpired {
  /** The oldest cursor that can still be resumed from (events at or before it are gone). */
  oldestCursor: string;
  message: string;
}

export type ResumeStatus = 'connecting' | 'live' | 'reconnecting' | 'stopped';

export interface ResumeStatusDetail {
  /** Why the connection is away (reconnecting): an Error, a close event or the server's errors. */
  error?: unknown;
  /** How long the helper waits before it subscribes again (0 while the client retries on its own). */
  delayMs?: number;
  /** The how-manieth attempt in a row this is (1 for the first retry). */
  attempt?: number;
}

export interface ResumeFlowEventsOptions<TEvent extends FlowEventItem> {
  /**
   * A `subscription ($after: String, …) { flowEvents(after: $after, …) { … } }` document that selects
   * `__typename`, `cursor` on FlowEvent, `lastCursor` on FlowEventsOverflowError and `oldestCursor` on
   * FlowEventCursorExpiredError. Its one root field is read (an alias is fine).
   */
  query: string;
  /** Other variables of the query (a filter). `after` is the helper's. */
  variables?: Record<string, unknown>;
  /**
   * Where to start: a cursor from Query.flowEventCursor, read before the state the client displays (or the
   * cursor of the last event it processed). null: from now on; the helper then reads Query.flowEventCursor
   * itself before it subscribes, so that a reconnection before the first event misses nothing either.
   */
  after: string | null;
  /** Called with each event once, in log order; a returned promise is awaited before the next event. */
  onEvent(event: TEvent): void | Promise<void>;
  /**
   * The events after the cursor are no longer in the log (pruned, or the cursor is not from this server):
   * refetch the state, and return the cursor to continue from: read Query.flowEventCursor before the state
   * (readFlowEventCursor does). Called after every earlier event was handled; retried with backoff when it
   * throws (the server may be away).
   */
  onCursorExpired(expired: CursorExpired): Promise<string | null> | string | null;
  /** Connection changes, for a badge: connecting, live, reconnecting (with why and for how long), stopped. */
  onStatus?(status: ResumeStatus, detail: ResumeStatusDetail): void;
  /** Backoff while the server is away: exponential from `initialMs`, capped at `maxMs`, with jitter. */
  backoff?: { initialMs?: number; maxMs?: number };
  /** How many recent cursors are remembered to skip a repeated event (0: none). Default 10,000. */
  seenCursors?: number;
  /**
   * Most events received and waiting for onEvent (default 1,000). The clients read whatever arrives, so a
   * slow onEvent would otherwise queue without bound: at the limit the helper unsubscribes, and subscribes
   * again after the last queued event once onEvent has caught up.
   */
  maxQueued?: number;
}

export interface ResumeStats {
  /** Subscriptions the helper started (1 + its own resubscriptions; a client's silent retries not counted). */
  subscriptions: number;
  /** Events handed to onEvent. */
  events: number;
  /** Events skipped because their cursor had been seen. */
  duplicatesSkipped: number;
  overflows: number;
  expirations: number;
  /** Times the helper unsubscribed because maxQueued events were waiting for onEvent. */
  pauses: number;
  /** Failures the helper backed off from (connection refused, lost, server errors marked retryable). */
  failures: number;
}

export interface FlowEventResume {
  /** The cursor of the last event onEvent has handled (or where the helper started). */
  readonly cursor: string | null;
  readonly stats: Readonly<ResumeStats>;
  /** Settles when stopped: resolves after stop(); rejects with a FlowEventResumeError on what no retry fixes. */
  readonly done: Promise<void>;
  /** Unsubscribes; an event being handled finishes, queued ones are dropped. */
  stop(): void;
}

/** What ends the helper: the server refused the subscription (not retryable), onEvent threw, or a bad answer. */
export class FlowEventResumeError extends Error {
  override name = 'FlowEventResumeError';
  constructor(
    message: string,
    /** The server's errors, or what onEvent threw. */
    readonly causes: readonly unknown[] = [],
  ) {
    super(message);
  }
}

type Item =
  | { kind: 'event'; event: FlowEventItem }
  | { kind: 'expired'; expired: CursorExpired };

const DEFAULT_SEEN_CURSORS = 10_000;
const DEFAULT_MAX_QUEUED = 1_000;
const DEFAULT_INITIAL_BACKOFF_MS = 250;
const DEFAULT_MAX_BACKOFF_MS = 10_000;

/** Exponential backoff with "equal jitter": between half and all of min(max, initial · 2^attempt). */
export function backoffDelay(attempt: number, initialMs = DEFAULT_INITIAL_BACKOFF_MS, maxMs = DEFAULT_MAX_BACKOFF_MS): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/** A retryable answer: the server marks passing failures (database unavailable, timeouts) `retryable`. */
function isRetryableErrors(errors: readonly GraphQLErrorLike[]): boolean {
  return errors.length > 0 && errors.every((error) => error?.extensions?.retryable === true);
}

function isGraphQLErrorList(value: unknown): value is readonly GraphQLErrorLike[] {
  return Array.isArray(value) && value.every((error) => typeof (error as GraphQLErrorLike)?.message === 'string');
}

/** The one root field of a result (`flowEvents`, or its alias). */
function rootField(data: unknown): unknown {
  if (data === null || typeof data !== 'object') return undefined;
  const values = Object.values(data);
  return values.length === 1 ? values[0] : undefined;
}

/** Remembers the last `limit` cursors (exported for its tests). */
export class SeenCursors {
  private readonly set = new Set<string>();
  constructor(private readonly limit: number) {}
  has(cursor: string): boolean {
    return this.set.has(cursor);
  }
  add(cursor: string): void {
    if (this.limit <= 0) return;
    this.set.add(cursor);
    // A Set iterates in insertion order: the first value is the oldest.
    if (this.set.size > this.limit) this.set.delete(this.set.values().next().value as string);
  }
}

/**
 * Subscribes to flowEvents through `client` and keeps it going until stop(): see the file's head.
 */
export function resumeFlowEvents<TEvent extends FlowEventItem = FlowEventItem>(
  client: SubscribingClient,
  options: ResumeFlowEventsOptions<TEvent>,
): FlowEventResume {
  const seen = new SeenCursors(options.seenCursors ?? DEFAULT_SEEN_CURSORS);
  const initialMs = options.backoff?.initialMs ?? DEFAULT_INITIAL_BACKOFF_MS;
  const maxMs = options.backoff?.maxMs ?? DEFAULT_MAX_BACKOFF_MS;
  const maxQueued = Math.max(1, options.maxQueued ?? DEFAULT_MAX_QUEUED);
  const stats: ResumeStats = { subscriptions: 0, events: 0, duplicatesSkipped: 0, overflows: 0, expirations: 0, failures: 0, pauses: 0 };

  /** What the next (re)subscription asks for: after the last event received (queued or handled). */
  let after = options.after;
  /** The last event onEvent has handled. */
  let handled = options.after;
  let stopped = false;
  let attempt = 0;
  let dispose: (() => void) | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let unlistenClient: (() => void)[] = [];
  const queue: Item[] = [];
  let draining = false;
  /** Unsubscribed until onEvent has handled the queue (maxQueued). */
  let paused = false;

  let settle!: { resolve: () => void; reject: (error: unknown) => void };
  const done = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
  // A caller that only calls stop() need not handle `done`; one that awaits it still sees the rejection.
  done.catch(() => {});

  const variables: Record<string, unknown> = { ...options.variables };
  Object.defineProperty(variables, 'after', { enumerable: true, get: () => after });
  const request: FlowEventRequest = { query: options.query, variables };

  let lastStatus: ResumeStatus | undefined;
  const status = (state: ResumeStatus, detail: ResumeStatusDetail = {}) => {
    lastStatus = state;
    try {
      options.onStatus?.(state, detail);
    } catch {
      // A badge that fails must not stop the events.
    }
  };

  const finish = (error?: FlowEventResumeError) => {
    if (stopped) return;
    stopped = true;
    clearTimeout(retryTimer);
    // Not from inside the client's callback that may have led here (see afterEnd in subscribe()).
    const current = dispose;
    dispose = undefined;
    if (current) setTimeout(current, 0);
    for (const unlisten of unlistenClient) unlisten();
    unlistenClient = [];
    queue.length = 0;
    status('stopped', error ? { error } : {});
    if (error) settle.reject(error);
    else settle.resolve();
  };

  /** The subscription ended or failed in a way a later attempt can fix: back off, then subscribe again. */
  const retryLater = (error: unknown) => {
    if (stopped) return;
    stats.failures += 1;
    const delayMs = backoffDelay(attempt, initialMs, maxMs);
    attempt += 1;
    status('reconnecting', { error, delayMs, attempt });
    clearTimeout(retryTimer);
    retryTimer = setTimeout(subscribe, delayMs);
  };

  // graphql-ws clients report their sockets: the badge follows the client's own silent retries too.
  /** A graphql-ws client's socket is open (a subscription on it starts at once, with no new 'connected'). */
  let socketOpen = false;
  const on = (client as { on?: unknown }).on;
  if (typeof on === 'function') {
    const listen = on.bind(client) as (event: string, listener: (...args: unknown[]) => void) => () => void;
    unlistenClient.push(
      listen('connected', () => {
        socketOpen = true;
        if (stopped || !dispose) return;
        attempt = 0;
        status('live');
      }),
      listen('closed', (event) => {
        socketOpen = false;
        if (!stopped && dispose) status('reconnecting', { error: event, delayMs: 0, attempt: attempt + 1 });
      }),
    );
  }

  const drain = async () => {
    if (draining) return;
    draining = true;
    try {
      while (!stopped && queue.length > 0) {
        const item = queue.shift()!;
        if (item.kind === 'event') {
          try {
            await options.onEvent(item.event as TEvent);
          } catch (error) {
            finish(new FlowEventResumeError('onEvent threw; the helper stopped', [error]));
            return;
          }
          if (stopped) return;
          handled = item.event.cursor;
          stats.events += 1;
        } else {
          await recoverFromExpiry(item.expired);
        }
      }
      if (paused && !stopped) {
        // Caught up: continue after the last event received.
        paused = false;
        subscribe();
      }
    } finally {
      draining = false;
    }
  };

  /** Every earlier event is handled: the caller refetches its state and names where to continue. */
  const recoverFromExpiry = async (expired: CursorExpired) => {
    for (let failures = 0; !stopped; failures += 1) {
      try {
        const cursor = await options.onCursorExpired(expired);
        if (stopped) return;
        after = cursor;
        handled = cursor;
        attempt = 0;
        subscribe();
        return;
      } catch (error) {
        stats.failures += 1;
        const delayMs = backoffDelay(failures, initialMs, maxMs);
        status('reconnecting', { error, delayMs, attempt: failures + 1 });
        await new Promise((resolve) => (retryTimer = setTimeout(resolve, delayMs)));
      }
    }
  };

  /** "From now on" as a cursor, so that every later subscription continues from a position. */
  const pinStart = () => {
    status('connecting', { attempt });
    readFlowEventCursor(client).then(
      (cursor) => {
        if (stopped) return;
        after ??= cursor;
        handled ??= cursor;
        subscribe();
      },
      (error: unknown) => retryLater(error),
    );
  };

  function subscribe(): void {
    if (stopped) return;
    if (after === null) return pinStart();
    stats.subscriptions += 1;
    status('connecting', { attempt });
    /** Nothing more is taken from this subscription. */
    let ended = false;
    /**
     * What to do once the server has ended the subscription after its last item (an overflow, an expiry,
     * refused): run from complete() or error(), not from next(). Disposing inside next() while graphql-ws
     * still has the server's `complete` of the same read to deliver makes it release its lock on the socket
     * twice, and it closes a socket that another subscription holds (graphql-ws 6.4.2, client.js).
     */
    let afterEnd: (() => void) | undefined;
    let own: (() => void) | undefined;
    const end = (then?: () => void) => {
      ended = true;
      afterEnd = then;
      if (dispose === own) dispose = undefined;
    };
    /** For an answer the helper cannot use: end it from here, after the client is done with this read. */
    const abandon = (error: FlowEventResumeError) => {
      end();
      setTimeout(() => own?.(), 0);
      finish(error);
    };
    const ending = () => {
      const then = afterEnd;
      afterEnd = undefined;
      then?.();
    };
    const sink: FlowEventSink = {
      next(result) {
        if (ended || stopped) return;
        attempt = 0;
        // A client that was connected already (graphql-ws with lazy: false) reports no new connection.
        if (lastStatus !== 'live') status('live');
        if (result.errors?.length) {
          const errors = result.errors;
          end(() =>
            isRetryableErrors(errors)
              ? retryLater(errors)
              : finish(new FlowEventResumeError(`the server refused the subscription: ${errors.map((e) => e.message).join('; ')}`, errors)),
          );
          return;
        }
        const item = rootField(result.data) as { __typename?: unknown } | null | undefined;
        switch (item?.__typename) {
          case 'FlowEvent': {
            const event = item as FlowEventItem;
            if (typeof event.cursor !== 'string') return abandon(new FlowEventResumeError('the query must select `cursor` on FlowEvent'));
            if (seen.has(event.cursor)) {
              stats.duplicatesSkipped += 1;
              return;
            }
            seen.add(event.cursor);
            after = event.cursor;
            queue.push({ kind: 'event', event });
            if (queue.length >= maxQueued) {
              // Too far behind: stop taking events (those still in flight are asked for again later).
              stats.pauses += 1;
              paused = true;
              end();
              setTimeout(() => own?.(), 0);
            }
            void drain();
            return;
          }
          case 'FlowEventsOverflowError': {
            // The server ends this subscription; it has given us everything up to lastCursor.
            const lastCursor = (item as { lastCursor?: unknown }).lastCursor;
            if (typeof lastCursor !== 'string') {
              return abandon(new FlowEventResumeError('the query must select `lastCursor` on FlowEventsOverflowError'));
            }
            stats.overflows += 1;
            after = lastCursor;
            end(subscribe);
            return;
          }
          case 'FlowEventCursorExpiredError': {
            const expired = item as { oldestCursor?: unknown; message?: unknown };
            if (typeof expired.oldestCursor !== 'string') {
              return abandon(new FlowEventResumeError('the query must select `oldestCursor` on FlowEventCursorExpiredError'));
            }
            stats.expirations += 1;
            const oldestCursor = expired.oldestCursor;
            end(() => {
              queue.push({ kind: 'expired', expired: { oldestCursor, message: String(expired.message ?? '') } });
              void drain();
            });
            return;
          }
          default:
            return abandon(new FlowEventResumeError('the query must select `__typename` of Subscription.flowEvents, its one root field'));
        }
      },
      error(error) {
        if (stopped) return;
        if (ended) return ending();
        end();
        // graphql-ws hands the server's `error` message over as a list of GraphQL errors.
        if (isGraphQLErrorList(error) && !isRetryableErrors(error)) {
          finish(new FlowEventResumeError(`the server refused the subscription: ${error.map((e) => e.message).join('; ')}`, error));
        } else {
          retryLater(error);
        }
      },
      complete() {
        if (stopped) return;
        if (ended) return ending();
        end();
        // Ended without saying why (not an overflow, not an expiry): subscribe again, after a pause.
        retryLater(new Error('the server completed the subscription'));
      },
    };
    // The third argument is graphql-sse's per-subscription listeners (graphql-ws takes two arguments and
    // reports connections through client.on, above).
    const subscribeWithListeners = client.subscribe as (request: FlowEventRequest, sink: FlowEventSink, on?: object) => () => void;
    try {
      own = subscribeWithListeners.call(client, request, sink, {
        connected: () => {
          if (ended || stopped) return;
          attempt = 0;
          status('live');
        },
      });
    } catch (error) {
      // A disposed client throws here; nothing will ever answer.
      finish(new FlowEventResumeError('the client cannot subscribe', [error]));
      return;
    }
    if (!ended) dispose = own;
    if (socketOpen && !ended) status('live');
  }

  subscribe();

  return {
    get cursor() {
      return handled;
    },
    stats,
    done,
    stop: () => finish(),
  };
}

/**
 * The current end of the log (Query.flowEventCursor), through the same client: read it before fetching
 * the state to display, then pass it as `after`.
 */
export function readFlowEventCursor(client: SubscribingClient): Promise<string> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const sink: FlowEventSink = {
      next(result) {
        if (settled) return;
        settled = true;
        const cursor = (result.data as { flowEventCursor?: unknown } | null | undefined)?.flowEventCursor;
        if (typeof cursor === 'string') resolve(cursor);
        else reject(new FlowEventResumeError('no flowEventCursor in the answer', result.errors ?? []));
      },
      error(error) {
        if (settled) return;
        settled = true;
        reject(error instanceof Error ? error : new FlowEventResumeError('reading flowEventCursor failed', [error]));
      },
      complete() {
        if (settled) return;
        settled = true;
        reject(new FlowEventResumeError('no answer to flowEventCursor'));
      },
    };
    client.subscribe({ query: 'query FlowEventCursor { flowEventCursor }' }, sink);
  });
}
