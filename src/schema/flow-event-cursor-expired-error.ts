import { builder } from '../builder.ts';
import { FlowEventCursorExpiredError } from '../services/flow-event-errors.ts';
import { ErrorInterface } from './error.ts';

export const FlowEventCursorExpiredErrorRef = builder.objectType(FlowEventCursorExpiredError, {
  name: 'FlowEventCursorExpiredError',
  description:
    'The events after the given cursor are no longer in the log (older than the retention period, or the cursor ' +
    'is not from this server). Refetch the current state, then subscribe again without a cursor.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    oldestCursor: t.exposeString('oldestCursor', {
      description: 'The oldest cursor that can still be resumed from; events at or before it are gone.',
    }),
  }),
});
