// Two tenants side by side: each sees only its own rows, through every root field and nested edge, and
// another tenant's id answers exactly like a missing one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.ts';
import type { Viewer } from '../src/context.ts';
import type { Database } from '../src/db/database.ts';
import { FlowGraphDocument, MasterFlowDetailDocument, MasterFlowsPageDocument, NodeLookupDocument, NodesLookupDocument } from './generated/graphql.ts';
import { createFlowGraph, newTenant, type CreatedFlowGraph } from './support/factories.ts';
import { authHeaders } from './support/auth.ts';
import { execute, executeOk, testApp } from './support/graphql.ts';
import { resetDatabase, testDatabase } from './support/test-database.ts';

let database: Database;
let app: App;
const alice: Viewer = newTenant('alice');
const bob: Viewer = newTenant('bob');
// Same client account, other engagement: a different tenant too.
const aliceOtherEngagement: Viewer = { ...alice, engagementId: newTenant().engagementId };
let aliceGraphs: CreatedFlowGraph[];
let bobGraphs: CreatedFlowGraph[];

beforeAll(async () => {
  database = await testDatabase();
  await resetDatabase(database);
  app = testApp(database);
  aliceGraphs = [
    await createFlowGraph(database.prisma, alice, { imports: 2, recordsPerImport: 3 }),
    await createFlowGraph(database.prisma, alice, { imports: 1, recordsPerImport: 2 }),
  ];
  bobGraphs = [await createFlowGraph(database.prisma, bob, { imports: 1, recordsPerImport: 4 })];
  await createFlowGraph(database.prisma, aliceOtherEngagement, { imports: 1, recordsPerImport: 1 });
});
afterAll(async () => app.stop());

async function globalIdsOf(viewer: Viewer, flowId: string): Promise<string[]> {
  const flow = (await executeOk(app, viewer, MasterFlowDetailDocument, { flowId, rawFirst: 500 })).masterFlow!;
  return [
    flow.id,
    ...flow.dataImports.edges.map((edge) => edge.node.id),
    ...flow.rawRecords.edges.map((edge) => edge.node.id),
    ...flow.discoveryFlows.map((discovery) => discovery.id),
  ];
}

describe('tenant scoping', () => {
  it('lists only the viewer\'s own master flows, counts included', async () => {
    const forAlice = (await executeOk(app, alice, MasterFlowsPageDocument, {})).masterFlows;
    expect(forAlice.totalCount).toBe(2);
    expect(forAlice.edges.map((edge) => edge.node.flowId).sort()).toEqual(aliceGraphs.map((graph) => graph.flowId).sort());
    const forBob = (await executeOk(app, bob, MasterFlowsPageDocument, {})).masterFlows;
    expect(forBob.edges.map((edge) => edge.node.flowId)).toEqual([bobGraphs[0]!.flowId]);
    expect((await executeOk(app, aliceOtherEngagement, MasterFlowsPageDocument, {})).masterFlows.totalCount).toBe(1);
  });

  it('reaches only the viewer\'s own rows through every nested edge of the flow graph', async () => {
    const graph = await executeOk(app, bob, FlowGraphDocument, { first: 50 });
    const flows = graph.masterFlows.edges.map((edge) => edge.node);
    expect(flows.map((flow) => flow.flowId)).toEqual([bobGraphs[0]!.flowId]);
    const records = flows.flatMap((flow) => flow.dataImports.edges.flatMap((edge) => edge.node.rawRecords.edges));
    expect(records).toHaveLength(4);
  });

  it('answers another tenant\'s flow id exactly like a missing one', async () => {
    const foreign = await execute(app, alice, MasterFlowDetailDocument, { flowId: bobGraphs[0]!.flowId });
    const missing = await execute(app, alice, MasterFlowDetailDocument, { flowId: '00000000-0000-4000-8000-000000000000' });
    expect(foreign).toEqual(missing);
    expect(foreign.data?.masterFlow).toBeNull();
  });

  it('answers another tenant\'s global ids with null from node and nodes, for every type', async () => {
    const bobIds = await globalIdsOf(bob, bobGraphs[0]!.flowId);
    expect(bobIds.length).toBe(1 + 1 + 4 + 1);
    for (const id of bobIds) {
      expect((await executeOk(app, bob, NodeLookupDocument, { id })).node?.id).toBe(id);
      expect((await executeOk(app, alice, NodeLookupDocument, { id })).node).toBeNull();
      expect((await executeOk(app, aliceOtherEngagement, NodeLookupDocument, { id })).node).toBeNull();
    }
    const aliceIds = await globalIdsOf(alice, aliceGraphs[0]!.flowId);
    const mixed = (await executeOk(app, alice, NodesLookupDocument, { ids: [...aliceIds, ...bobIds] })).nodes;
    expect(mixed.map((node) => node?.id ?? null)).toEqual([...aliceIds, ...bobIds.map(() => null)]);
  });
});

describe('requests without a viewer', () => {
  it('are refused with 401 and an error naming the credentials to send', async () => {
    const result = await execute(app, null, MasterFlowsPageDocument, {});
    expect(result.status).toBe(401);
    expect(result.data ?? null).toBeNull();
    expect(result.errors?.[0]).toMatchObject({
      message: expect.stringMatching(/Missing credentials\. Send Authorization: Bearer <token>/),
      extensions: { code: 'UNAUTHENTICATED' },
    });
  });

  it('are refused when the tenant claim is not a uuid, and the development headers count for nothing', async () => {
    const injected = authHeaders({ ...alice, clientAccountId: "1' OR '1'='1" });
    const response = await app.yoga.fetch('http://flowgraph.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...injected },
      body: JSON.stringify({ query: '{ masterFlows { totalCount } }' }),
    });
    expect(response.status).toBe(401);
    expect(JSON.stringify(await response.json())).toMatch(/"client_account_id\\" claim must be a uuid/);

    // Outside development mode the header viewer is not a way in.
    const headersOnly = await app.yoga.fetch('http://flowgraph.test/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-client-account-id': alice.clientAccountId,
        'x-engagement-id': alice.engagementId,
        'x-user-id': 'mallory',
      },
      body: JSON.stringify({ query: '{ masterFlows { totalCount } }' }),
    });
    expect(headersOnly.status).toBe(401);
  });
});
