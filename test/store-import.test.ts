// storeImport end to end: real multipart uploads over HTTP (and inline rows), the full linked graph it
// writes in one transaction, its typed errors (nothing written for any of them), batching, and idempotency.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.ts';
import type { Viewer } from '../src/context.ts';
import type { Database } from '../src/db/database.ts';
import { StoreImportDocument, type StoreImportInput, type StoreImportMutation } from './generated/graphql.ts';
import { newTenant } from './support/factories.ts';
import { execute, testApp } from './support/graphql.ts';
import { NOTHING, tenantRows } from './support/import-helpers.ts';
import { testDatabase } from './support/test-database.ts';
import { csvText, uploadFile } from './support/upload.ts';

type Result = StoreImportMutation['storeImport'];
type Flow = Extract<Result, { __typename: 'MasterFlow' }>;

let database: Database;
let app: App;
let url: string;

beforeAll(async () => {
  database = await testDatabase();
  app = testApp(database, { imports: { batchRows: 1_000 } });
  url = `http://127.0.0.1:${await app.start()}`;
});
afterAll(async () => app.stop());

const details = { filename: 'servers.csv', importType: 'servers', importCategory: 'infrastructure', sourceSystem: 'ServiceNow' };

async function upload(viewer: Viewer, content: string | Blob, input: Partial<StoreImportInput> = {}, target = url) {
  const variables = { input: { ...details, ...input } };
  const response = await uploadFile({
    url: target,
    viewer,
    document: StoreImportDocument,
    variables,
    file: { name: variables.input.filename, content },
  });
  expect(response.errors).toBeUndefined();
  return response.data!.storeImport;
}

function asFlow(result: Result): Flow {
  if (result.__typename !== 'MasterFlow') throw new Error(`expected a MasterFlow, got ${JSON.stringify(result)}`);
  return result;
}

