// The flow graph as a client reads it: every field, pagination both ways, filters, ordering, and the
// Relay node interface for each type.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../src/app.ts';
import type { Viewer } from '../src/context.ts';
import type { Database } from '../src/db/database.ts';
import {
  MasterFlowDetailDocument,
  MasterFlowsPageDocument,
  NodeLookupDocument,
  NodesLookupDocument,
} from './generated/graphql.ts';
import { createFlowGraph, newTenant } from './support/factories.ts';
import { execute, executeOk, testApp } from './support/graphql.ts';
import { resetDatabase, testDatabase } from './support/test-database.ts';

let database: Database;
let app: App;
let tenant: Viewer;

beforeAll(async () => {
  database = await testDatabase();
  app = testApp(database);
});
afterAll(async () => app.stop());
beforeEach(async () => {
  await resetDatabase(database);
  tenant = newTenant();
});

describe('masterFlow(flowId)', () => {
  it('resolves every field of the flow, its imports, raw records and discovery flow', async () => {
    const graph = await createFlowGraph(database.prisma, tenant, {
      imports: 2,
      recordsPerImport: 3,
      invalidRows: [2],
      completedPhases: 2,
      flowName: 'Quarterly CMDB',
    });
    const data = await executeOk(app, tenant, MasterFlowDetailDocument, { flowId: graph.flowId, rawFirst: 10 });
    const flow = data.masterFlow!;
    expect(flow).toMatchObject({
      flowId: graph.flowId,
      clientAccountId: tenant.clientAccountId,
      engagementId: tenant.engagementId,
      userId: tenant.userId,
      flowType: 'DISCOVERY',
      flowName: 'Quarterly CMDB',
      flowStatus: 'RUNNING',
      flowConfiguration: { data_import_id: graph.dataImportIds[0] },
      phaseTransitions: [],
      errorHistory: [],
      retryCount: 0,
      parentFlowId: null,
      version: 0,
      dataImportCount: 2,
      rawRecordCount: 6,
      validRecordCount: 4,
      invalidRecordCount: 2,
    });
    expect(Date.parse(flow.createdAt)).not.toBeNaN();

    expect(flow.dataImports.totalCount).toBe(2);
    expect(flow.dataImports.edges.map((edge) => edge.node.dataImportId)).toEqual(graph.dataImportIds);
    const firstImport = flow.dataImports.edges[0]!.node;
    expect(firstImport).toMatchObject({
      importName: 'import 1',
      importType: 'servers',
      filename: 'file-1.csv',
      status: 'COMPLETED',
      totalRecords: 3,
      processedRecords: 3,
      failedRecords: 1,
      importedBy: tenant.userId,
      masterFlow: { flowId: graph.flowId },
      discoveryFlows: [{ id: expect.any(String) }],
    });
    expect(firstImport.rawRecords.totalCount).toBe(3);
    expect(firstImport.rawRecords.edges.map((edge) => edge.node.rowNumber)).toEqual([1, 2]);
    expect(flow.dataImports.edges[1]!.node.discoveryFlows).toEqual([]);

    // Ordered by import, then row number; each record links back to its import and master flow.
    const records = flow.rawRecords.edges.map((edge) => edge.node);
    expect(flow.rawRecords.totalCount).toBe(6);
    const expectedOrder = [...graph.dataImportIds].sort().flatMap((id) => [1, 2, 3].map((row) => [id, row]));
    expect(records.map((record) => [record.dataImport.dataImportId, record.rowNumber])).toEqual(expectedOrder);
    expect(records.every((record) => record.masterFlow.flowId === graph.flowId)).toBe(true);
    const invalid = records.filter((record) => !record.isValid);
    expect(invalid.map((record) => record.rowNumber)).toEqual([2, 2]);
    expect(invalid[0]!.validationErrors).toEqual([{ message: 'invalid row' }]);
    expect(records[0]!.rawData).toEqual({ hostname: expect.stringMatching(/^host-\d-1$/), cores: 1 });

    expect(flow.discoveryFlows).toHaveLength(1);
    const discovery = flow.discoveryFlows[0]!;
    expect(discovery).toMatchObject({
      flowId: graph.flowId,
      status: 'ACTIVE',
      currentPhase: 'FIELD_MAPPING',
      progressPercentage: 40,
      masterFlow: { flowId: graph.flowId },
      dataImport: { dataImportId: graph.dataImportIds[0] },
    });
    expect(discovery.phases.map((phase) => [phase.phase, phase.completed])).toEqual([
      ['DATA_IMPORT', true],
      ['DATA_VALIDATION', true],
      ['FIELD_MAPPING', false],
      ['DATA_CLEANSING', false],
      ['ASSET_INVENTORY', false],
    ]);
    expect(discovery.phases[0]!.completedAt).not.toBeNull();
    expect(discovery.phases[2]!.completedAt).toBeNull();
  });

  it('filters raw records by validity', async () => {
    const graph = await createFlowGraph(database.prisma, tenant, { recordsPerImport: 5, invalidRows: [1, 4] });
    const invalid = await executeOk(app, tenant, MasterFlowDetailDocument, { flowId: graph.flowId, isValid: false });
    expect(invalid.masterFlow!.rawRecords.totalCount).toBe(2);
    expect(invalid.masterFlow!.rawRecords.edges.map((edge) => edge.node.rowNumber)).toEqual([1, 4]);
    const valid = await executeOk(app, tenant, MasterFlowDetailDocument, { flowId: graph.flowId, isValid: true });
    expect(valid.masterFlow!.rawRecords.edges.map((edge) => edge.node.rowNumber)).toEqual([2, 3, 5]);
  });

  it('pages raw records forwards and backwards without gaps or repeats', async () => {
    const graph = await createFlowGraph(database.prisma, tenant, { recordsPerImport: 7 });
    const forward: number[] = [];
    let after: string | null | undefined;
    let pages = 0;
    for (;;) {
      const page = (await executeOk(app, tenant, MasterFlowDetailDocument, { flowId: graph.flowId, rawFirst: 3, rawAfter: after })).masterFlow!.rawRecords;
      forward.push(...page.edges.map((edge) => edge.node.rowNumber));
      pages += 1;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(forward).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(pages).toBe(3);

    const backward: number[] = [];
    let before: string | null | undefined;
    for (;;) {
      const page = (await executeOk(app, tenant, MasterFlowDetailDocument, { flowId: graph.flowId, rawLast: 3, rawBefore: before })).masterFlow!.rawRecords;
      backward.unshift(...page.edges.map((edge) => edge.node.rowNumber));
      if (!page.pageInfo.hasPreviousPage) break;
      before = page.pageInfo.startCursor;
    }
    expect(backward).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('is null for a flow that does not exist', async () => {
    const data = await executeOk(app, tenant, MasterFlowDetailDocument, { flowId: '00000000-0000-4000-8000-000000000000' });
    expect(data.masterFlow).toBeNull();
  });
});

describe('masterFlows', () => {
  async function seedFlows() {
    const base = Date.parse('2026-03-01T00:00:00Z');
    const specs = [
      { flowName: 'alpha', flowType: 'discovery', flowStatus: 'running' },
      { flowName: 'bravo', flowType: 'assessment', flowStatus: 'paused' },
      { flowName: 'charlie', flowType: 'discovery', flowStatus: 'failed' },
      { flowName: 'delta', flowType: 'planning', flowStatus: 'running' },
      { flowName: 'echo', flowType: 'discovery', flowStatus: 'completed' },
    ];
    const flows = [];
    for (const [index, spec] of specs.entries()) {
      flows.push({ ...spec, ...(await createFlowGraph(database.prisma, tenant, { ...spec, recordsPerImport: 1, createdAt: new Date(base + index * 60_000) })) });
    }
    return flows;
  }

  it('lists newest first by default, with totalCount, and pages forwards and backwards', async () => {
    await seedFlows();
    const first = (await executeOk(app, tenant, MasterFlowsPageDocument, { first: 2 })).masterFlows;
    expect(first.totalCount).toBe(5);
    expect(first.edges.map((edge) => edge.node.flowName)).toEqual(['echo', 'delta']);
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });

    const second = (await executeOk(app, tenant, MasterFlowsPageDocument, { first: 2, after: first.pageInfo.endCursor })).masterFlows;
    expect(second.edges.map((edge) => edge.node.flowName)).toEqual(['charlie', 'bravo']);
    const third = (await executeOk(app, tenant, MasterFlowsPageDocument, { first: 2, after: second.pageInfo.endCursor })).masterFlows;
    expect(third.edges.map((edge) => edge.node.flowName)).toEqual(['alpha']);
    expect(third.pageInfo.hasNextPage).toBe(false);

    const back = (await executeOk(app, tenant, MasterFlowsPageDocument, { last: 2, before: third.edges[0]!.cursor })).masterFlows;
    expect(back.edges.map((edge) => edge.node.flowName)).toEqual(['charlie', 'bravo']);
    expect(back.pageInfo.hasPreviousPage).toBe(true);
    const tail = (await executeOk(app, tenant, MasterFlowsPageDocument, { last: 2 })).masterFlows;
    expect(tail.edges.map((edge) => edge.node.flowName)).toEqual(['bravo', 'alpha']);
  });

  it('filters by type and status, and counts what the filter keeps', async () => {
    await seedFlows();
    const discovery = (await executeOk(app, tenant, MasterFlowsPageDocument, { filter: { flowTypes: ['DISCOVERY'] } })).masterFlows;
    expect(discovery.totalCount).toBe(3);
    expect(discovery.edges.map((edge) => edge.node.flowName).sort()).toEqual(['alpha', 'charlie', 'echo']);

    const runningOrPaused = (await executeOk(app, tenant, MasterFlowsPageDocument, {
      filter: { statuses: ['RUNNING', 'PAUSED'] },
    })).masterFlows;
    expect(runningOrPaused.edges.map((edge) => edge.node.flowName).sort()).toEqual(['alpha', 'bravo', 'delta']);

    const both = (await executeOk(app, tenant, MasterFlowsPageDocument, {
      filter: { flowTypes: ['DISCOVERY'], statuses: ['RUNNING'] },
    })).masterFlows;
    expect(both.totalCount).toBe(1);
    expect(both.edges[0]!.node).toMatchObject({ flowName: 'alpha', flowType: 'DISCOVERY', flowStatus: 'RUNNING' });
  });

  it('sorts by creation time, update time and name in both directions', async () => {
    await seedFlows();
    const names = async (orderBy: 'CREATED_AT_ASC' | 'CREATED_AT_DESC' | 'NAME_ASC' | 'NAME_DESC' | 'UPDATED_AT_ASC' | 'UPDATED_AT_DESC') =>
      (await executeOk(app, tenant, MasterFlowsPageDocument, { orderBy })).masterFlows.edges.map((edge) => edge.node.flowName);
    expect(await names('CREATED_AT_ASC')).toEqual(['alpha', 'bravo', 'charlie', 'delta', 'echo']);
    expect(await names('CREATED_AT_DESC')).toEqual(['echo', 'delta', 'charlie', 'bravo', 'alpha']);
    expect(await names('NAME_DESC')).toEqual(['echo', 'delta', 'charlie', 'bravo', 'alpha']);
    await database.prisma.masterFlow.updateMany({ where: { flowName: 'charlie' }, data: { flowName: 'aardvark' } });
    expect(await names('NAME_ASC')).toEqual(['aardvark', 'alpha', 'bravo', 'delta', 'echo']);
    expect((await names('UPDATED_AT_DESC'))[0]).toBe('aardvark');
    expect((await names('UPDATED_AT_ASC')).at(-1)).toBe('aardvark');
  });

  it('refuses page sizes beyond the cap with a clear error, and accepts the cap itself', async () => {
    await seedFlows();
    const tooMany = await execute(app, tenant, MasterFlowsPageDocument, { first: 501 });
    expect(tooMany.data ?? null).toBeNull();
    expect(tooMany.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/masterFlows\(first: 501\) is out of range: a page holds 0 to 500 items/),
      extensions: { code: 'PAGE_SIZE_OUT_OF_RANGE', maxPageSize: 500 },
    });
    const negative = await execute(app, tenant, `{ masterFlows(last: -1) { totalCount } }`);
    expect(negative.errors?.[0]?.extensions?.code).toBe('PAGE_SIZE_OUT_OF_RANGE');
    const nested = await execute(app, tenant, `{ masterFlows(first: 1) { edges { node { rawRecords(first: 1000) { totalCount } } } } }`);
    expect(nested.errors?.[0]?.message).toMatch(/rawRecords\(first: 1000\)/);
    expect((await executeOk(app, tenant, MasterFlowsPageDocument, { first: 500 })).masterFlows.edges).toHaveLength(5);
  });

  it('returns 50 items when no page size is given', async () => {
    for (let index = 0; index < 3; index += 1) {
      await createFlowGraph(database.prisma, tenant, { recordsPerImport: 0, imports: 0, flowType: 'planning' });
    }
    await database.prisma.masterFlow.createMany({
      data: Array.from({ length: 60 }, () => ({ ...tenant, flowId: crypto.randomUUID(), flowType: 'planning' })),
    });
    const page = (await executeOk(app, tenant, MasterFlowsPageDocument, {})).masterFlows;
    expect(page.totalCount).toBe(63);
    expect(page.edges).toHaveLength(50);
    expect(page.pageInfo.hasNextPage).toBe(true);
  });
});

