// The integrity report over GraphQL (Query.integrityReport) and in /ready, on a repaired legacy database:
// clean after the repair, and every later breakage shows up. /ready keeps its status semantics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.ts';
import { openDatabase, type Database } from '../src/db/database.ts';
import { repairDatabase } from '../src/services/legacy-repair.ts';
import type { Readiness } from '../src/services/readiness.ts';
import { execute, executeOk, testApp } from './support/graphql.ts';
import { createLegacySchema, standardScenario, type Scenario } from './support/legacy-fixtures.ts';
import { scratchDatabase, type ScratchDatabase } from './support/scratch-database.ts';

const REPORT = /* GraphQL */ `
  query Integrity($dataChecks: Boolean) {
    integrityReport(dataChecks: $dataChecks) {
      shape clean dataChecked migrationsApplied migrationsPending notes checkedAt
      tables { table rows }
      problems { kind table column count message }
    }
  }
`;

interface ReportData {
  integrityReport: {
    shape: string;
    clean: boolean;
    dataChecked: boolean;
    migrationsPending: string[];
    tables: { table: string; rows: number }[];
    problems: { kind: string; table: string; column: string | null; count: number | null; message: string }[];
  };
}

let scratch: ScratchDatabase;
let database: Database;
let app: App;
let scenario: Scenario;

async function ready(): Promise<{ status: number; body: Readiness }> {
  const response = await app.yoga.fetch('http://flowgraph.test/ready');
  return { status: response.status, body: (await response.json()) as Readiness };
}

beforeAll(async () => {
  scratch = await scratchDatabase('integrity');
  await createLegacySchema(scratch.session, { pgcrypto: scratch.kind === 'postgres' });
  scenario = standardScenario();
  await scenario.builder.write(scratch.session);
  expect((await repairDatabase(scratch.session, { apply: true })).outcome).toBe('applied');
  database = await openDatabase(scratch.pglite ? { pglite: scratch.pglite } : { databaseUrl: scratch.url });
  app = testApp(database);
});
afterAll(async () => {
  await database?.close();
  await scratch?.dispose();
});

describe('Query.integrityReport', () => {
  it('reports a repaired database clean, with its row counts', async () => {
    const data = await executeOk<ReportData, Record<string, unknown>>(app, { ...scenario.tenantA, userId: 'admin' }, REPORT, {});
    expect(data.integrityReport).toMatchObject({ shape: 'FLOWGRAPH', clean: true, dataChecked: true, migrationsPending: [], problems: [] });
    const raws = scenario.builder.rows.filter((row) => row.table === 'raw_import_records').length;
    expect(data.integrityReport.tables).toContainEqual({ table: 'raw_import_records', rows: raws });
  });

  it('needs a viewer like every request', async () => {
    const result = await execute(app, null, REPORT);
    expect(result.status).toBe(401);
  });

  it('/ready: 200, with a clean integrity summary in the body', async () => {
    const { status, body } = await ready();
    expect(status).toBe(200);
    expect(body).toMatchObject({ ready: true, migrations: { pending: [] }, integrity: { shape: 'flowgraph', clean: true, checked: 'structure', problems: 0 } });
  });

  it('shows later breakage: a disabled trigger, a dropped index, then the rows it let through', async () => {
    await scratch.session.exec(
      `ALTER TABLE raw_import_records DISABLE TRIGGER raw_import_records_links_on_insert;
       DROP INDEX discovery_flows_data_import_id_idx;`,
    );
    const structure = await executeOk<ReportData, Record<string, unknown>>(app, { ...scenario.tenantA, userId: 'admin' }, REPORT, { dataChecks: false });
    expect(structure.integrityReport.dataChecked).toBe(false);
    expect(structure.integrityReport.clean).toBe(false);
    expect(structure.integrityReport.problems.map((problem) => `${problem.kind} ${problem.table} ${problem.column ?? ''}`.trim()).sort()).toEqual([
      'MISSING_INDEX discovery_flows data_import_id',
      'MISSING_TENANT_TRIGGER raw_import_records',
    ]);

    // With the trigger off, a raw record of another tenant gets in; the row check finds it.
    const [row] = await scratch.session.query<{ data_import_id: string; master_flow_id: string }>(
      `SELECT data_import_id::text, master_flow_id::text FROM raw_import_records WHERE client_account_id = $1 LIMIT 1`,
      [scenario.tenantA.clientAccountId],
    );
    await scratch.session.query(
      `INSERT INTO raw_import_records (data_import_id, master_flow_id, client_account_id, engagement_id, row_number, raw_data)
       VALUES ($1, $2, $3, $4, 1000, '{}')`,
      [row!.data_import_id, row!.master_flow_id, scenario.tenantB.clientAccountId, scenario.tenantB.engagementId],
    );
    const full = await executeOk<ReportData, Record<string, unknown>>(app, { ...scenario.tenantA, userId: 'admin' }, REPORT, {});
    expect(full.integrityReport.problems).toContainEqual({
      kind: 'TENANT_MISMATCH',
      table: 'raw_import_records',
      column: 'client_account_id',
      count: 1,
      message: '1 rows of raw_import_records belong to another tenant than their master flow',
    });

    // Still ready (database reachable, migrations applied); the summary says what is wrong.
    const { status, body } = await ready();
    expect(status).toBe(200);
    expect(body.integrity).toMatchObject({ clean: false, problems: 2, kinds: expect.arrayContaining(['missing_index', 'missing_tenant_trigger']) });
  });

  it('/ready: 503 when a migration is not applied, as before', async () => {
    await scratch.session.exec(`UPDATE _prisma_migrations SET rolled_back_at = now()`);
    const { status, body } = await ready();
    expect(status).toBe(503);
    expect(body.ready).toBe(false);
    expect(body.migrations?.pending.length).toBeGreaterThan(0);
    expect(body.integrity).toBeUndefined();
  });
});
