import { builder } from '../builder.ts';
import { IdempotencyConflictError } from '../domain/import-errors.ts';
import { ErrorInterface } from './error.ts';

export const IdempotencyConflictRef = builder.objectType(IdempotencyConflictError, {
  name: 'IdempotencyConflict',
  description: 'The idempotency key was already used in this tenant for an import with other content or other details.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    idempotencyKey: t.exposeString('idempotencyKey', { description: 'The key that was reused.' }),
  }),
});
