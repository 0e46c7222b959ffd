import { builder } from '../builder.ts';
import { InvalidInputError } from '../domain/import-errors.ts';
import { ErrorInterface } from './error.ts';

export const InvalidInputRef = builder.objectType(InvalidInputError, {
  name: 'InvalidInput',
  description: 'An argument is missing, empty, too long, or contradicts another one.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    field: t.exposeString('field', { description: 'The argument (or input field) at fault.' }),
  }),
});
