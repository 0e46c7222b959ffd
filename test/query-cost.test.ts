// The cost limit bounds the database work of an operation. On the read benchmark's fixture (bench/reads-fixture.ts,
// 200 master flows here, ~40,000 raw records), every way to nest connections (back-edges included) is sized to the
// largest page the default limit admits; the server admits it and refuses one more, and the admitted operation
// reads a bounded number of rows with a bounded number of SQL statements. Rows are counted in the response (each
// row object selects `id`), statements by the statement counter; no clock is involved.
import { parse } from 'graphql';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.ts';
import { DEFAULT_LIMITS } from '../src/config.ts';
import { openDatabase, type Database } from '../src/db/database.ts';
import { compileRead, parametersFor } from '../src/graphql/compiled-reads/read-compiler.ts';
import { operationCost } from '../src/graphql/operation-limits.ts';
import { schema } from '../src/schema/index.ts';
import { loadFixture } from '../bench/reads-fixture.ts';
import type { TestViewer } from './support/auth.ts';
import { execute, testApp } from './support/graphql.ts';
import { onPostgres, resetDatabase, testDatabase } from './support/test-database.ts';

/**
 * What the most expensive operation the default limit admits may read: rows of the flow graph (each row object
 * in the response), and SQL statements. The figures follow from the cost rule: a row costs at least 12.9 at
 * the first level of connections and 3.375 times more per level below (connection, edges, node), so under
 * 1,000,000 no operation reaches 25,000 rows; the resolvers load each level of a selection with one statement.
 */
const MAX_ROWS = 25_000;
const MAX_STATEMENTS = 12;

let database: Database;
let app: App;
let tenant: TestViewer;
let subject: string;

/** Nestings of connections and back-edges, each with every page sized `n`; `$subject` is a flow with 750 records. */
const SHAPES: Record<string, (n: number) => string> = {
  'flows > records': (n) => `{ masterFlows(first: ${n}) { edges { node { id rawRecords(first: ${n}) { edges { node { id } } } } } } }`,
  'flows > imports > records': (n) =>
    `{ masterFlows(first: ${n}) { edges { node { id dataImports(first: ${n}) { edges { node { id rawRecords(first: ${n}) { edges { node { id } } } } } } } } } }`,
  'records > import > records (back-edge)': (n) =>
    `query($subject: UUID!) { masterFlow(flowId: $subject) { id rawRecords(first: ${n}) { edges { node { id dataImport { id rawRecords(first: ${n}) { edges { node { id } } } } } } } } }`,
  'flows > records > flow > records (back-edge)': (n) =>
    `{ masterFlows(first: ${n}) { edges { node { id rawRecords(first: ${n}) { edges { node { id masterFlow { id rawRecords(first: ${n}) { edges { node { id } } } } } } } } } } }`,
  'flows > discovery flows > import > records': (n) =>
    `{ masterFlows(first: ${n}) { edges { node { id discoveryFlows { id dataImport { id rawRecords(first: ${n}) { edges { node { id } } } } } } } } }`,
  'fifteen aliases of flows with every count': (n) =>
    `{ ${Array.from({ length: DEFAULT_LIMITS.maxAliases }, (_unused, index) =>
      `a${index}: masterFlows(first: ${n}) { totalCount edges { node { id rawRecordCount validRecordCount invalidRecordCount dataImportCount
        rawRecords(first: 1) { totalCount } dataImports(first: 1) { totalCount } } } }`).join(' ')} }`,
  'fifteen aliases of flows > records': (n) =>
    `{ ${Array.from({ length: DEFAULT_LIMITS.maxAliases }, (_unused, index) =>
      `a${index}: masterFlows(first: ${n}) { edges { node { id rawRecords(first: ${n}) { edges { node { id } } } } } }`).join(' ')} }`,
};

function cost(query: string): number {
  return operationCost(schema, parse(query), undefined, { subject });
}

/** The largest page size (up to the page-size cap) at which `shape` stays within the cost limit. */
function largestAdmitted(shape: (n: number) => string): number {
  let low = 1;
  let high = DEFAULT_LIMITS.maxPageSize;
  if (cost(shape(low)) > DEFAULT_LIMITS.maxCost) return 0;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (cost(shape(middle)) <= DEFAULT_LIMITS.maxCost) low = middle;
    else high = middle - 1;
  }
  return low;
}

/** Row objects in a response: every object that carries an `id`. */
function rowsIn(value: unknown): number {
  if (Array.isArray(value)) return value.reduce<number>((sum, item) => sum + rowsIn(item), 0);
  if (value === null || typeof value !== 'object') return 0;
  const own = 'id' in value ? 1 : 0;
  return Object.values(value).reduce<number>((sum, item) => sum + rowsIn(item), own);
}

beforeAll(async () => {
  database = await testDatabase();
  await resetDatabase(database);
  await loadFixture(database.sql, { flows: 200 });
  const [row] = await database.sql.query<{ client_account_id: string; engagement_id: string; flow_id: string }>(
    'SELECT client_account_id, engagement_id, flow_id FROM crewai_flow_state_extensions ORDER BY created_at LIMIT 1',
  );
  tenant = { clientAccountId: row!.client_account_id, engagementId: row!.engagement_id, userId: 'bench-user' };
  subject = row!.flow_id;
  app = testApp(database, { debugSql: true, limits: DEFAULT_LIMITS });
}, 120_000);
afterAll(async () => {
  await app?.stop();
  await resetDatabase(database);
});

