// Errors of the event log that a client can act on; src/schema exposes them as typed GraphQL results.
import { encodeFlowEventCursor } from '../domain/flow-event-cursor.ts';

/** The cursor is older than the retention (or not from this log): the client must refetch its state. */
export class FlowEventCursorExpiredError extends Error {
  override name = 'FlowEventCursorExpiredError';
  /** The oldest cursor that can still be resumed from. */
  readonly oldestCursor: string;

  constructor(prunedThrough: bigint) {
    super(
      'The events after this cursor are no longer in the log (they are older than the retention period, or ' +
        'the cursor is not from this server). Refetch the current state, then subscribe without a cursor, ' +
        'or with the cursor of an event received since.',
    );
    this.oldestCursor = encodeFlowEventCursor(prunedThrough);
  }
}

/** The subscriber read slower than events arrived; its stream ended. Resume from `lastCursor`. */
export class FlowEventsOverflowError extends Error {
  override name = 'FlowEventsOverflowError';
  readonly lastCursor: string;

  constructor(position: bigint, capacity: number) {
    super(
      `More than ${capacity} events were waiting for this subscriber, so its subscription ended. ` +
        'Subscribe again with after: lastCursor to receive the rest, without gap.',
    );
    this.lastCursor = encodeFlowEventCursor(position);
  }
}
