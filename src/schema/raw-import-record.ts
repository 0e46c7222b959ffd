import { builder } from '../builder.ts';
import { tenantWhere } from '../context.ts';

export const RawImportRecordRef = builder.prismaNode('RawImportRecord', {
  description: 'One row of an imported file, exactly as parsed, with its validation result.',
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id, ...tenantWhere(ctx) }),
  nullable: true,
  fields: (t) => ({
    rowNumber: t.exposeInt('rowNumber', { description: '1-based position of the row in its file.' }),
    rawData: t.expose('rawData', { type: 'JSON', description: 'The row exactly as parsed.' }),
    cleansedData: t.expose('cleansedData', { type: 'JSON', nullable: true, description: 'The row after cleansing, once that phase ran.' }),
    isValid: t.exposeBoolean('isValid', { description: 'Whether the row passed basic validation.' }),
    validationErrors: t.expose('validationErrors', {
      type: 'JSON',
      nullable: true,
      description: 'Why the row is invalid, when it is.',
    }),
    processingNotes: t.exposeString('processingNotes', { nullable: true, description: 'Notes left by processing.' }),
    isProcessed: t.exposeBoolean('isProcessed', { description: 'Whether processing has handled the row.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the row was stored.' }),
    processedAt: t.expose('processedAt', { type: 'DateTime', nullable: true, description: 'When the row was processed.' }),
    dataImport: t.relation('dataImport', { description: 'The import this row came from.' }),
    masterFlow: t.relation('masterFlow', { description: 'The master flow this row belongs to.' }),
  }),
});
