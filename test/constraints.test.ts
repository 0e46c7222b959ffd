// The database, not the code, keeps the links: required master flow ids with foreign keys to flow_id,
// tenant consistency, and cascade deletion of a whole subtree.
import { randomUUID } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/database.ts';
import { createFlowGraph, newTenant } from './support/factories.ts';
import { resetDatabase, testDatabase } from './support/test-database.ts';

let database: Database;

beforeEach(async () => {
  database = await testDatabase();
  await resetDatabase(database);
});

function importRow(tenant: { clientAccountId: string; engagementId: string }, masterFlowId: string) {
  return {
    clientAccountId: tenant.clientAccountId,
    engagementId: tenant.engagementId,
    masterFlowId,
    importName: 'orphan',
    importType: 'servers',
    filename: 'orphan.csv',
    importedBy: 'tester',
  };
}

describe('required links', () => {
  it('refuses a data import whose master flow does not exist (foreign key to flow_id)', async () => {
    const tenant = newTenant();
    await expect(database.prisma.dataImport.create({ data: importRow(tenant, randomUUID()) })).rejects.toMatchObject({
      code: 'P2003',
    });
    expect(await database.prisma.dataImport.count()).toBe(0);
  });

  it('refuses NULL master_flow_id on every child table', async () => {
    const tenant = newTenant();
    const graph = await createFlowGraph(database.prisma, tenant);
    for (const table of ['data_imports', 'raw_import_records', 'discovery_flows']) {
      await expect(
        database.sql.exec(`UPDATE ${table} SET master_flow_id = NULL WHERE master_flow_id = '${graph.flowId}'`),
      ).rejects.toThrow(/null value in column "master_flow_id"/);
    }
  });

  it('refuses a child that references the internal id instead of the flow_id', async () => {
    const tenant = newTenant();
    const graph = await createFlowGraph(database.prisma, tenant);
    const master = await database.prisma.masterFlow.findUniqueOrThrow({ where: { flowId: graph.flowId } });
    await expect(database.prisma.dataImport.create({ data: importRow(tenant, master.id) })).rejects.toMatchObject({
      code: 'P2003',
    });
  });

  it("refuses a child whose tenant differs from its master flow's", async () => {
    const owner = newTenant();
    const graph = await createFlowGraph(database.prisma, owner);
    await expect(database.prisma.dataImport.create({ data: importRow(newTenant(), graph.flowId) })).rejects.toThrow(
      /tenant of data_imports row .* differs from its master flow's tenant/,
    );
    await expect(
      database.sql.exec(
        `UPDATE raw_import_records SET engagement_id = '${randomUUID()}' WHERE master_flow_id = '${graph.flowId}'`,
      ),
    ).rejects.toThrow(/differs from its master flow's tenant/);
  });

  it('refuses a raw record or discovery flow attached to another master flow than its import', async () => {
    const tenant = newTenant();
    const first = await createFlowGraph(database.prisma, tenant);
    const second = await createFlowGraph(database.prisma, tenant);
    await expect(
      database.sql.exec(
        `UPDATE raw_import_records SET master_flow_id = '${second.flowId}' WHERE master_flow_id = '${first.flowId}'`,
      ),
    ).rejects.toThrow(/belongs to another master flow than its data import/);
    await expect(
      database.sql.exec(`UPDATE discovery_flows SET data_import_id = '${second.dataImportIds[0]}' WHERE flow_id = '${first.flowId}'`),
    ).rejects.toThrow(/belongs to another master flow than its data import/);
  });

  it("refuses to move a master flow to another tenant", async () => {
    const graph = await createFlowGraph(database.prisma, newTenant());
    await expect(
      database.prisma.masterFlow.update({ where: { flowId: graph.flowId }, data: { clientAccountId: randomUUID() } }),
    ).rejects.toThrow(/cannot change/);
  });

  it('refuses values outside the fixed value sets', async () => {
    const tenant = newTenant();
    await expect(
      database.prisma.masterFlow.create({
        data: { ...tenant, flowId: randomUUID(), flowType: 'discovery', flowStatus: 'exploded' },
      }),
    ).rejects.toThrow(/flow_status_check/);
    await expect(
      database.prisma.masterFlow.create({ data: { ...tenant, flowId: randomUUID(), flowType: 'telepathy' } }),
    ).rejects.toThrow(/flow_type_check/);
  });
});

describe('deleting a master flow', () => {
  it('deletes its imports, raw records and discovery flows, and nothing else', async () => {
    const tenant = newTenant();
    const doomed = await createFlowGraph(database.prisma, tenant, { imports: 2, recordsPerImport: 5 });
    const sibling = await createFlowGraph(database.prisma, tenant, { imports: 1, recordsPerImport: 4 });
    const stranger = await createFlowGraph(database.prisma, newTenant(), { imports: 1, recordsPerImport: 3 });

    await database.prisma.masterFlow.delete({ where: { flowId: doomed.flowId } });

    for (const model of ['dataImport', 'rawImportRecord', 'discoveryFlow'] as const) {
      const count = (where: object) => (database.prisma[model] as unknown as { count(args: object): Promise<number> }).count({ where });
      expect(await count({ masterFlowId: doomed.flowId })).toBe(0);
    }
    expect(await database.prisma.rawImportRecord.count({ where: { masterFlowId: sibling.flowId } })).toBe(4);
    expect(await database.prisma.rawImportRecord.count({ where: { masterFlowId: stranger.flowId } })).toBe(3);
    expect(await database.prisma.dataImport.count()).toBe(2);
    expect(await database.prisma.discoveryFlow.count()).toBe(2);
    expect(await database.prisma.masterFlow.count()).toBe(2);
  });
});
