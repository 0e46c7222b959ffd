import { builder } from '../builder.ts';
import { FlowEventsOverflowError } from '../services/flow-event-errors.ts';
import { ErrorInterface } from './error.ts';

export const FlowEventsOverflowErrorRef = builder.objectType(FlowEventsOverflowError, {
  name: 'FlowEventsOverflowError',
  description:
    'The subscriber received events slower than they happened and the server stopped queueing for it; the ' +
    'subscription ended. Subscribe again with `after: lastCursor` to receive the rest without a gap.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    lastCursor: t.exposeString('lastCursor', {
      description: 'The subscriber has every matching event up to this cursor; resume after it.',
    }),
  }),
});
