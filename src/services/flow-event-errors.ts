// Errors of the event log that a client can act on; src/schema exposes them as typed GraphQL results.

/** The cursor is older than the retention (or not from this log): the client must refetch its state. */
export class FlowEventCursorExpiredError extends Error {
  override name = 'FlowEventCursorExpiredError';
  /** The oldest cursor that can still be resumed from. */
  readonly oldestCursor: string;

  /** `oldestCursor`: the cursor of the position the log has been pruned through. */
  constructor(oldestCursor: string) {
    super(
      'The events after this cursor are no longer in the log (they are older than the retention period, or ' +
        'the cursor is not from this server). Refetch the current state, then subscribe without a cursor, ' +
        'or with the cursor of an event received since.',
    );
    this.oldestCursor = oldestCursor;
  }
}

/** The subscriber read slower than events arrived; its stream ended. Resume from `lastCursor`. */
export class FlowEventsOverflowError extends Error {
  override name = 'FlowEventsOverflowError';
  readonly lastCursor: string;

  /** `lastCursor`: the cursor of the position the subscriber has every event up to. */
  constructor(lastCursor: string, capacity: number) {
    super(
      `More than ${capacity} events were waiting for this subscriber, so its subscription ended. ` +
        'Subscribe again with after: lastCursor to receive the rest, without gap.',
    );
    this.lastCursor = lastCursor;
  }
}
