// The compiled read path (src/graphql/compiled-reads/) answers exactly as the Pothos resolvers do. Every
// operation below runs on two apps over the same database, one with compiled reads and one without, and the
// responses must be the same, value for value (key order aside: with fragments, graphql-jit orders keys its
// own way, the compiled path in the spec's field-collection order); the compiled app must also have answered
// with one statement and counted the operation as compiled (or, for what the compiler does not cover, as
// answered by the resolvers).
import { readFileSync } from 'node:fs';
import { parse, visit } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.ts';
import type { Viewer } from '../src/context.ts';
import { MAX_PREPARED_READS, preparedNames, type Database } from '../src/db/database.ts';
import { READ_MODEL } from '../src/graphql/compiled-reads/read-model.ts';
import { createFlowGraph, newTenant } from './support/factories.ts';
import { execute, testApp } from './support/graphql.ts';
import { testDatabase } from './support/test-database.ts';

let database: Database;
let compiled: App;
let reference: App;
let tenant: Viewer;
let other: Viewer;
const flows: string[] = [];
let otherFlow: string;

const MASTER_FLOW_FIELDS = `
  __typename id flowId clientAccountId engagementId userId flowType flowName flowStatus flowConfiguration errorHistory
  retryCount parentFlowId version createdAt updatedAt dataImportCount rawRecordCount validRecordCount invalidRecordCount`;
const DATA_IMPORT_FIELDS = `
  __typename id dataImportId importName importType importCategory filename fileSize mimeType sourceSystem status
  progressPercentage totalRecords processedRecords failedRecords processingConfig importedBy errorMessage startedAt
  completedAt createdAt updatedAt`;
const RAW_RECORD_FIELDS = `
  __typename id rowNumber rawData cleansedData isValid validationErrors processingNotes isProcessed createdAt processedAt`;
const DISCOVERY_FLOW_FIELDS = `
  __typename id flowId userId flowName status currentPhase progressPercentage errorMessage createdAt updatedAt completedAt
  phases { __typename phase completed completedAt }`;
const PAGE_INFO = 'pageInfo { __typename hasNextPage hasPreviousPage startCursor endCursor }';

/** Every field the compiler covers, at every place it can appear. */
const EVERYTHING = `
query Everything($first: Int, $orderBy: MasterFlowOrder, $filter: MasterFlowFilter, $records: Int, $valid: Boolean) {
  __typename
  masterFlows(first: $first, orderBy: $orderBy, filter: $filter) {
    __typename totalCount ${PAGE_INFO}
    edges { __typename cursor node {
      ${MASTER_FLOW_FIELDS}
      dataImports(first: 2) {
        __typename totalCount ${PAGE_INFO}
        edges { __typename cursor node {
          ${DATA_IMPORT_FIELDS}
          rawRecords(first: $records, isValid: $valid) { __typename totalCount ${PAGE_INFO} edges { __typename cursor node { ${RAW_RECORD_FIELDS} } } }
        } }
      }
      rawRecords(first: $records, isValid: $valid) { totalCount ${PAGE_INFO} edges { cursor node { ${RAW_RECORD_FIELDS} } } }
      discoveryFlows { ${DISCOVERY_FLOW_FIELDS} }
    } }
  }
}`;

const ONE_FLOW = `
query OneFlow($flowId: UUID!, $withImports: Boolean!, $skipRecords: Boolean!) {
  flow: masterFlow(flowId: $flowId) {
    ...FlowFields
    ... on Node { id }
    ... on MasterFlow { again: flowName }
    imports: dataImports @include(if: $withImports) { edges { node { ...ImportFields } } }
    rawRecords(first: 3) @skip(if: $skipRecords) { edges { node { rowNumber } } }
    rawRecords(first: 3) @skip(if: $skipRecords) { edges { cursor node { isValid } } }
  }
  same: masterFlow(flowId: $flowId) { flowId discoveryFlows { status } }
}
fragment FlowFields on MasterFlow { flowId flowName createdAt discoveryFlows { ...DiscoveryFields } }
fragment ImportFields on DataImport { filename fileSize ... on Node { id } }
fragment DiscoveryFields on DiscoveryFlow { currentPhase progressPercentage }`;

async function pathCount(app: App, path: string): Promise<number> {
  const metric = await app.metrics.queryPaths.get();
  return metric.values.find((value) => value.labels.path === path)?.value ?? 0;
}

