// What the compiled read path knows about the flow graph: for each GraphQL object type it can compile,
// the table behind it and, for each field it can compile, where the value comes from. A field that is not
// listed here is simply not compiled: an operation that selects it runs through the Pothos resolvers.
//
// The values are read exactly as the Pothos fields read them (src/schema/*.ts): the same columns, the same
// tenant conditions, the same sort orders (shared through src/schema/list-queries.ts), and the GraphQL types'
// own serializers. test/compiled-reads.test.ts runs every compiled field through both paths and compares.
import { PHASE_COMPLETED_FIELD, phaseStatuses } from '../../domain/discovery-phases.ts';
import {
  DATA_IMPORT_ORDER,
  DATA_IMPORT_RAW_RECORD_ORDER,
  DISCOVERY_FLOW_ORDER,
  MASTER_FLOW_ORDERINGS,
  MASTER_FLOW_RAW_RECORD_ORDER,
} from '../../schema/list-queries.ts';

/** A Prisma orderBy list (as the Pothos fields pass it), which the compiler turns into ORDER BY. */
export type SortDirection = 'asc' | 'desc' | { sort: 'asc' | 'desc'; nulls: 'first' | 'last' };
export type Ordering = ReadonlyArray<Partial<Record<string, SortDirection>>>;

export type FieldSource =
  /**
   * A column, read as Prisma reads it: `expression` is what the statement selects (the column itself by
   * default), `read` converts that JSON value into what the Pothos field would hand to its scalar.
   */
  | { kind: 'column'; field: string; expression?: (column: string) => string; read?: (value: unknown) => unknown }
  /** The relay global id, made of the type name and this column. */
  | { kind: 'globalId'; field: string }
  /** A list of related rows of the viewer's tenant (t.relation). */
  | { kind: 'list'; relation: Relation }
  /** A page of related rows of the viewer's tenant (t.relatedConnection; forward pages only). */
  | { kind: 'connection'; relation: Relation; cursorField: string; filters?: Record<string, string> }
  /**
   * A value computed from columns by the same function the Pothos field calls; `columns` are the Prisma
   * fields it reads. A list of objects is answered property by property (the fields of such types expose them).
   */
  | { kind: 'computed'; fields: readonly string[]; compute: (model: Record<string, unknown>) => unknown }
  /** A count of related rows (t.relationCount; like Pothos, without the tenant condition). */
  | { kind: 'count'; relation: Relation; where?: Record<string, boolean> };

export interface Relation {
  /** GraphQL type name of the related rows. */
  target: string;
  /** Column of the related table that references the parent. */
  childField: string;
  /** Column of the parent it references. */
  parentField: string;
  order: Ordering;
}

export interface TypeModel {
  table: string;
  fields: Record<string, FieldSource>;
}

