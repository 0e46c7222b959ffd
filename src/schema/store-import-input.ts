import { builder } from '../builder.ts';
import { tenantWhere } from '../context.ts';
import {
  EmptyFileError,
  FileTooLargeError,
  IdempotencyConflictError,
  InvalidInputError,
  MalformedFileError,
  UnsupportedFormatError,
} from '../domain/import-errors.ts';
import { workSpan } from '../observability/tracing-hooks.ts';
import { storeImport } from '../services/store-import.ts';
import './empty-file-error.ts';
import './file-too-large-error.ts';
import './idempotency-conflict-error.ts';
import './invalid-input-error.ts';
import './malformed-file-error.ts';
import './unsupported-format-error.ts';
import { FileScalar } from './file.ts';

export const StoreImportInput = builder.inputType('StoreImportInput', {
  description:
    'A file to import (multipart upload: CSV with a header row, or a JSON array of objects; UTF-8, a byte order mark is accepted) or inline rows, with what describes them. Give exactly one of `file` and `rows`.',
  fields: (t) => ({
    file: t.field({
      type: FileScalar,
      required: false,
      description: 'The uploaded file. Its format comes from the extension of `filename` (.csv, .json), else from its MIME type.',
    }),
    rows: t.field({
      type: ['JSON'],
      required: false,
      description: 'Rows given inline instead of a file; each should be an object, like the elements of a JSON upload.',
    }),
    filename: t.string({ required: true, description: 'Name of the file (at most 255 characters).' }),
    importType: t.string({ required: true, description: 'Kind of data, for example `servers` or `cmdb` (at most 50 characters).' }),
    importCategory: t.string({ required: false, description: 'Category of the import (at most 50 characters).' }),
    sourceSystem: t.string({ required: false, description: 'System the data was exported from (at most 100 characters).' }),
    idempotencyKey: t.string({
      required: false,
      description:
        'Makes retries safe: a second request with the same key, content and details returns the first import and writes nothing; the same key with anything different is an IdempotencyConflict. Keys are per tenant (at most 255 characters).',
    }),
  }),
});

builder.mutationField('storeImport', (t) =>
  t.prismaField({
    type: 'MasterFlow',
    authScopes: { operator: true },
    description:
      'Imports a file (or inline rows) in one transaction: a running discovery master flow, its data import, one raw import record per row (rows failing basic validation are stored with isValid false and their validationErrors) and its discovery flow, with the data_import phase completed. Returns the master flow, or a typed error and nothing written.',
    args: { input: t.arg({ type: StoreImportInput, required: true, description: 'What to import.' }) },
    errors: {
      types: [EmptyFileError, UnsupportedFormatError, MalformedFileError, FileTooLargeError, IdempotencyConflictError, InvalidInputError],
      directResult: true,
      union: { name: 'StoreImportResult', description: 'The imported master flow, or why nothing was imported.' },
    },
    resolve: async (query, _root, { input }, ctx) => {
      const stored = await workSpan('flowgraph.import', { 'flowgraph.import.type': input.importType }, async (annotate) => {
        const result = await storeImport(ctx.prisma, ctx.viewer, input, {
          settings: ctx.imports,
          tracker: ctx.importTracker,
          ...(ctx.onImportProgress ? { onProgress: ctx.onImportProgress } : {}),
        });
        annotate({ 'flowgraph.import.replayed': result.replayed });
        return result;
      });
      ctx.metrics.importRows.inc(stored.rowsStored);
      return ctx.prisma.masterFlow.findFirstOrThrow({ ...query, where: { flowId: stored.flowId, ...tenantWhere(ctx) } });
    },
  }),
);
