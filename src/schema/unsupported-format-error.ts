import { builder } from '../builder.ts';
import { UnsupportedFormatError } from '../domain/import-errors.ts';
import { ErrorInterface } from './error.ts';

export const UnsupportedFormatRef = builder.objectType(UnsupportedFormatError, {
  name: 'UnsupportedFormat',
  description: 'The upload is neither CSV (.csv, text/csv) nor JSON (.json, application/json).',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    filename: t.exposeString('filename', { description: 'The file name that was given.' }),
    mimeType: t.exposeString('mimeType', { nullable: true, description: 'The MIME type the upload was sent with, if any.' }),
  }),
});