describe('a CSV upload', () => {
  const viewer = newTenant('importer');
  let flow: Flow;

  beforeAll(async () => {
    flow = asFlow(await upload(viewer, `${csvText(3)}web-04,10.0.0.4\n\n`));
  });

  it('returns the running discovery master flow, named after its data import', () => {
    const dataImport = flow.dataImports.edges[0]!.node;
    expect(flow).toMatchObject({
      flowType: 'DISCOVERY',
      flowStatus: 'RUNNING',
      version: 1,
      userId: 'importer',
      flowName: `Discovery Import ${dataImport.dataImportId}`,
      flowConfiguration: { data_import_id: dataImport.dataImportId },
    });
    expect(flow.phaseTransitions).toEqual([{ from: null, to: 'RUNNING', by: 'importer', at: expect.any(String) }]);
  });

  it('writes the data import with its file metadata and counters', () => {
    expect(flow.dataImports.totalCount).toBe(1);
    expect(flow.dataImports.edges[0]!.node).toMatchObject({
      ...details,
      importName: 'servers.csv',
      status: 'COMPLETED',
      totalRecords: 5,
      processedRecords: 5,
      failedRecords: 2,
      progressPercentage: 100,
      fileSize: Buffer.byteLength(`${csvText(3)}web-04,10.0.0.4\n\n`),
      mimeType: 'text/csv',
      importedBy: 'importer',
      processingConfig: { source: 'upload', format: 'csv', encoding: 'utf-8', byteOrderMark: false, delimiter: ',', header: true },
    });
    expect({ raw: flow.rawRecordCount, valid: flow.validRecordCount, invalid: flow.invalidRecordCount }).toEqual({ raw: 5, valid: 3, invalid: 2 });
  });

  it('stores every row as parsed, numbered from 1, invalid rows with their reasons', async () => {
    const records = await database.prisma.rawImportRecord.findMany({ where: { masterFlowId: flow.flowId }, orderBy: { rowNumber: 'asc' } });
    expect(records.map((record) => [record.rowNumber, record.rawData, record.isValid, record.validationErrors])).toEqual([
      [1, { hostname: 'host-1.example', ip: '10.0.0.1', os: 'Ubuntu 22.04', cpu_cores: '2' }, true, null],
      [2, { hostname: 'host-2.example', ip: '10.0.0.2', os: 'Ubuntu 22.04', cpu_cores: '3' }, true, null],
      [3, { hostname: 'host-3.example', ip: '10.0.0.3', os: 'Ubuntu 22.04', cpu_cores: '4' }, true, null],
      [4, ['web-04', '10.0.0.4'], false, [{ code: 'FIELD_COUNT', message: 'The row has 2 fields; the header has 4.' }]],
      [5, [''], false, [{ code: 'EMPTY_ROW', message: 'The row is empty.' }]],
    ]);
  });

  it('links every child to the master flow: no NULL link, every record reachable from it', async () => {
    const dataImportId = flow.dataImports.edges[0]!.node.dataImportId;
    const [links] = await database.sql.query<Record<string, number>>(
      `SELECT
         (SELECT count(*)::int FROM data_imports WHERE master_flow_id = $1) AS imports,
         (SELECT count(*)::int FROM raw_import_records WHERE master_flow_id = $1 AND data_import_id = $2) AS records,
         (SELECT count(*)::int FROM raw_import_records WHERE master_flow_id IS NULL OR data_import_id IS NULL) AS null_record_links,
         (SELECT count(*)::int FROM discovery_flows WHERE master_flow_id = $1 AND flow_id = $1 AND data_import_id = $2) AS discovery,
         (SELECT count(*)::int FROM discovery_flows WHERE data_import_id IS NULL AND master_flow_id = $1) AS null_discovery_links`,
      [flow.flowId, dataImportId],
    );
    expect(links).toEqual({ imports: 1, records: 5, null_record_links: 0, discovery: 1, null_discovery_links: 0 });
    expect(flow.discoveryFlows).toHaveLength(1);
    expect(flow.discoveryFlows[0]!.dataImport).toEqual({ dataImportId });
  });

  it('starts the discovery flow with data_import completed and data_validation current', () => {
    const discovery = flow.discoveryFlows[0]!;
    expect(discovery).toMatchObject({ flowId: flow.flowId, status: 'ACTIVE', currentPhase: 'DATA_VALIDATION', progressPercentage: 20 });
    expect(discovery.phases.map((phase) => [phase.phase, phase.completed, phase.completedAt !== null])).toEqual([
      ['DATA_IMPORT', true, true],
      ['DATA_VALIDATION', false, false],
      ['FIELD_MAPPING', false, false],
      ['DATA_CLEANSING', false, false],
      ['ASSET_INVENTORY', false, false],
    ]);
  });

  it('appends the master_flow_created and import_stored events in the same transaction', async () => {
    const events = await database.prisma.flowEvent.findMany({ where: { masterFlowId: flow.flowId }, orderBy: { sequence: 'asc' } });
    expect(events.map((event) => [event.kind, event.actor, event.flowType, event.payload])).toEqual([
      ['master_flow_created', 'importer', 'discovery', { after: 'running' }],
      [
        'import_stored',
        'importer',
        'discovery',
        { totalRecords: 5, validRecords: 3, invalidRecords: 2, phase: 'data_import', currentPhase: 'data_validation', progressPercentage: 20 },
      ],
    ]);
    expect(events[1]!.sequence).toBe(events[0]!.sequence + 1n);
  });
});