/** Runs the operation on both apps: same response, and the compiled app took `expectedPath`. */
async function expectSameAnswer(
  query: string,
  variables: Record<string, unknown>,
  expectedPath: 'compiled' | 'resolvers' | 'fallback' = 'compiled',
  viewer: Viewer = tenant,
) {
  const before = await pathCount(compiled, expectedPath);
  const fast = await execute(compiled, viewer, query, variables);
  const slow = await execute(reference, viewer, query, variables);
  expect(await pathCount(compiled, expectedPath)).toBe(before + 1);
  // One statement; none for an operation that reads nothing (`{ __typename }`).
  if (expectedPath === 'compiled') expect(fast.extensions?.sqlStatements).toBe(/^\{\s*__typename\s*\}$/.test(query.trim()) ? 0 : 1);
  const { extensions: _fast, ...fastAnswer } = fast;
  const { extensions: _slow, ...slowAnswer } = slow;
  expect(fastAnswer).toStrictEqual(slowAnswer);
  return fast;
}

beforeAll(async () => {
  database = await testDatabase();
  // EVERYTHING at page sizes of 50 costs more than the default limit admits (test/query-cost.test.ts tests it).
  const limits = { maxCost: 100_000_000 };
  compiled = testApp(database, { debugSql: true, limits });
  reference = testApp(database, { debugSql: true, compiledReads: false, limits });
  tenant = newTenant();
  other = newTenant();
  const base = new Date('2026-03-01T10:00:00.000Z');
  const specs = [
    { flowName: 'alpha', imports: 2, recordsPerImport: 5, invalidRows: [2, 4], completedPhases: 1 },
    { flowName: 'bravo', imports: 0, completedPhases: 5, flowStatus: 'completed' },
    { flowName: 'charlie', imports: 3, recordsPerImport: 2, flowType: 'assessment', flowStatus: 'paused' },
    { flowName: 'delta', imports: 1, recordsPerImport: 7, invalidRows: [7], completedPhases: 3, flowStatus: 'failed' },
    { flowName: 'echo', imports: 1, recordsPerImport: 1, completedPhases: 2, flowStatus: 'initialized' },
    { flowName: 'foxtrot', imports: 2, recordsPerImport: 3, completedPhases: 4 },
  ];
  for (const [index, spec] of specs.entries()) {
    // Two pairs share a creation time: the flow id must break the tie the same way on both paths.
    const createdAt = new Date(base.getTime() + Math.floor(index / 2) * 60_000);
    flows.push((await createFlowGraph(database.prisma, tenant, { ...spec, createdAt })).flowId);
  }
  otherFlow = (await createFlowGraph(database.prisma, other, { flowName: 'other tenant', imports: 2 })).flowId;
  // Values the factory does not vary: unnamed flows (sorted last by name), microseconds (cut to
  // milliseconds), a bigint file size, JSON with nesting and unicode, nullable columns set.
  await database.sql.query(`UPDATE crewai_flow_state_extensions SET flow_name = NULL, updated_at = updated_at + interval '987 microseconds'
    WHERE flow_id = ANY($1::uuid[])`, [[flows[1], flows[4]]]);
  await database.sql.query(`UPDATE data_imports SET file_size = 9007199254740991, mime_type = 'text/csv', import_category = 'cmdb',
    started_at = '1969-12-31T23:59:59.9995Z', completed_at = now(), error_message = 'ünïcode ✓', processing_config = '{"delimiter": ";", "nested": {"a": [1, 2.5, null, "x"]}}'
    WHERE master_flow_id = $1::uuid`, [flows[0]]);
  await database.sql.query(`UPDATE raw_import_records SET cleansed_data = '{"hostname": "h"}', processing_notes = 'n', is_processed = true,
    processed_at = '2026-03-01T10:00:00.123456Z' WHERE master_flow_id = $1::uuid AND row_number = 1`, [flows[0]]);
  await database.sql.query(`UPDATE crewai_flow_state_extensions SET error_history = '[{"at": "x", "error": "boom"}]', retry_count = 2,
    parent_flow_id = $2::uuid, flow_configuration = '{"k": [true, false, {"deep": "é"}]}' WHERE flow_id = $1::uuid`, [flows[3], flows[0]]);
  await database.sql.query(`UPDATE discovery_flows SET error_message = 'failed here', completed_at = now() WHERE master_flow_id = $1::uuid`, [flows[3]]);
});

afterAll(async () => {
  await compiled?.stop();
  await reference?.stop();
});

