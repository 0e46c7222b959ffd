import { builder } from '../builder.ts';

/** Every typed error of the API implements this interface, so a client can always select `message`. */
export const ErrorInterface = builder.interfaceRef<Error>('Error').implement({
  description: 'A failure the client can act on, returned as a result instead of a GraphQL error. Nothing was changed.',
  fields: (t) => ({
    message: t.exposeString('message', { description: 'What went wrong, in a sentence a user can read.' }),
  }),
});
