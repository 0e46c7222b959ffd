// The floor of the read benchmark: what the three queries cost when written by hand. A bare node:http handler
// runs one SQL statement per request that builds the whole response (json_build_object / json_agg) inside
// PostgreSQL, and writes that text straight out: no GraphQL, no ORM, no JSON parsing of the result.
//
// It accepts flowgraph's requests (same path, headers and body) and answers in flowgraph's JSON shape, so the
// load generator and the body checks treat both alike. It dispatches on `operationName` and ignores the query
// text: it answers exactly the three documents of bench/reads-queries.ts and nothing else.
//
// Environment: DATABASE_URL, PORT (0 = any), POOL_SIZE. Prints `listening on <port>` when ready.
// GET /__bench/statements returns how many SQL statements it has sent so far.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { PAGE } from './reads-queries.ts';

// The same text as flowgraph's DateTime scalar (Date#toISOString).
const iso = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const IMPORTS = (flow: string) => `json_build_object('edges', coalesce((
    SELECT json_agg(json_build_object('node', json_build_object(
             'dataImportId', d.id, 'filename', d.filename, 'importType', d.import_type, 'status', upper(d.status),
             'totalRecords', d.total_records, 'failedRecords', d.failed_records, 'createdAt', ${iso('d.created_at')}))
           ORDER BY d.created_at, d.id)
      FROM data_imports d WHERE d.master_flow_id = ${flow}), '[]'))`;

const DISCOVERY_FLOWS = (flow: string) => `coalesce((
    SELECT json_agg(json_build_object(
             'flowId', f.flow_id, 'status', upper(f.status), 'currentPhase', upper(f.current_phase),
             'progressPercentage', f.progress_percentage)
           ORDER BY f.created_at, f.id)
      FROM discovery_flows f WHERE f.master_flow_id = ${flow}), '[]')`;

/** A page of raw records: fetch one more than asked to learn whether there is a next page. */
const RAW_RECORDS = (flow: string, first: number, fields: string) => `(
    SELECT json_build_object(
             'pageInfo', json_build_object('hasNextPage', count(*) > ${first}),
             'edges', coalesce(json_agg(json_build_object('node', json_build_object(${fields}))
                                        ORDER BY r.data_import_id, r.row_number) FILTER (WHERE r.n <= ${first}), '[]'))
      FROM (SELECT r.*, row_number() OVER (ORDER BY r.data_import_id, r.row_number) AS n
              FROM raw_import_records r WHERE r.master_flow_id = ${flow}
             ORDER BY r.data_import_id, r.row_number LIMIT ${first + 1}) r)`;

const SQL: Record<string, string> = {
  // $1 flow id, $2 client account, $3 engagement
  ReadsA: `SELECT json_build_object('data', json_build_object('masterFlow', (
    SELECT json_build_object(
             'flowId', m.flow_id, 'flowName', m.flow_name, 'flowType', upper(m.flow_type), 'flowStatus', upper(m.flow_status),
             'flowConfiguration', m.flow_configuration, 'createdAt', ${iso('m.created_at')}, 'updatedAt', ${iso('m.updated_at')},
             'dataImports', ${IMPORTS('m.flow_id')},
             'rawRecords', ${RAW_RECORDS('m.flow_id', PAGE.a, `'rowNumber', r.row_number, 'rawData', r.raw_data, 'isValid', r.is_valid, 'validationErrors', r.validation_errors`)},
             'discoveryFlows', ${DISCOVERY_FLOWS('m.flow_id')})
      FROM crewai_flow_state_extensions m
     WHERE m.flow_id = $1 AND m.client_account_id = $2 AND m.engagement_id = $3)))::text AS body`,
  // $1 client account, $2 engagement
  ReadsB: `WITH page AS (
    SELECT * FROM crewai_flow_state_extensions
     WHERE client_account_id = $1 AND engagement_id = $2
     ORDER BY created_at DESC, flow_id DESC LIMIT ${PAGE.b + 1})
  SELECT json_build_object('data', json_build_object('masterFlows', json_build_object(
    'totalCount', (SELECT count(*) FROM crewai_flow_state_extensions WHERE client_account_id = $1 AND engagement_id = $2),
    'pageInfo', json_build_object('hasNextPage', (SELECT count(*) FROM page) > ${PAGE.b}),
    'edges', coalesce((
      SELECT json_agg(json_build_object('node', json_build_object(
               'flowId', m.flow_id, 'flowName', m.flow_name, 'flowType', upper(m.flow_type), 'flowStatus', upper(m.flow_status),
               'createdAt', ${iso('m.created_at')}, 'updatedAt', ${iso('m.updated_at')},
               'dataImports', ${IMPORTS('m.flow_id')},
               'discoveryFlows', ${DISCOVERY_FLOWS('m.flow_id')}))
             ORDER BY m.created_at DESC, m.flow_id DESC)
        FROM (SELECT * FROM page ORDER BY created_at DESC, flow_id DESC LIMIT ${PAGE.b}) m), '[]'))))::text AS body`,
  // $1 flow id, $2 client account, $3 engagement
  ReadsC: `SELECT json_build_object('data', json_build_object('masterFlow', (
    SELECT json_build_object('rawRecords', ${RAW_RECORDS('m.flow_id', PAGE.c, `'rowNumber', r.row_number, 'rawData', r.raw_data, 'isValid', r.is_valid, 'validationErrors', r.validation_errors, 'isProcessed', r.is_processed, 'createdAt', ${iso('r.created_at')}`)})
      FROM crewai_flow_state_extensions m
     WHERE m.flow_id = $1 AND m.client_account_id = $2 AND m.engagement_id = $3)))::text AS body`,
};

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_SIZE ?? 10) });
pool.on('error', (error) => console.error('pool error', error));
let statements = 0;

function reply(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function header(req: IncomingMessage, name: string): string {
  const value = req.headers[name];
  return typeof value === 'string' ? value : '';
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method === 'GET' && req.url === '/__bench/statements') return reply(res, 200, JSON.stringify({ statements }));
  if (req.method !== 'POST' || req.url !== '/graphql') return reply(res, 404, '{"errors":[{"message":"not found"}]}');
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { operationName?: string; variables?: { flowId?: string } };
  const sql = SQL[request.operationName ?? ''];
  if (!sql) return reply(res, 400, '{"errors":[{"message":"the floor answers ReadsA, ReadsB and ReadsC only"}]}');
  const clientAccountId = header(req, 'x-client-account-id');
  const engagementId = header(req, 'x-engagement-id');
  const params = request.operationName === 'ReadsB' ? [clientAccountId, engagementId] : [request.variables?.flowId, clientAccountId, engagementId];
  statements += 1;
  // Named: each connection parses and plans it once (a prepared statement), as a hand-tuned service would.
  const { rows } = await pool.query<{ body: string }>({ name: request.operationName, text: sql, values: params });
  reply(res, 200, rows[0]!.body);
}

const server = createServer((req, res) => {
  handle(req, res).catch((error: unknown) => {
    console.error(error);
    if (!res.headersSent) reply(res, 500, JSON.stringify({ errors: [{ message: String(error) }] }));
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening on ${(server.address() as AddressInfo).port}`);
});

const stop = () => {
  server.close();
  server.closeAllConnections();
  void pool.end().finally(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
