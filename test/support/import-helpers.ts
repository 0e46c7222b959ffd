// Counting what an import wrote, straight from the database, for "nothing was written" assertions.
import type { Viewer } from '../../src/context.ts';
import type { Database } from '../../src/db/database.ts';

export interface TenantRows {
  masterFlows: number;
  dataImports: number;
  rawRecords: number;
  discoveryFlows: number;
  events: number;
}

export async function tenantRows(database: Database, viewer: Viewer): Promise<TenantRows> {
  const where = { clientAccountId: viewer.clientAccountId, engagementId: viewer.engagementId };
  const [masterFlows, dataImports, rawRecords, discoveryFlows, events] = await Promise.all([
    database.prisma.masterFlow.count({ where }),
    database.prisma.dataImport.count({ where }),
    database.prisma.rawImportRecord.count({ where }),
    database.prisma.discoveryFlow.count({ where }),
    database.prisma.flowEvent.count({ where }),
  ]);
  return { masterFlows, dataImports, rawRecords, discoveryFlows, events };
}

export const NOTHING: TenantRows = { masterFlows: 0, dataImports: 0, rawRecords: 0, discoveryFlows: 0, events: 0 };
