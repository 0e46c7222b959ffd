// The corpus of awkward and malformed files in test/fixtures/malformed (expected.json says what each one
// must give, and why), plus the big ones generated here rather than committed. Every rejected file leaves
// no row behind; every accepted one stores its documented row-level result.
import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.ts';
import type { Database } from '../src/db/database.ts';
import { StoreImportDocument } from './generated/graphql.ts';
import { newTenant } from './support/factories.ts';
import { testApp } from './support/graphql.ts';
import { NOTHING, tenantRows } from './support/import-helpers.ts';
import { testDatabase } from './support/test-database.ts';
import { uploadFile } from './support/upload.ts';

const DIR = new URL('./fixtures/malformed/', import.meta.url);

interface Expectation {
  result: 'EmptyFile' | 'MalformedFile' | 'UnsupportedFormat' | 'MasterFlow';
  why: string;
  line?: number;
  column?: number;
  type?: string;
  rows?: number;
  invalid?: { row: number; code: string; rawData?: unknown }[];
  firstRow?: unknown;
}

const expected = JSON.parse(readFileSync(new URL('expected.json', DIR), 'utf8')) as Record<string, Expectation>;

let database: Database;
let app: App;
let url: string;

beforeAll(async () => {
  database = await testDatabase();
  app = testApp(database);
  url = `http://127.0.0.1:${await app.start()}`;
});
afterAll(async () => app.stop());

async function upload(name: string, content: Uint8Array<ArrayBuffer> | string | Blob, type = '') {
  const viewer = newTenant();
  const response = await uploadFile({
    url,
    viewer,
    document: StoreImportDocument,
    variables: { input: { filename: name, importType: 'servers' } },
    file: { name, type, content },
  });
  expect(response.errors).toBeUndefined();
  return { viewer, result: response.data!.storeImport };
}

it('has at least 30 files, each described in expected.json', () => {
  const files = readdirSync(DIR).filter((name) => name !== 'expected.json').sort();
  expect(files.length).toBeGreaterThanOrEqual(30);
  expect(Object.keys(expected).sort()).toEqual(files);
});

describe.each(Object.entries(expected))('%s', (name, expectation) => {
  it(`gives ${expectation.result}: ${expectation.why}`, async () => {
    const content = new Uint8Array(readFileSync(new URL(name, DIR)));
    const { viewer, result } = await upload(name, content, expectation.type);
    expect(result.__typename).toBe(expectation.result);
    if (result.__typename !== 'MasterFlow') {
      expect((result as { message: string }).message.length).toBeGreaterThan(10);
      if (result.__typename === 'MalformedFile') {
        expect({ line: result.line, column: result.column }).toEqual({ line: expectation.line, column: expectation.column });
      }
      expect(await tenantRows(database, viewer)).toEqual(NOTHING);
      return;
    }
    const records = await database.prisma.rawImportRecord.findMany({
      where: { masterFlowId: result.flowId },
      orderBy: { rowNumber: 'asc' },
    });
    expect(records.map((record) => record.rowNumber)).toEqual(Array.from({ length: expectation.rows! }, (_u, i) => i + 1));
    const invalid = records.filter((record) => !record.isValid);
    expect(invalid.map((record) => ({ row: record.rowNumber, code: (record.validationErrors as { code: string }[])[0]!.code }))).toEqual(
      expectation.invalid!.map(({ row, code }) => ({ row, code })),
    );
    for (const { row, rawData } of expectation.invalid!) {
      if (rawData !== undefined) expect(records[row - 1]!.rawData).toEqual(rawData);
    }
    if (expectation.firstRow) expect(records[0]!.rawData).toEqual(expectation.firstRow);
    expect(result.dataImports.edges[0]!.node).toMatchObject({
      totalRecords: expectation.rows,
      failedRecords: expectation.invalid!.length,
    });
  });
});

describe('big files, generated here', () => {
  const fifty = 50 * 1024 * 1024;

  it('a CSV with a single 50 MB field is MalformedFile (rows are limited to 1 MiB) and writes nothing', async () => {
    const { viewer, result } = await upload('huge-field.csv', new Blob(['hostname,notes\nweb-01,', 'x'.repeat(fifty), '\n']));
    expect(result).toMatchObject({ __typename: 'MalformedFile', line: 2, column: 2 });
    expect(await tenantRows(database, viewer)).toEqual(NOTHING);
  });

  it('a JSON file with a single 50 MB string is MalformedFile and writes nothing', async () => {
    const { viewer, result } = await upload('huge-field.json', new Blob(['[{"notes":"', 'x'.repeat(fifty), '"}]']));
    expect(result.__typename).toBe('MalformedFile');
    expect((result as { message: string }).message).toContain('larger than the limit of 1048576 bytes');
    expect(await tenantRows(database, viewer)).toEqual(NOTHING);
  });

  it('100,000 levels of nesting are refused without overflowing the stack', async () => {
    const depth = 100_000;
    const { viewer, result } = await upload('deep.json', `[${'['.repeat(depth)}${']'.repeat(depth)}]`);
    expect(result).toMatchObject({ __typename: 'MalformedFile', line: 1, column: 66 });
    expect(await tenantRows(database, viewer)).toEqual(NOTHING);
  });
});