describe('node and nodes', () => {
  it('round-trips the global id of every type', async () => {
    const graph = await createFlowGraph(database.prisma, tenant, { recordsPerImport: 2 });
    const flow = (await executeOk(app, tenant, MasterFlowDetailDocument, { flowId: graph.flowId, rawFirst: 1 })).masterFlow!;
    const ids = {
      MasterFlow: flow.id,
      DataImport: flow.dataImports.edges[0]!.node.id,
      RawImportRecord: flow.rawRecords.edges[0]!.node.id,
      DiscoveryFlow: flow.discoveryFlows[0]!.id,
    };
    for (const [typename, id] of Object.entries(ids)) {
      const node = (await executeOk(app, tenant, NodeLookupDocument, { id })).node;
      expect(node).toMatchObject({ __typename: typename, id });
    }
    const nodes = (await executeOk(app, tenant, NodesLookupDocument, { ids: Object.values(ids) })).nodes;
    expect(nodes.map((node) => node?.__typename)).toEqual(Object.keys(ids));
  });

  it('answers null for ids that match nothing, including malformed uuids inside a valid global id', async () => {
    const missing = Buffer.from('MasterFlow:00000000-0000-4000-8000-000000000000').toString('base64');
    const malformed = Buffer.from('DataImport:not-a-uuid').toString('base64');
    expect((await executeOk(app, tenant, NodeLookupDocument, { id: missing })).node).toBeNull();
    const result = await execute(app, tenant, NodeLookupDocument, { id: malformed });
    expect(result.errors).toBeUndefined();
    expect(result.data?.node).toBeNull();
    expect((await executeOk(app, tenant, NodesLookupDocument, { ids: [missing, malformed] })).nodes).toEqual([null, null]);
  });
});

describe('malformed global ids', () => {
  it('get a clear client error, not an internal one', async () => {
    for (const id of ['garbage', Buffer.from('NoSuchType:00000000-0000-4000-8000-000000000000').toString('base64')]) {
      const result = await execute(app, tenant, NodeLookupDocument, { id });
      expect(result.errors?.[0]?.extensions?.code).not.toBe('INTERNAL_SERVER_ERROR');
      expect(result.errors?.[0]?.message).toMatch(/\S/);
      expect(result.data?.node ?? null).toBeNull();
    }
  });
});
