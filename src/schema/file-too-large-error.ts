import { builder } from '../builder.ts';
import { FileTooLargeError } from '../domain/import-errors.ts';
import { ErrorInterface } from './error.ts';

export const FileTooLargeRef = builder.objectType(FileTooLargeError, {
  name: 'FileTooLarge',
  description: 'The upload is larger than the server accepts (FLOWGRAPH_MAX_UPLOAD_BYTES).',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    limitBytes: t.field({ type: 'SafeInt', description: 'The largest upload accepted, in bytes.', resolve: (error) => error.limitBytes }),
  }),
});
