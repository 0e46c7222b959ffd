import { builder } from '../builder.ts';
import { FlowEventsOverflowError } from '../services/flow-event-errors.ts';

export const FlowEventsOverflowErrorRef = builder.objectType(FlowEventsOverflowError, {
  name: 'FlowEventsOverflowError',
  description:
    'The subscriber received events slower than they happened and the server stopped queueing for it; the ' +
    'subscription ended. Subscribe again with `after: lastCursor` to receive the rest without a gap.',
  fields: (t) => ({
    message: t.exposeString('message', { description: 'What happened and what to do, for people.' }),
    lastCursor: t.exposeString('lastCursor', {
      description: 'The subscriber has every matching event up to this cursor; resume after it.',
    }),
  }),
});
