import { builder } from '../builder.ts';
import { MalformedFileError } from '../domain/import-errors.ts';
import { ErrorInterface } from './error.ts';

export const MalformedFileRef = builder.objectType(MalformedFileError, {
  name: 'MalformedFile',
  description: 'The file cannot be parsed (or holds a value PostgreSQL cannot store). Nothing was imported.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    line: t.exposeInt('line', {
      description: '1-based line of the file where the problem was found; for inline rows, the 1-based number of the row.',
    }),
    column: t.exposeInt('column', {
      description:
        '1-based position on that line: the character for JSON and for encoding problems, the field number for CSV structure problems; 1 for inline rows.',
    }),
  }),
});