describe('JSON and inline rows', () => {
  it('imports a JSON array of objects, keeping values as parsed', async () => {
    const viewer = newTenant();
    const rows = [{ hostname: 'db-01', cores: 8, tags: ['prod', 'eu'], meta: { rack: 'A1' } }, 'not an object'];
    const flow = asFlow(await upload(viewer, JSON.stringify(rows, null, 2), { filename: 'servers.json' }));
    expect(flow.dataImports.edges[0]!.node).toMatchObject({ mimeType: 'application/json', totalRecords: 2, failedRecords: 1 });
    const records = await database.prisma.rawImportRecord.findMany({ where: { masterFlowId: flow.flowId }, orderBy: { rowNumber: 'asc' } });
    expect(records.map((record) => record.rawData)).toEqual(rows);
    expect(records[1]!.validationErrors).toEqual([{ code: 'NOT_AN_OBJECT', message: 'The row is a string, not an object.' }]);
  });

  it('imports inline rows through the same pipeline', async () => {
    const viewer = newTenant();
    const rows = [{ hostname: 'a' }, {}, { hostname: 'c' }];
    const response = await execute(app, viewer, StoreImportDocument, { input: { ...details, filename: 'inline.json', rows } });
    const flow = asFlow(response.data!.storeImport);
    expect(flow.dataImports.edges[0]!.node).toMatchObject({
      totalRecords: 3,
      failedRecords: 1,
      fileSize: null,
      processingConfig: { source: 'inline', format: 'json' },
    });
    expect(flow.discoveryFlows[0]!.currentPhase).toBe('DATA_VALIDATION');
  });

  it('takes the format from the MIME type when the file name has no known extension', async () => {
    const viewer = newTenant();
    const response = await uploadFile({
      url,
      viewer,
      document: StoreImportDocument,
      variables: { input: { ...details, filename: 'export' } },
      file: { name: 'export', type: 'text/csv', content: 'a,b\n1,2\n' },
    });
    expect(asFlow(response.data!.storeImport).rawRecordCount).toBe(1);
  });
});

describe('batches', () => {
  it('inserts rows in batches: 5,000 rows cost 4 statements more than 1,000 (batches of 1,000)', async () => {
    const count = async (rows: number) => {
      const response = await execute(app, newTenant(), StoreImportDocument, {
        input: { ...details, filename: 'rows.json', rows: Array.from({ length: rows }, (_u, i) => ({ n: i })) },
      });
      expect(asFlow(response.data!.storeImport).rawRecordCount).toBe(rows);
      return response.extensions!.sqlStatements!;
    };
    const small = await count(1_000);
    expect(await count(5_000)).toBe(small + 4);
    expect(await count(1_000)).toBe(small);
  });
});

describe('typed errors, each leaving nothing behind', () => {
  it.each([
    ['EmptyFile', 'an empty CSV', '', {}],
    ['EmptyFile', 'a CSV with only a header', 'hostname,ip\n', {}],
    ['MalformedFile', 'an unclosed quote', 'a,b\n1,"2\n', {}],
    ['UnsupportedFormat', 'a spreadsheet', 'PK\u0003\u0004', { filename: 'servers.xlsx' }],
    ['InvalidInput', 'an import type longer than 50 characters', 'a\n1\n', { importType: 'x'.repeat(51) }],
    ['InvalidInput', 'an empty idempotency key', 'a\n1\n', { idempotencyKey: '  ' }],
  ] as const)('%s for %s', async (typename, _label, content, input) => {
    const viewer = newTenant();
    const result = await upload(viewer, content, input);
    expect(result.__typename).toBe(typename);
    expect(await tenantRows(database, viewer)).toEqual(NOTHING);
  });

  it('MalformedFile names the line and column', async () => {
    const result = await upload(newTenant(), '[\n {"a": 1},\n {"a": tru}\n]', { filename: 'bad.json' });
    expect(result).toMatchObject({ __typename: 'MalformedFile', line: 3, column: 11 });
  });

  it('FileTooLarge past the configured limit, even when the rows before it were already inserted', async () => {
    const small = testApp(database, { imports: { maxFileBytes: 64 * 1024, batchRows: 100 } });
    const smallUrl = `http://127.0.0.1:${await small.start()}`;
    try {
      const viewer = newTenant();
      const result = await upload(viewer, csvText(5_000), {}, smallUrl);
      expect(result).toMatchObject({ __typename: 'FileTooLarge', limitBytes: 64 * 1024 });
      expect(await tenantRows(database, viewer)).toEqual(NOTHING);
      // The same server still answers: the rest of the upload was drained, not left hanging.
      expect(asFlow(await upload(viewer, csvText(10), {}, smallUrl)).rawRecordCount).toBe(10);
    } finally {
      await small.stop();
    }
  });

  it('InvalidInput for both a file and rows, or neither', async () => {
    const viewer = newTenant();
    const both = await uploadFile({
      url,
      viewer,
      document: StoreImportDocument,
      variables: { input: { ...details, rows: [{ a: 1 }] } },
      file: { name: 'servers.csv', content: 'a\n1\n' },
    });
    expect(both.data!.storeImport).toMatchObject({ __typename: 'InvalidInput', field: 'file' });
    const neither = await execute(app, viewer, StoreImportDocument, { input: details });
    expect(neither.data!.storeImport).toMatchObject({ __typename: 'InvalidInput', field: 'file' });
    expect(await tenantRows(database, viewer)).toEqual(NOTHING);
  });

  it('a File variable sent as JSON instead of a multipart upload is a GraphQL error, not a crash', async () => {
    const response = await execute(app, newTenant(), StoreImportDocument, { input: { ...details, file: 'servers.csv' as never } });
    expect(response.errors?.[0]?.message).toContain('multipart');
  });
});

