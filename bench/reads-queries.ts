// The three read queries of the benchmark, as each server is asked them, and how every response is checked.
//
//   (a) one master flow with its imports, its first 50 raw records and its discovery flow;
//   (b) masterFlows(first: 50) with their imports and discovery flows (and the total count);
//   (c) a page of 500 raw records of one master flow.
//
// flowgraph and the raw-SQL floor receive the same request (the floor dispatches on operationName and returns
// flowgraph's JSON shape); PostGraphile receives the equivalent query in its own schema's names. Every response
// is reduced to one canonical form and compared with what simple reference SELECTs read from the database, so
// a wrong, partial or error response fails the run, whichever server sent it.
import { isDeepStrictEqual } from 'node:util';
import type pg from 'pg';

export type QueryName = 'a' | 'b' | 'c';
export type ServerName = 'flowgraph' | 'postgraphile' | 'floor';

export const QUERY_NAMES: QueryName[] = ['a', 'b', 'c'];

export const QUERY_TITLES: Record<QueryName, string> = {
  a: '(a) one master flow + imports + first 50 raw records + discovery flow',
  b: '(b) masterFlows(first: 50) + imports + discovery flows',
  c: '(c) page of 500 raw records of one master flow',
};

export const PAGE = { a: 50, b: 50, c: 500 } as const;

export interface BenchTenant {
  clientAccountId: string;
  engagementId: string;
  userId: string;
}

export interface QueryContext {
  tenant: BenchTenant;
  /** Bearer token for flowgraph (src/auth): the tenant's claims, signed with the benchmark's secret. */
  token: string;
  /** The master flow of (a) and (c). */
  subjectFlowId: string;
}

/** One HTTP request, exactly as the load generator sends it. */
export interface BenchRequest {
  path: string;
  headers: Record<string, string>;
  body: string;
}

// ---------------------------------------------------------------------------------------------------------------
// flowgraph's documents (the floor answers the same ones).

const FLOWGRAPH_DOCUMENTS: Record<QueryName, string> = {
  a: `query ReadsA($flowId: UUID!) {
  masterFlow(flowId: $flowId) {
    flowId flowName flowType flowStatus flowConfiguration createdAt updatedAt
    dataImports { edges { node { dataImportId filename importType status totalRecords failedRecords createdAt } } }
    rawRecords(first: ${PAGE.a}) { pageInfo { hasNextPage } edges { node { rowNumber rawData isValid validationErrors } } }
    discoveryFlows { flowId status currentPhase progressPercentage }
  }
}`,
  b: `query ReadsB {
  masterFlows(first: ${PAGE.b}) {
    totalCount
    pageInfo { hasNextPage }
    edges { node {
      flowId flowName flowType flowStatus createdAt updatedAt
      dataImports { edges { node { dataImportId filename importType status totalRecords failedRecords createdAt } } }
      discoveryFlows { flowId status currentPhase progressPercentage }
    } }
  }
}`,
  c: `query ReadsC($flowId: UUID!) {
  masterFlow(flowId: $flowId) {
    rawRecords(first: ${PAGE.c}) {
      pageInfo { hasNextPage }
      edges { node { rowNumber rawData isValid validationErrors isProcessed createdAt } }
    }
  }
}`,
};

// PostGraphile v5 (Amber preset) names: tables become types, foreign keys become `<children>By<Column>`
// connections. Unique lookups by flow_id are not generated (only primary keys), so (a) and (c) read the flow
// through the collection with a condition, which also keeps them inside the tenant.
const IMPORT_FIELDS_PGL = 'rowId filename importType status totalRecords failedRecords createdAt';
const DISCOVERY_FIELDS_PGL = 'flowId status currentPhase progressPercentage';
const POSTGRAPHILE_DOCUMENTS: Record<QueryName, string> = {
  a: `query ReadsA($flowId: UUID!, $clientAccountId: UUID!, $engagementId: UUID!) {
  allCrewaiFlowStateExtensions(condition: { flowId: $flowId, clientAccountId: $clientAccountId, engagementId: $engagementId }) {
    nodes {
      flowId flowName flowType flowStatus flowConfiguration createdAt updatedAt
      dataImportsByMasterFlowId(orderBy: [CREATED_AT_ASC, ROW_ID_ASC]) { edges { node { ${IMPORT_FIELDS_PGL} } } }
      rawImportRecordsByMasterFlowId(first: ${PAGE.a}, orderBy: [DATA_IMPORT_ID_ASC, ROW_NUMBER_ASC]) {
        pageInfo { hasNextPage } edges { node { rowNumber rawData isValid validationErrors } }
      }
      discoveryFlowsByMasterFlowId { nodes { ${DISCOVERY_FIELDS_PGL} } }
    }
  }
}`,
  b: `query ReadsB($clientAccountId: UUID!, $engagementId: UUID!) {
  allCrewaiFlowStateExtensions(
    first: ${PAGE.b}
    condition: { clientAccountId: $clientAccountId, engagementId: $engagementId }
    orderBy: [CREATED_AT_DESC, FLOW_ID_DESC]
  ) {
    totalCount
    pageInfo { hasNextPage }
    edges { node {
      flowId flowName flowType flowStatus createdAt updatedAt
      dataImportsByMasterFlowId(orderBy: [CREATED_AT_ASC, ROW_ID_ASC]) { edges { node { ${IMPORT_FIELDS_PGL} } } }
      discoveryFlowsByMasterFlowId { nodes { ${DISCOVERY_FIELDS_PGL} } }
    } }
  }
}`,
  c: `query ReadsC($flowId: UUID!, $clientAccountId: UUID!, $engagementId: UUID!) {
  allCrewaiFlowStateExtensions(condition: { flowId: $flowId, clientAccountId: $clientAccountId, engagementId: $engagementId }) {
    nodes {
      rawImportRecordsByMasterFlowId(first: ${PAGE.c}, orderBy: [DATA_IMPORT_ID_ASC, ROW_NUMBER_ASC]) {
        pageInfo { hasNextPage } edges { node { rowNumber rawData isValid validationErrors isProcessed createdAt } }
      }
    }
  }
}`,
};