describe('the cost limit', () => {
  it('counts a connection asked for no size as the 50 items it returns, so unsized nestings are refused', async () => {
    // The shape of the attack: four nested connections without `first`, joined by back-edges.
    const unsized =
      '{ masterFlows { edges { node { dataImports { edges { node { rawRecords { edges { node { dataImport { rawRecords { edges { node { id } } } } } } } } } } } } } }';
    const answer = await execute(app, tenant, unsized);
    expect(answer.errors?.map((error) => error.extensions?.code)).toEqual(['MAX_COST_EXCEEDED']);
    // The same with every size written as 50 costs exactly as much, and one connection without a size as
    // much as with `first: 50`.
    expect(cost(unsized)).toBe(cost(unsized.replaceAll(/(masterFlows|dataImports|rawRecords) \{/g, '$1(first: 50) {')));
    expect(cost('{ masterFlows { totalCount } }')).toBe(cost('{ masterFlows(first: 50) { totalCount } }'));
    expect(cost('{ masterFlows(first: null) { totalCount } }')).toBe(cost('{ masterFlows(first: 50) { totalCount } }'));
    expect(cost('{ masterFlows { totalCount } }')).toBe(50 * 3.5);
  });

  it('counts the ids of nodes(ids:), written or in a variable', () => {
    const ids = (n: number) => JSON.stringify(Array.from({ length: n }, (_unused, index) => `id${index}`));
    const written = (n: number) => cost(`{ nodes(ids: ${ids(n)}) { id } }`);
    expect(written(100)).toBe(10 * written(10));
    const inVariable = operationCost(schema, parse('query($ids: [ID!]!) { nodes(ids: $ids) { id } }'), undefined, { ids: JSON.parse(ids(100)) });
    expect(inVariable).toBe(written(100));
  });

  for (const [name, shape] of Object.entries(SHAPES)) {
    it(`admits ${name} only up to a bounded number of rows and statements`, async () => {
      const n = largestAdmitted(shape);
      expect(n).toBeGreaterThan(0);
      const admitted = await execute(app, tenant, shape(n), { subject });
      expect(admitted.errors).toBeUndefined();
      const rows = rowsIn(admitted.data);
      const statements = admitted.extensions?.sqlStatements ?? Number.NaN;
      console.log(`${name}: page size ${n}, cost ${Math.round(cost(shape(n)))}, ${rows} rows, ${statements} statements`);
      expect(rows).toBeGreaterThan(0);
      expect(rows).toBeLessThanOrEqual(MAX_ROWS);
      expect(statements).toBeLessThanOrEqual(MAX_STATEMENTS);
      if (n < DEFAULT_LIMITS.maxPageSize) {
        const refused = await execute(app, tenant, shape(n + 1), { subject });
        expect(refused.errors?.map((error) => error.extensions?.code)).toEqual(['MAX_COST_EXCEEDED']);
      }
    }, 60_000);
  }
});

describe.runIf(onPostgres)('compiled reads on PostgreSQL', () => {
  it('run without JIT compilation, even where the planner would JIT-compile them', async () => {
    // The largest compiled read the limits admit: every alias a page of flows with their records and counts.
    const query = `{ ${Array.from({ length: DEFAULT_LIMITS.maxAliases }, (_unused, index) =>
      `a${index}: masterFlows(first: 15) { totalCount edges { node { id rawRecordCount validRecordCount invalidRecordCount dataImportCount
        dataImports(first: 3) { totalCount edges { node { id rawRecords(first: 5) { totalCount edges { node { id rowNumber } } } } } }
        rawRecords(first: 5, isValid: false) { totalCount edges { node { id } } } discoveryFlows { id currentPhase } } } }`).join(' ')} }`;
    expect(cost(query)).toBeLessThanOrEqual(DEFAULT_LIMITS.maxCost);
    const read = compileRead({ schema, document: parse(query), variableValues: {} });
    const explain = `EXPLAIN (ANALYZE, FORMAT JSON) ${read.sql}`;
    const parameters = parametersFor(read, { clientAccountId: tenant.clientAccountId, engagementId: tenant.engagementId });
    type Plan = { 'QUERY PLAN': { JIT?: { Functions: number } }[] };
    // Whether PostgreSQL JIT-compiles a statement depends on its estimated cost, which depends on the data; on
    // this database every statement qualifies, for connections opened from now on.
    const [{ name }] = (await database.sql.query<{ name: string }>('SELECT current_database() AS name')) as [{ name: string }];
    await database.sql.query(`ALTER DATABASE "${name}" SET jit_above_cost = 0`);
    const plain = new pg.Client({ connectionString: database.connectionString });
    const served = await openDatabase({ databaseUrl: database.connectionString, poolSize: 1 });
    try {
      await plain.connect();
      // A connection with PostgreSQL's defaults compiles the statement …
      const compiledPlan = (await plain.query<Plan>(explain, parameters)).rows[0]!['QUERY PLAN'][0]!;
      expect(compiledPlan.JIT?.Functions).toBeGreaterThan(0);
      // … the server's connections do not, neither for compiled reads nor for Prisma's statements.
      expect((await served.read<Plan>(explain, parameters))[0]!['QUERY PLAN'][0]!.JIT).toBeUndefined();
      expect((await served.read<{ jit: string }>('SHOW jit', []))[0]!.jit).toBe('off');
      expect(await served.prisma.$queryRawUnsafe<{ jit: string }[]>('SHOW jit')).toEqual([{ jit: 'off' }]);
    } finally {
      await plain.end();
      await served.close();
      await database.sql.query(`ALTER DATABASE "${name}" RESET jit_above_cost`);
    }
    const answer = await execute(app, tenant, query);
    expect(answer.errors).toBeUndefined();
    expect(answer.extensions?.sqlStatements).toBe(1);
  }, 60_000);
});