describe('idempotency', () => {
  it('returns the first import for the same key and content, and writes nothing new', async () => {
    const viewer = newTenant();
    const key = randomUUID();
    const first = asFlow(await upload(viewer, csvText(20), { idempotencyKey: key }));
    const before = await tenantRows(database, viewer);
    const again = asFlow(await upload(viewer, csvText(20), { idempotencyKey: key }));
    expect(again.flowId).toBe(first.flowId);
    expect(await tenantRows(database, viewer)).toEqual(before);
    expect(before).toEqual({ masterFlows: 1, dataImports: 1, rawRecords: 20, discoveryFlows: 1, events: 2 });
  });

  it('IdempotencyConflict for the same key with other content or other details', async () => {
    const viewer = newTenant();
    const key = randomUUID();
    asFlow(await upload(viewer, csvText(5), { idempotencyKey: key }));
    const before = await tenantRows(database, viewer);
    expect(await upload(viewer, csvText(6), { idempotencyKey: key })).toMatchObject({ __typename: 'IdempotencyConflict', idempotencyKey: key });
    expect(await upload(viewer, csvText(5), { idempotencyKey: key, importType: 'cmdb' })).toMatchObject({
      __typename: 'IdempotencyConflict',
    });
    expect(await tenantRows(database, viewer)).toEqual(before);
  });

  it('keys are per tenant: another tenant with the same key gets its own import', async () => {
    const key = randomUUID();
    const alice = asFlow(await upload(newTenant('alice'), csvText(3), { idempotencyKey: key }));
    const bob = asFlow(await upload(newTenant('bob'), csvText(3), { idempotencyKey: key }));
    expect(bob.flowId).not.toBe(alice.flowId);
  });

  it('concurrent duplicates: exactly one import exists afterwards and every request gets it', async () => {
    const viewer = newTenant();
    const key = randomUUID();
    const results = await Promise.all(Array.from({ length: 4 }, () => upload(viewer, csvText(3_000), { idempotencyKey: key })));
    const flowIds = new Set(results.map((result) => asFlow(result).flowId));
    expect(flowIds.size).toBe(1);
    expect(await tenantRows(database, viewer)).toEqual({ masterFlows: 1, dataImports: 1, rawRecords: 3_000, discoveryFlows: 1, events: 2 });
  });

  it('inline rows are idempotent too', async () => {
    const viewer = newTenant();
    const input = { ...details, filename: 'inline.json', rows: [{ a: 1 }, { a: 2 }], idempotencyKey: 'inline-1' };
    const first = asFlow((await execute(app, viewer, StoreImportDocument, { input })).data!.storeImport);
    const second = asFlow((await execute(app, viewer, StoreImportDocument, { input })).data!.storeImport);
    expect(second.flowId).toBe(first.flowId);
    const changed = await execute(app, viewer, StoreImportDocument, { input: { ...input, rows: [{ a: 1 }] } });
    expect(changed.data!.storeImport.__typename).toBe('IdempotencyConflict');
  });
});
