// No N+1: the flow-graph query costs the same number of SQL statements for 1, 10 and 100 master flows.
// Counted by the driver-adapter wrapper (src/db/statement-counter.ts), reported with FLOWGRAPH_DEBUG_SQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.ts';
import type { Database } from '../src/db/database.ts';
import { FlowGraphDeepDocument } from './generated/graphql.ts';
import { createFlowGraph, newTenant } from './support/factories.ts';
import { execute, testApp } from './support/graphql.ts';
import { resetDatabase, testDatabase } from './support/test-database.ts';

let database: Database;
let app: App;

beforeAll(async () => {
  database = await testDatabase();
  // 100 flows with their imports and 20 records each: more rows than the default cost limit admits in one
  // request, which is beside the point here (test/query-cost.test.ts tests that limit).
  app = testApp(database, { debugSql: true, limits: { maxCost: 100_000_000 } });
});
afterAll(async () => app.stop());

async function statementsFor(flows: number): Promise<{ statements: number; records: number }> {
  await resetDatabase(database);
  const tenant = newTenant();
  for (let index = 0; index < flows; index += 1) {
    await createFlowGraph(database.prisma, tenant, { imports: 2, recordsPerImport: 25 });
  }
  // Another tenant's rows must not change the count either.
  await createFlowGraph(database.prisma, newTenant(), { imports: 3, recordsPerImport: 5 });
  const result = await execute(app, tenant, FlowGraphDeepDocument, { first: 100 });
  expect(result.errors).toBeUndefined();
  const edges = result.data!.masterFlows.edges;
  expect(edges).toHaveLength(flows);
  const records = edges.flatMap((edge) => edge.node.dataImports.edges.flatMap((imp) => imp.node.rawRecords.edges));
  // 20 per import, not the 25 stored.
  expect(records).toHaveLength(flows * 2 * 20);
  return { statements: result.extensions?.sqlStatements ?? Number.NaN, records: records.length };
}

describe('SQL statements per flow-graph request', () => {
  it('stay constant from 1 to 10 to 100 master flows', async () => {
    const one = await statementsFor(1);
    const ten = await statementsFor(10);
    const hundred = await statementsFor(100);
    expect(one.statements).toBeGreaterThan(0);
    expect(ten.statements).toBe(one.statements);
    expect(hundred.statements).toBe(one.statements);
    console.log(`flow-graph query: ${one.statements} SQL statements at 1, 10 and 100 master flows`);
  });

  it('are reported in the response extensions only when FLOWGRAPH_DEBUG_SQL is on', async () => {
    const quiet = testApp(database, { debugSql: false });
    const result = await execute(quiet, newTenant(), FlowGraphDeepDocument, { first: 1 });
    expect(result.extensions?.sqlStatements).toBeUndefined();
    await quiet.stop();
  });
});
