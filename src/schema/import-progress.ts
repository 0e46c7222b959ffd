import { builder } from '../builder.ts';
import type { ImportStatus } from '../domain/import-status.ts';
import { importProgress, type ImportProgressReport } from '../services/import-progress-report.ts';
import { ImportStageEnum } from './import-stage.ts';
import { ImportStatusEnum } from './import-status.ts';

const ImportProgressRef = builder.objectRef<ImportProgressReport>('ImportProgress').implement({
  description:
    'How far an import sent with an idempotency key has got: while its request is open, the bytes received or the rows stored so far (in its ' +
    'transaction, visible to no other query until it commits); once committed, its totals.',
  fields: (t) => ({
    idempotencyKey: t.exposeString('idempotencyKey', { description: 'The key the import was sent with.' }),
    filename: t.exposeString('filename', { description: 'Name of the file.' }),
    status: t.field({
      type: ImportStatusEnum,
      description: 'PROCESSING while the rows are being stored, COMPLETED once they are committed.',
      resolve: (report) => report.status as ImportStatus,
    }),
    stage: t.field({
      type: ImportStageEnum,
      nullable: true,
      description:
        'While PROCESSING: RECEIVING while the upload still arrives and nothing is stored yet (the embedded database ' +
        'receives an upload before storing it), then STORING. Null once COMPLETED.',
      resolve: (report) => report.stage,
    }),
    rowsStored: t.field({ type: 'SafeInt', description: 'Rows stored so far (every row, once COMPLETED).', resolve: (report) => report.rowsStored }),
    invalidRows: t.field({ type: 'SafeInt', description: 'Of those, rows stored as invalid.', resolve: (report) => report.invalidRows }),
    bytesRead: t.field({
      type: 'SafeInt',
      nullable: true,
      description:
        'Bytes of the uploaded file read so far: received while RECEIVING, parsed while STORING (its size, once COMPLETED); ' +
        'null for inline rows.',
      resolve: (report) => report.bytesRead,
    }),
    startedAt: t.field({ type: 'DateTime', nullable: true, description: 'When the server began receiving or storing the import.', resolve: (report) => report.startedAt }),
    flowId: t.field({
      type: 'UUID',
      nullable: true,
      description: 'The master flow the import created, once COMPLETED (before that it exists only inside the import).',
      resolve: (report) => report.flowId,
    }),
  }),
});

builder.queryField('importProgress', (t) =>
  t.field({
    type: ImportProgressRef,
    nullable: true,
    description:
      'Progress of the tenant\'s import with this idempotency key, for a client to show while its upload is stored. In ' +
      'flight it is known only to the server process storing it; null when no import with the key is in flight there ' +
      'and none has been committed (not started yet, rolled back, or another tenant\'s).',
    args: { idempotencyKey: t.arg.string({ required: true, description: 'The `idempotencyKey` the import was sent with.' }) },
    resolve: (_root, args, ctx) => importProgress(ctx.prisma, ctx.importTracker, ctx.viewer, args.idempotencyKey),
  }),
);