const OPERATION_NAMES: Record<QueryName, string> = { a: 'ReadsA', b: 'ReadsB', c: 'ReadsC' };

export function benchRequest(server: ServerName, query: QueryName, context: QueryContext): BenchRequest {
  const { tenant, subjectFlowId } = context;
  if (server === 'postgraphile') {
    const variables = {
      clientAccountId: tenant.clientAccountId,
      engagementId: tenant.engagementId,
      ...(query === 'b' ? {} : { flowId: subjectFlowId }),
    };
    return {
      path: '/graphql',
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ operationName: OPERATION_NAMES[query], query: POSTGRAPHILE_DOCUMENTS[query], variables }),
    };
  }
  return {
    path: '/graphql',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      // flowgraph verifies the token; the floor reads the tenant from the headers below.
      authorization: `Bearer ${context.token}`,
      'x-client-account-id': tenant.clientAccountId,
      'x-engagement-id': tenant.engagementId,
      'x-user-id': tenant.userId,
    },
    body: JSON.stringify({
      operationName: OPERATION_NAMES[query],
      query: FLOWGRAPH_DOCUMENTS[query],
      variables: query === 'b' ? {} : { flowId: subjectFlowId },
    }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The canonical form every response is reduced to.

interface CanonicalImport {
  id: string;
  filename: string;
  importType: string;
  status: string;
  totalRecords: number;
  failedRecords: number;
  createdAt: string;
}
interface CanonicalDiscovery {
  flowId: string;
  status: string;
  currentPhase: string | null;
  progressPercentage: number;
}
interface CanonicalRecord {
  rowNumber: number;
  rawData: unknown;
  isValid: boolean;
  validationErrors: unknown;
  isProcessed?: boolean;
  createdAt?: string;
}
interface CanonicalFlow {
  flowId: string;
  flowName: string | null;
  flowType: string;
  flowStatus: string;
  createdAt: string;
  updatedAt: string;
  flowConfiguration?: unknown;
  imports: CanonicalImport[];
  discovery: CanonicalDiscovery[];
  records?: CanonicalRecord[];
  recordsHasNextPage?: boolean;
}
export type Canonical =
  | { query: 'a'; flow: CanonicalFlow | null }
  | { query: 'b'; totalCount: number; hasNextPage: boolean; flows: CanonicalFlow[] }
  | { query: 'c'; hasNextPage: boolean; records: CanonicalRecord[] };

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any -- responses are checked field by field

const iso = (value: unknown): string => new Date(value as string | Date).toISOString();
const lower = (value: unknown): string | null => (value == null ? null : String(value).toLowerCase());

function canonicalImport(node: Json, idField: string): CanonicalImport {
  return {
    id: node[idField],
    filename: node.filename,
    importType: node.importType,
    status: lower(node.status)!,
    totalRecords: node.totalRecords,
    failedRecords: node.failedRecords,
    createdAt: iso(node.createdAt),
  };
}

function canonicalDiscovery(node: Json): CanonicalDiscovery {
  return {
    flowId: node.flowId,
    status: lower(node.status)!,
    currentPhase: lower(node.currentPhase),
    progressPercentage: Number(node.progressPercentage),
  };
}

function canonicalRecord(node: Json, full: boolean): CanonicalRecord {
  return {
    rowNumber: node.rowNumber,
    rawData: node.rawData,
    isValid: node.isValid,
    validationErrors: node.validationErrors ?? null,
    ...(full ? { isProcessed: node.isProcessed, createdAt: iso(node.createdAt) } : {}),
  };
}

function canonicalFlow(node: Json): Omit<CanonicalFlow, 'imports' | 'discovery'> {
  return {
    flowId: node.flowId,
    flowName: node.flowName,
    flowType: lower(node.flowType)!,
    flowStatus: lower(node.flowStatus)!,
    createdAt: iso(node.createdAt),
    updatedAt: iso(node.updatedAt),
  };
}

/** Reduces a response body to the canonical form; throws when it is not a successful response of that shape. */
export function canonicalize(server: ServerName, query: QueryName, body: string): Canonical {
  const response = JSON.parse(body) as Json;
  if (response.errors) throw new Error(`${server} answered (${query}) with errors: ${JSON.stringify(response.errors)}`);
  const data = response.data;
  if (!data) throw new Error(`${server} answered (${query}) without data`);

  if (server === 'postgraphile') {
    if (query === 'b') {
      const connection = data.allCrewaiFlowStateExtensions;
      return {
        query,
        totalCount: connection.totalCount,
        hasNextPage: connection.pageInfo.hasNextPage,
        flows: connection.edges.map(({ node }: Json) => ({
          ...canonicalFlow(node),
          imports: node.dataImportsByMasterFlowId.edges.map((edge: Json) => canonicalImport(edge.node, 'rowId')),
          discovery: node.discoveryFlowsByMasterFlowId.nodes.map(canonicalDiscovery),
        })),
      };
    }
    const nodes = data.allCrewaiFlowStateExtensions.nodes as Json[];
    if (nodes.length > 1) throw new Error(`postgraphile answered (${query}) with ${nodes.length} flows`);
    const node = nodes[0];
    if (query === 'c') {
      const records = node.rawImportRecordsByMasterFlowId;
      return { query, hasNextPage: records.pageInfo.hasNextPage, records: records.edges.map((e: Json) => canonicalRecord(e.node, true)) };
    }
    return {
      query,
      flow: node
        ? {
            ...canonicalFlow(node),
            flowConfiguration: node.flowConfiguration,
            imports: node.dataImportsByMasterFlowId.edges.map((edge: Json) => canonicalImport(edge.node, 'rowId')),
            records: node.rawImportRecordsByMasterFlowId.edges.map((e: Json) => canonicalRecord(e.node, false)),
            recordsHasNextPage: node.rawImportRecordsByMasterFlowId.pageInfo.hasNextPage,
            discovery: node.discoveryFlowsByMasterFlowId.nodes.map(canonicalDiscovery),
          }
        : null,
    };
  }

  // flowgraph and the floor
  if (query === 'b') {
    const connection = data.masterFlows;
    return {
      query,
      totalCount: connection.totalCount,
      hasNextPage: connection.pageInfo.hasNextPage,
      flows: connection.edges.map(({ node }: Json) => ({
        ...canonicalFlow(node),
        imports: node.dataImports.edges.map((edge: Json) => canonicalImport(edge.node, 'dataImportId')),
        discovery: node.discoveryFlows.map(canonicalDiscovery),
      })),
    };
  }
  const node = data.masterFlow;
  if (query === 'c') {
    const records = node.rawRecords;
    return { query, hasNextPage: records.pageInfo.hasNextPage, records: records.edges.map((e: Json) => canonicalRecord(e.node, true)) };
  }
  return {
    query,
    flow: node
      ? {
          ...canonicalFlow(node),
          flowConfiguration: node.flowConfiguration,
          imports: node.dataImports.edges.map((edge: Json) => canonicalImport(edge.node, 'dataImportId')),
          records: node.rawRecords.edges.map((e: Json) => canonicalRecord(e.node, false)),
          recordsHasNextPage: node.rawRecords.pageInfo.hasNextPage,
          discovery: node.discoveryFlows.map(canonicalDiscovery),
        }
      : null,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// What the answers must be: read with plain, separate SELECTs (no JSON aggregation, no GraphQL), assembled here.

async function importsOf(client: pg.ClientBase, flowIds: string[]): Promise<Map<string, CanonicalImport[]>> {
  const { rows } = await client.query(
    `SELECT master_flow_id, id, filename, import_type, status, total_records, failed_records, created_at
       FROM data_imports WHERE master_flow_id = ANY($1::uuid[]) ORDER BY created_at, id`,
    [flowIds],
  );
  const byFlow = new Map<string, CanonicalImport[]>(flowIds.map((id) => [id, []]));
  for (const row of rows) {
    byFlow.get(row.master_flow_id)!.push({
      id: row.id, filename: row.filename, importType: row.import_type, status: row.status, totalRecords: row.total_records,
      failedRecords: row.failed_records, createdAt: iso(row.created_at),
    });
  }
  return byFlow;
}

async function discoveryOf(client: pg.ClientBase, flowIds: string[]): Promise<Map<string, CanonicalDiscovery[]>> {
  const { rows } = await client.query(
    `SELECT master_flow_id, flow_id, status, current_phase, progress_percentage
       FROM discovery_flows WHERE master_flow_id = ANY($1::uuid[]) ORDER BY created_at, id`,
    [flowIds],
  );
  const byFlow = new Map<string, CanonicalDiscovery[]>(flowIds.map((id) => [id, []]));
  for (const row of rows) {
    byFlow.get(row.master_flow_id)!.push({
      flowId: row.flow_id, status: row.status, currentPhase: row.current_phase, progressPercentage: Number(row.progress_percentage),
    });
  }
  return byFlow;
}

async function recordsOf(client: pg.ClientBase, flowId: string, first: number, full: boolean) {
  const { rows } = await client.query(
    `SELECT row_number, raw_data, is_valid, validation_errors, is_processed, created_at
       FROM raw_import_records WHERE master_flow_id = $1 ORDER BY data_import_id, row_number LIMIT $2`,
    [flowId, first + 1],
  );
  return {
    hasNextPage: rows.length > first,
    records: rows.slice(0, first).map((row): CanonicalRecord => ({
      rowNumber: row.row_number, rawData: row.raw_data, isValid: row.is_valid, validationErrors: row.validation_errors,
      ...(full ? { isProcessed: row.is_processed, createdAt: iso(row.created_at) } : {}),
    })),
  };
}

function flowRow(row: Json): Omit<CanonicalFlow, 'imports' | 'discovery'> {
  return {
    flowId: row.flow_id, flowName: row.flow_name, flowType: row.flow_type, flowStatus: row.flow_status,
    createdAt: iso(row.created_at), updatedAt: iso(row.updated_at),
  };
}

export async function expectedAnswer(client: pg.ClientBase, query: QueryName, context: QueryContext): Promise<Canonical> {
  const { tenant, subjectFlowId } = context;
  if (query === 'c') return { query, ...(await recordsOf(client, subjectFlowId, PAGE.c, true)) };
  if (query === 'a') {
    const { rows } = await client.query(
      `SELECT * FROM crewai_flow_state_extensions WHERE flow_id = $1 AND client_account_id = $2 AND engagement_id = $3`,
      [subjectFlowId, tenant.clientAccountId, tenant.engagementId],
    );
    if (!rows[0]) return { query, flow: null };
    const records = await recordsOf(client, subjectFlowId, PAGE.a, false);
    return {
      query,
      flow: {
        ...flowRow(rows[0]),
        flowConfiguration: rows[0].flow_configuration,
        imports: (await importsOf(client, [subjectFlowId])).get(subjectFlowId)!,
        records: records.records,
        recordsHasNextPage: records.hasNextPage,
        discovery: (await discoveryOf(client, [subjectFlowId])).get(subjectFlowId)!,
      },
    };
  }
  const where = 'client_account_id = $1 AND engagement_id = $2';
  const params = [tenant.clientAccountId, tenant.engagementId];
  const count = await client.query(`SELECT count(*)::int AS n FROM crewai_flow_state_extensions WHERE ${where}`, params);
  const { rows } = await client.query(
    `SELECT * FROM crewai_flow_state_extensions WHERE ${where} ORDER BY created_at DESC, flow_id DESC LIMIT ${PAGE.b + 1}`,
    params,
  );
  const page = rows.slice(0, PAGE.b);
  const ids = page.map((row) => row.flow_id as string);
  const imports = await importsOf(client, ids);
  const discovery = await discoveryOf(client, ids);
  return {
    query,
    totalCount: count.rows[0].n,
    hasNextPage: rows.length > PAGE.b,
    flows: page.map((row) => ({ ...flowRow(row), imports: imports.get(row.flow_id)!, discovery: discovery.get(row.flow_id)! })),
  };
}

/** Throws, naming the first difference, unless `body` is a correct answer. */
export function checkBody(server: ServerName, query: QueryName, body: string, expected: Canonical): void {
  const actual = canonicalize(server, query, body);
  if (isDeepStrictEqual(actual, expected)) return;
  throw new Error(`${server} answered (${query}) wrongly: ${firstDifference(expected, actual, '')}\nbody: ${body.slice(0, 500)}`);
}

function firstDifference(expected: unknown, actual: unknown, path: string): string {
  if (typeof expected !== 'object' || expected === null || typeof actual !== 'object' || actual === null) {
    return `${path || 'value'}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`;
  }
  const keys = new Set([...Object.keys(expected), ...Object.keys(actual)]);
  for (const key of keys) {
    const e = (expected as Record<string, unknown>)[key];
    const a = (actual as Record<string, unknown>)[key];
    if (!isDeepStrictEqual(e, a)) return firstDifference(e, a, `${path}.${key}`);
  }
  return `${path}: differs`;
}
