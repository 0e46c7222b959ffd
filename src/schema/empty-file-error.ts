import { builder } from '../builder.ts';
import { EmptyFileError } from '../domain/import-errors.ts';
import { ErrorInterface } from './error.ts';

export const EmptyFileRef = builder.objectType(EmptyFileError, {
  name: 'EmptyFile',
  description: 'The file (or the inline rows) holds no data row: it is empty, holds only a CSV header, or is an empty JSON array.',
  interfaces: [ErrorInterface],
  fields: () => ({}),
});