describe('compiled reads', () => {
  it('the test documents select every field the compiler covers', () => {
    const selected = new Set<string>();
    for (const document of [EVERYTHING, ONE_FLOW]) {
      visit(parse(document), { Field: (node) => void selected.add(node.name.value) });
    }
    const covered = Object.values(READ_MODEL).flatMap((model) => Object.keys(model.fields));
    expect(covered.filter((field) => !selected.has(field))).toEqual([]);
  });

  it('answer like the resolvers for every ordering, page size and filter', async () => {
    const orderings = ['CREATED_AT_DESC', 'CREATED_AT_ASC', 'UPDATED_AT_DESC', 'UPDATED_AT_ASC', 'NAME_ASC', 'NAME_DESC'];
    for (const orderBy of orderings) {
      const result = await expectSameAnswer(EVERYTHING, { orderBy, first: 4, records: 2 });
      expect(result.errors).toBeUndefined();
      expect((result.data as { masterFlows: { totalCount: number } }).masterFlows.totalCount).toBe(6);
    }
    for (const first of [0, 1, 6, 7, null]) await expectSameAnswer(EVERYTHING, { first, records: first });
    for (const valid of [true, false]) await expectSameAnswer(EVERYTHING, { valid, records: 1 });
    const filters = [
      { flowTypes: ['ASSESSMENT'] },
      { statuses: ['RUNNING', 'PAUSED'] },
      { flowTypes: ['DISCOVERY'], statuses: ['FAILED', 'COMPLETED'] },
      { flowTypes: [] },
      { statuses: null },
    ];
    for (const filter of filters) await expectSameAnswer(EVERYTHING, { filter, orderBy: 'NAME_ASC' });
    // Operations that read no table at all, or not every argument they pass.
    await expectSameAnswer('{ __typename }', {});
    await expectSameAnswer('{ masterFlows(first: 1) { __typename pageInfo { hasPreviousPage } } }', {});
    await expectSameAnswer('{ masterFlows(filter: { flowTypes: [DISCOVERY] }) { __typename } }', {});
    await expectSameAnswer(
      `query($flowId: UUID!) { masterFlow(flowId: $flowId) { rawRecords(isValid: true) { pageInfo { hasPreviousPage } } } }`,
      { flowId: flows[0] },
    );
  });

  it('answer like the resolvers with aliases, fragments, directives, and for missing or foreign flows', async () => {
    for (const flowId of [...flows, otherFlow, '00000000-0000-4000-8000-000000000000']) {
      for (const [withImports, skipRecords] of [[true, false], [false, true]]) {
        await expectSameAnswer(ONE_FLOW, { flowId, withImports, skipRecords });
      }
    }
    const foreign = await expectSameAnswer(ONE_FLOW, { flowId: otherFlow, withImports: true, skipRecords: false });
    expect((foreign.data as { flow: unknown }).flow).toBeNull();
  });

  it('page after a cursor like the resolvers, to the end, and with cursors of other tenants or of nothing', async () => {
    const query = `query Page($first: Int, $after: String, $orderBy: MasterFlowOrder, $records: Int, $recordsAfter: String) {
      masterFlows(first: $first, after: $after, orderBy: $orderBy) {
        totalCount ${PAGE_INFO}
        edges { cursor node { flowName rawRecords(first: $records, after: $recordsAfter) { ${PAGE_INFO} edges { cursor node { rowNumber } } } } }
      }
    }`;
    for (const orderBy of ['CREATED_AT_DESC', 'CREATED_AT_ASC', 'UPDATED_AT_DESC', 'UPDATED_AT_ASC']) {
      let after: string | null = null;
      let pages = 0;
      for (;;) {
        const page = await expectSameAnswer(query, { first: 2, after, orderBy, records: 2 });
        const { pageInfo } = (page.data as { masterFlows: { pageInfo: { hasNextPage: boolean; endCursor: string | null } } }).masterFlows;
        pages += 1;
        if (!pageInfo.hasNextPage) break;
        after = pageInfo.endCursor;
      }
      expect(pages).toBe(3);
    }
    // A nested page after a cursor: the second page of the first flow's raw records.
    const first = await execute(compiled, tenant, query, { first: 1, orderBy: 'CREATED_AT_ASC', records: 2 });
    const recordsAfter = (first.data as { masterFlows: { edges: { node: { rawRecords: { pageInfo: { endCursor: string } } } }[] } })
      .masterFlows.edges[0]!.node.rawRecords.pageInfo.endCursor;
    await expectSameAnswer(query, { first: 1, orderBy: 'CREATED_AT_ASC', records: 2, recordsAfter });
    // A cursor naming another tenant's flow, and one naming no flow at all.
    const foreign = await execute(compiled, other, query, { first: 1 });
    const foreignCursor = (foreign.data as { masterFlows: { pageInfo: { endCursor: string } } }).masterFlows.pageInfo.endCursor;
    await expectSameAnswer(query, { first: 2, after: foreignCursor });
    const nowhere = Buffer.from('GPC:S:00000000-0000-4000-8000-000000000000').toString('base64');
    await expectSameAnswer(query, { first: 2, after: nowhere });
    await expectSameAnswer('query($after: String) { masterFlows(after: $after) { totalCount } }', { after: nowhere });
    // Orders over a nullable column, malformed cursors and backward pages stay with the resolvers.
    await expectSameAnswer(query, { first: 2, after: nowhere, orderBy: 'NAME_ASC' }, 'resolvers');
    await expectSameAnswer(query, { first: 2, after: 'not a cursor' }, 'resolvers');
  });

  it('treat a cursor of another flow, import or tenant like a missing one, on both paths', async () => {
    const flowPage = `query Records($flowId: UUID!, $after: String, $valid: Boolean) {
      masterFlow(flowId: $flowId) {
        rawRecords(first: 2, after: $after, isValid: $valid) { ${PAGE_INFO} edges { cursor node { rowNumber } } }
        dataImports(first: 1) { edges { node { rawRecords(first: 2, after: $after, isValid: $valid) { ${PAGE_INFO} edges { cursor node { rowNumber } } } } } }
      }
    }`;
    const recordCursor = async (viewer: Viewer, flowId: string, valid: boolean | null = null) => {
      const answer = await execute(reference, viewer, flowPage, { flowId, valid });
      return (answer.data as { masterFlow: { rawRecords: { edges: { cursor: string }[] } } }).masterFlow.rawRecords.edges[0]!.cursor;
    };
    const nowhere = Buffer.from('GPC:S:00000000-0000-4000-8000-000000000000').toString('base64');
    const missing = await expectSameAnswer(flowPage, { flowId: flows[0], after: nowhere });
    const empty = (result: typeof missing) => JSON.stringify(result.data);
    for (const [what, after] of [
      ['another flow of the tenant', await recordCursor(tenant, flows[3]!)],
      ['another tenant', await recordCursor(other, otherFlow)],
    ] as const) {
      const answer = await expectSameAnswer(flowPage, { flowId: flows[0], after });
      expect({ what, data: empty(answer) }).toEqual({ what, data: empty(missing) });
    }
    // A cursor of a row of the flow that the filter excludes: no position either, on both paths.
    const invalidCursor = await recordCursor(tenant, flows[0]!, false);
    await expectSameAnswer(flowPage, { flowId: flows[0], after: invalidCursor, valid: true });
    // masterFlows after another tenant's flow: no rows, as after a flow that does not exist, whatever the order.
    const page = `query Flows($after: String, $orderBy: MasterFlowOrder) { masterFlows(first: 3, after: $after, orderBy: $orderBy) { totalCount ${PAGE_INFO} edges { node { flowName createdAt } } } }`;
    const foreign = Buffer.from(`GPC:S:${otherFlow}`).toString('base64');
    for (const orderBy of ['CREATED_AT_DESC', 'CREATED_AT_ASC', 'UPDATED_AT_ASC', 'NAME_ASC']) {
      const path = orderBy === 'NAME_ASC' ? 'resolvers' : 'compiled';
      const fromForeign = await expectSameAnswer(page, { after: foreign, orderBy }, path);
      const fromNowhere = await expectSameAnswer(page, { after: nowhere, orderBy }, path);
      expect(fromForeign).toEqual(fromNowhere);
      expect((fromForeign.data as { masterFlows: { edges: unknown[] } }).masterFlows.edges).toEqual([]);
    }
  });

  it('refuse a __proto__ alias the same way on both paths, for queries and mutations, and keep other aliases', async () => {
    const operations = [
      '{ __proto__: masterFlows(first: 1) { totalCount } }',
      '{ masterFlows(first: 1) { edges { node { __proto__: flowName } } } }',
      '{ masterFlows(first: 1) { edges { node { phaseTransitions { __proto__: to } } } } }',
      `mutation { __proto__: startMasterFlow(flowId: "${flows[0]}", version: 1) { __typename } }`,
    ];
    for (const query of operations) {
      const fast = await execute(compiled, tenant, query);
      const slow = await execute(reference, tenant, query);
      expect(fast).toStrictEqual(slow);
      expect(fast.errors).toEqual([
        { message: expect.stringMatching(/^The alias "__proto__" is reserved/), locations: expect.any(Array), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } },
      ]);
    }
    // Other names of Object.prototype are plain keys on both paths (compared as text: an own `constructor`
    // property confuses a deep equality check).
    const keptQuery = '{ constructor: masterFlows(first: 1) { toString: totalCount hasOwnProperty: totalCount } }';
    const kept = await execute(compiled, tenant, keptQuery);
    expect(JSON.stringify(kept.data)).toBe(JSON.stringify((await execute(reference, tenant, keptQuery)).data));
    expect(JSON.stringify(kept.data)).toBe('{"constructor":{"toString":6,"hasOwnProperty":6}}');
  });

  it("answer the dashboard's flows table, its first page and the next, like the resolvers", async () => {
    const table = readFileSync(new URL('../dashboard/operations/flows.graphql', import.meta.url), 'utf8');
    const first = await expectSameAnswer(table, { first: 4, filter: { statuses: ['RUNNING', 'PAUSED', 'FAILED', 'COMPLETED'] } });
    const after = (first.data as { masterFlows: { pageInfo: { endCursor: string } } }).masterFlows.pageInfo.endCursor;
    await expectSameAnswer(table, { first: 4, after });
  });

  it('keep each tenant to its own rows', async () => {
    const mine = await expectSameAnswer(EVERYTHING, { first: 50 });
    const theirs = await expectSameAnswer(EVERYTHING, { first: 50 }, 'compiled', other);
    const names = (result: typeof mine) =>
      (result.data as { masterFlows: { edges: { node: { flowName: string | null } }[] } }).masterFlows.edges.map((edge) => edge.node.flowName);
    expect(names(theirs)).toEqual(['other tenant']);
    expect(names(mine)).not.toContain('other tenant');
  });

  it('leave what they do not cover to the resolvers, with the same answer', async () => {
    const page = await execute(compiled, tenant, 'query { masterFlows(first: 2) { pageInfo { endCursor } } }');
    const after = (page.data as { masterFlows: { pageInfo: { endCursor: string } } }).masterFlows.pageInfo.endCursor;
    const outside = [
      ['query($before: String) { masterFlows(last: 2, before: $before) { edges { node { flowName } } } }', { before: after }],
      ['query { masterFlows(last: 2) { edges { node { flowName } } } }', {}],
      ['query { masterFlows { edges { node { flowName phaseTransitions { to } } } } }', {}],
      ['query { masterFlows { edges { node { dataImports { edges { node { masterFlow { flowId } } } } } } } }', {}],
      ['query { viewer { userId } masterFlows { totalCount } }', {}],
    ] as const;
    for (const [query, variables] of outside) await expectSameAnswer(query, variables, 'resolvers');
    // A caller without a role is refused by the resolvers' role check, not answered by the compiled path.
    await expectSameAnswer('query { masterFlows { totalCount } }', {}, 'resolvers', { ...tenant, roles: [] } as Viewer);
  });

  it('let the resolvers answer, with their errors, when a stored value does not fit its GraphQL type', async () => {
    const owner = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, owner, { imports: 1 });
    // Beyond SafeInt: the field refuses it, whichever path reads it.
    await database.sql.query('UPDATE data_imports SET file_size = 9007199254740993 WHERE master_flow_id = $1::uuid', [flowId]);
    const query = 'query($flowId: UUID!) { masterFlow(flowId: $flowId) { flowName dataImports { edges { node { fileSize } } } } }';
    const result = await expectSameAnswer(query, { flowId }, 'fallback', owner);
    expect(result.errors?.[0]?.path).toEqual(['masterFlow', 'dataImports', 'edges', 0, 'node', 'fileSize']);
  });

  it('are prepared by name, the same statement under the same name, up to a bounded number of statements', () => {
    const nameOf = preparedNames();
    const names = Array.from({ length: MAX_PREPARED_READS }, (_unused, index) => nameOf(`SELECT ${index}`));
    expect(new Set(names).size).toBe(MAX_PREPARED_READS);
    expect(names.every((name) => /^flowgraph_read_[0-9a-f]{32}$/.test(name ?? ''))).toBe(true);
    expect(nameOf('SELECT 0')).toBe(names[0]);
    expect(nameOf(`SELECT ${MAX_PREPARED_READS}`)).toBeUndefined();
    expect(nameOf(`SELECT ${MAX_PREPARED_READS - 1}`)).toBe(names.at(-1));
  });
});
