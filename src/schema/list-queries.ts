// The sort orders and filters of the flow graph's lists, in terms of Prisma fields. Both read paths use them:
// the Pothos fields (src/schema/*.ts) hand them to Prisma, and the compiled read path
// (src/graphql/compiled-reads/) turns them into SQL, so the two cannot disagree on an order or a filter.
import type { Prisma } from '../generated/prisma/client.ts';

/** Orders of Query.masterFlows, by MasterFlowOrder value; ties are broken by flow id. */
export const MASTER_FLOW_ORDERINGS = {
  CREATED_AT_DESC: [{ createdAt: 'desc' }, { flowId: 'desc' }],
  CREATED_AT_ASC: [{ createdAt: 'asc' }, { flowId: 'asc' }],
  UPDATED_AT_DESC: [{ updatedAt: 'desc' }, { flowId: 'desc' }],
  UPDATED_AT_ASC: [{ updatedAt: 'asc' }, { flowId: 'asc' }],
  NAME_ASC: [{ flowName: { sort: 'asc', nulls: 'last' } }, { flowId: 'asc' }],
  NAME_DESC: [{ flowName: { sort: 'desc', nulls: 'last' } }, { flowId: 'desc' }],
} satisfies Record<string, Prisma.MasterFlowOrderByWithRelationInput[]>;

export type MasterFlowOrdering = keyof typeof MASTER_FLOW_ORDERINGS;

/** Query.masterFlows' filter: each list given restricts this field to the listed values. */
export const MASTER_FLOW_FILTER_FIELDS = { flowTypes: 'flowType', statuses: 'flowStatus' } as const;

/** A master flow's data imports: oldest first. */
export const DATA_IMPORT_ORDER = [{ createdAt: 'asc' }, { id: 'asc' }] satisfies Prisma.DataImportOrderByWithRelationInput[];

/** A master flow's raw records: by data import, then row number. */
export const MASTER_FLOW_RAW_RECORD_ORDER = [
  { dataImportId: 'asc' },
  { rowNumber: 'asc' },
] satisfies Prisma.RawImportRecordOrderByWithRelationInput[];

/** An import's raw records: in file order. */
export const DATA_IMPORT_RAW_RECORD_ORDER = [{ rowNumber: 'asc' }] satisfies Prisma.RawImportRecordOrderByWithRelationInput[];

/** Discovery flows: oldest first. */
export const DISCOVERY_FLOW_ORDER = [{ createdAt: 'asc' }, { id: 'asc' }] satisfies Prisma.DiscoveryFlowOrderByWithRelationInput[];
