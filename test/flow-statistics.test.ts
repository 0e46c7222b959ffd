// Query.flowStatistics: the tenant's flows counted by status and by phase, every state listed, nothing of
// another tenant counted, and the counts move with the flows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.ts';
import type { Database } from '../src/db/database.ts';
import { createFlowGraph, newTenant } from './support/factories.ts';
import { execute, executeOk, testApp } from './support/graphql.ts';
import { testDatabase } from './support/test-database.ts';

const QUERY = `{ flowStatistics {
  masterFlows byStatus { status count } discoveryFlows byPhase { phase count } completedDiscoveryFlows } }`;

interface Statistics {
  flowStatistics: {
    masterFlows: number;
    byStatus: { status: string; count: number }[];
    discoveryFlows: number;
    byPhase: { phase: string; count: number }[];
    completedDiscoveryFlows: number;
  };
}

let database: Database;
let app: App;
beforeAll(async () => {
  database = await testDatabase();
  app = testApp(database);
});
afterAll(async () => app.stop());

const statistics = async (tenant: ReturnType<typeof newTenant>) => (await executeOk<Statistics, Record<string, never>>(app, tenant, QUERY)).flowStatistics;
const asRecord = (entries: { count: number }[], key: 'status' | 'phase') =>
  Object.fromEntries(entries.map((entry) => [(entry as unknown as Record<string, string>)[key], entry.count]));

describe('Query.flowStatistics', () => {
  it('lists every status and phase with zeros for a tenant without flows', async () => {
    const stats = await statistics(newTenant());
    expect(stats.masterFlows).toBe(0);
    expect(stats.byStatus.map((entry) => entry.status)).toEqual(['INITIALIZED', 'RUNNING', 'PAUSED', 'COMPLETED', 'FAILED']);
    expect(stats.byPhase.map((entry) => entry.phase)).toEqual(['DATA_IMPORT', 'DATA_VALIDATION', 'FIELD_MAPPING', 'DATA_CLEANSING', 'ASSET_INVENTORY']);
    expect([...stats.byStatus, ...stats.byPhase].every((entry) => entry.count === 0)).toBe(true);
    expect(stats.completedDiscoveryFlows).toBe(0);
  });

  it('counts the tenant\'s flows by status and by current phase, and none of another tenant\'s', async () => {
    const tenant = newTenant();
    const other = newTenant();
    // 10 running flows (a two-digit count), at phases 2 and 3; one paused, one failed, one completed with
    // every phase done, and an assessment flow that has no discovery flow.
    for (let index = 0; index < 10; index += 1) {
      await createFlowGraph(database.prisma, tenant, { flowStatus: 'running', recordsPerImport: 1, completedPhases: index < 7 ? 1 : 2 });
    }
    await createFlowGraph(database.prisma, tenant, { flowStatus: 'paused', recordsPerImport: 1, completedPhases: 3 });
    await createFlowGraph(database.prisma, tenant, { flowStatus: 'failed', recordsPerImport: 1, completedPhases: 4 });
    await createFlowGraph(database.prisma, tenant, { flowStatus: 'completed', recordsPerImport: 1, completedPhases: 5 });
    await createFlowGraph(database.prisma, tenant, { flowStatus: 'initialized', flowType: 'assessment', imports: 0 });
    // The other tenant: flows in states the first has none of, or more of them.
    for (let index = 0; index < 3; index += 1) {
      await createFlowGraph(database.prisma, other, { flowStatus: 'initialized', recordsPerImport: 1, completedPhases: 0 });
    }

    const stats = await statistics(tenant);
    expect(stats.masterFlows).toBe(14);
    expect(asRecord(stats.byStatus, 'status')).toEqual({ INITIALIZED: 1, RUNNING: 10, PAUSED: 1, COMPLETED: 1, FAILED: 1 });
    expect(stats.discoveryFlows).toBe(13);
    expect(asRecord(stats.byPhase, 'phase')).toEqual({ DATA_IMPORT: 0, DATA_VALIDATION: 7, FIELD_MAPPING: 3, DATA_CLEANSING: 1, ASSET_INVENTORY: 1 });
    expect(stats.completedDiscoveryFlows).toBe(1);

    const theirs = await statistics(other);
    expect(theirs.masterFlows).toBe(3);
    expect(asRecord(theirs.byStatus, 'status')).toEqual({ INITIALIZED: 3, RUNNING: 0, PAUSED: 0, COMPLETED: 0, FAILED: 0 });
    expect(asRecord(theirs.byPhase, 'phase')).toEqual({ DATA_IMPORT: 3, DATA_VALIDATION: 0, FIELD_MAPPING: 0, DATA_CLEANSING: 0, ASSET_INVENTORY: 0 });
  });

  it('moves when a flow changes through the API', async () => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running', recordsPerImport: 1, completedPhases: 1 });
    const before = await statistics(tenant);
    expect(asRecord(before.byStatus, 'status')).toMatchObject({ RUNNING: 1, PAUSED: 0 });
    const { version } = await database.prisma.masterFlow.findFirstOrThrow({ where: { flowId }, select: { version: true } });
    const paused = await executeOk<{ pauseMasterFlow: { __typename: string } }, { flowId: string; version: number }>(
      app,
      tenant,
      'mutation($flowId: UUID!, $version: Int!) { pauseMasterFlow(flowId: $flowId, version: $version) { __typename } }',
      { flowId, version },
    );
    expect(paused.pauseMasterFlow.__typename).toBe('MasterFlow');
    const after = await statistics(tenant);
    expect(asRecord(after.byStatus, 'status')).toMatchObject({ RUNNING: 0, PAUSED: 1 });
  });

  it('is refused without credentials', async () => {
    expect((await execute(app, null, QUERY)).status).toBe(401);
  });
});