/** Prisma field name to column name: every mapped column of these models is the snake_case of its field. */
export function columnOf(field: string): string {
  return field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

// Prisma reads timestamps into Dates, cutting microseconds to milliseconds, and the DateTime scalar
// serializes those. The statement selects the same milliseconds since the epoch (floor: the cut, also before
// 1970), which become the same Dates without parsing a date string per value.
const date: Pick<Extract<FieldSource, { kind: 'column' }>, 'expression' | 'read'> = {
  expression: (column) => `floor(extract(epoch from ${column}) * 1000)`,
  read: (value) => new Date(value as number),
};
// fileSize is a bigint column, which the field hands to SafeInt as a number.
const bigintAsNumber = { read: (value: unknown) => Number(value) };

const column = (field: string, conversion: Partial<Pick<Extract<FieldSource, { kind: 'column' }>, 'expression' | 'read'>> = {}): FieldSource => ({
  kind: 'column',
  field,
  ...conversion,
});

const discoveryFlows = (parentField: string): Relation => ({
  target: 'DiscoveryFlow',
  childField: 'masterFlowId',
  parentField,
  order: DISCOVERY_FLOW_ORDER,
});

export const READ_MODEL: Record<string, TypeModel> = {
  MasterFlow: {
    table: 'crewai_flow_state_extensions',
    fields: {
      id: { kind: 'globalId', field: 'flowId' },
      flowId: column('flowId'),
      clientAccountId: column('clientAccountId'),
      engagementId: column('engagementId'),
      userId: column('userId'),
      flowType: column('flowType'),
      flowName: column('flowName'),
      flowStatus: column('flowStatus'),
      flowConfiguration: column('flowConfiguration'),
      errorHistory: column('errorHistory'),
      retryCount: column('retryCount'),
      parentFlowId: column('parentFlowId'),
      version: column('version'),
      createdAt: column('createdAt', date),
      updatedAt: column('updatedAt', date),
      dataImports: {
        kind: 'connection',
        relation: { target: 'DataImport', childField: 'masterFlowId', parentField: 'flowId', order: DATA_IMPORT_ORDER },
        cursorField: 'id',
      },
      rawRecords: {
        kind: 'connection',
        relation: { target: 'RawImportRecord', childField: 'masterFlowId', parentField: 'flowId', order: MASTER_FLOW_RAW_RECORD_ORDER },
        cursorField: 'id',
        filters: { isValid: 'isValid' },
      },
      discoveryFlows: { kind: 'list', relation: discoveryFlows('flowId') },
      dataImportCount: { kind: 'count', relation: { target: 'DataImport', childField: 'masterFlowId', parentField: 'flowId', order: [] } },
      rawRecordCount: { kind: 'count', relation: { target: 'RawImportRecord', childField: 'masterFlowId', parentField: 'flowId', order: [] } },
      validRecordCount: {
        kind: 'count',
        relation: { target: 'RawImportRecord', childField: 'masterFlowId', parentField: 'flowId', order: [] },
        where: { isValid: true },
      },
      invalidRecordCount: {
        kind: 'count',
        relation: { target: 'RawImportRecord', childField: 'masterFlowId', parentField: 'flowId', order: [] },
        where: { isValid: false },
      },
    },
  },
  DataImport: {
    table: 'data_imports',
    fields: {
      id: { kind: 'globalId', field: 'id' },
      dataImportId: column('id'),
      importName: column('importName'),
      importType: column('importType'),
      importCategory: column('importCategory'),
      filename: column('filename'),
      fileSize: column('fileSize', bigintAsNumber),
      mimeType: column('mimeType'),
      sourceSystem: column('sourceSystem'),
      status: column('status'),
      progressPercentage: column('progressPercentage'),
      totalRecords: column('totalRecords'),
      processedRecords: column('processedRecords'),
      failedRecords: column('failedRecords'),
      processingConfig: column('processingConfig'),
      importedBy: column('importedBy'),
      errorMessage: column('errorMessage'),
      startedAt: column('startedAt', date),
      completedAt: column('completedAt', date),
      createdAt: column('createdAt', date),
      updatedAt: column('updatedAt', date),
      rawRecords: {
        kind: 'connection',
        relation: { target: 'RawImportRecord', childField: 'dataImportId', parentField: 'id', order: DATA_IMPORT_RAW_RECORD_ORDER },
        cursorField: 'id',
        filters: { isValid: 'isValid' },
      },
    },
  },
  RawImportRecord: {
    table: 'raw_import_records',
    fields: {
      id: { kind: 'globalId', field: 'id' },
      rowNumber: column('rowNumber'),
      rawData: column('rawData'),
      cleansedData: column('cleansedData'),
      isValid: column('isValid'),
      validationErrors: column('validationErrors'),
      processingNotes: column('processingNotes'),
      isProcessed: column('isProcessed'),
      createdAt: column('createdAt', date),
      processedAt: column('processedAt', date),
    },
  },
  DiscoveryFlow: {
    table: 'discovery_flows',
    fields: {
      id: { kind: 'globalId', field: 'id' },
      flowId: column('flowId'),
      userId: column('userId'),
      flowName: column('flowName'),
      status: column('status'),
      currentPhase: column('currentPhase'),
      progressPercentage: column('progressPercentage'),
      errorMessage: column('errorMessage'),
      createdAt: column('createdAt', date),
      updatedAt: column('updatedAt', date),
      completedAt: column('completedAt', date),
      phases: {
        kind: 'computed',
        fields: [...Object.values(PHASE_COMPLETED_FIELD), 'phaseState'],
        compute: (model) => phaseStatuses(model as Parameters<typeof phaseStatuses>[0]),
      },
    },
  },
};

/** Query.masterFlows' sort orders, by MasterFlowOrder value. */
export const ROOT_MASTER_FLOW_ORDERINGS: Record<string, Ordering> = MASTER_FLOW_ORDERINGS;

