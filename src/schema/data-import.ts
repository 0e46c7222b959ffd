import { builder } from '../builder.ts';
import { tenantWhere } from '../context.ts';
import type { ImportStatus } from '../domain/import-status.ts';
import { ImportStatusEnum } from './import-status.ts';
import { DATA_IMPORT_RAW_RECORD_ORDER, DISCOVERY_FLOW_ORDER } from './list-queries.ts';

export const DataImportRef = builder.prismaNode('DataImport', {
  description: 'A file (or inline rows) imported into a master flow; its rows are raw import records.',
  id: { field: 'id' },
  findUnique: (id, ctx) => ({ id, ...tenantWhere(ctx) }),
  nullable: true,
  fields: (t) => ({
    dataImportId: t.expose('id', { type: 'UUID', description: 'The import\'s own id (the uuid inside its global id).' }),
    importName: t.exposeString('importName', { description: 'Name of the import.' }),
    importType: t.exposeString('importType', { description: 'Kind of data imported (for example `cmdb`, `servers`).' }),
    importCategory: t.exposeString('importCategory', { nullable: true, description: 'Category of the import.' }),
    filename: t.exposeString('filename', { description: 'Original file name.' }),
    fileSize: t.field({
      type: 'SafeInt',
      nullable: true,
      description: 'Size of the file in bytes.',
      resolve: (dataImport) => (dataImport.fileSize === null ? null : Number(dataImport.fileSize)),
    }),
    mimeType: t.exposeString('mimeType', { nullable: true, description: 'MIME type of the file.' }),
    sourceSystem: t.exposeString('sourceSystem', { nullable: true, description: 'System the data was exported from.' }),
    status: t.field({
      type: ImportStatusEnum,
      description: 'Processing state.',
      resolve: (dataImport) => dataImport.status as ImportStatus,
    }),
    progressPercentage: t.exposeFloat('progressPercentage', { description: 'Share of records processed, 0 to 100.' }),
    totalRecords: t.exposeInt('totalRecords', { description: 'Number of rows in the file.' }),
    processedRecords: t.exposeInt('processedRecords', { description: 'Number of rows stored.' }),
    failedRecords: t.exposeInt('failedRecords', { description: 'Number of rows that failed validation.' }),
    processingConfig: t.expose('processingConfig', { type: 'JSON', description: 'Parser and pipeline settings used.' }),
    importedBy: t.exposeString('importedBy', { description: 'User who imported the file.' }),
    errorMessage: t.exposeString('errorMessage', { nullable: true, description: 'Why the import failed, when it did.' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true, description: 'When processing started.' }),
    completedAt: t.expose('completedAt', { type: 'DateTime', nullable: true, description: 'When processing finished.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the import was created.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the import last changed.' }),
    masterFlow: t.relation('masterFlow', { description: 'The master flow this import belongs to.' }),
    rawRecords: t.relatedConnection(
      'rawRecords',
      {
        description: 'The rows of this import, in file order.',
        cursor: 'id',
        totalCount: true,
        args: {
          isValid: t.arg.boolean({ description: 'Only valid (true) or only invalid (false) records.' }),
        },
        query: (args, ctx) => ({
          where: { ...tenantWhere(ctx), ...(args.isValid == null ? {} : { isValid: args.isValid }) },
          orderBy: DATA_IMPORT_RAW_RECORD_ORDER,
        }),
      },
      { name: 'DataImportRawRecordsConnection', description: 'A page of an import\'s raw records.' },
      { name: 'DataImportRawRecordsEdge', description: 'A raw import record in a page.' },
    ),
    discoveryFlows: t.relation('discoveryFlows', {
      description: 'Discovery flows started for this import.',
      query: (_args, ctx) => ({ where: tenantWhere(ctx), orderBy: DISCOVERY_FLOW_ORDER }),
    }),
  }),
});
