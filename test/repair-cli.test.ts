// `npm run doctor`, `npm run repair` and `npm start` as real processes on a legacy database (a PGlite data
// directory; a PostgreSQL database with TEST_DATABASE_URL): exit codes, output, and the repaired graph
// served over HTTP.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgliteSession, postgresSession, type SqlSession } from '../src/db/sql-session.ts';
import type { IntegrityReport } from '../src/services/integrity-report.ts';
import type { RepairReport } from '../src/services/legacy-repair.ts';
import { viewerHeaders } from './support/graphql.ts';
import { createLegacySchema, LegacyBuilder, newTenant, standardScenario, type Scenario } from './support/legacy-fixtures.ts';
import { dropDatabase, recreateDatabase, workerDatabaseUrl } from './support/postgres-databases.ts';
import { runScript, startServer, type ServerProcess } from './support/server-process.ts';

const onPostgres = Boolean(process.env.TEST_DATABASE_URL);

interface Target {
  args: string[];
  env: Record<string, string>;
  dispose(): Promise<void>;
}

/** A legacy database the processes can open: its arguments for the CLIs and its environment for npm start. */
async function legacyTarget(label: string, fill: (session: SqlSession) => Promise<void>): Promise<Target> {
  if (onPostgres) {
    const url = workerDatabaseUrl(process.env.TEST_DATABASE_URL!, `${label}_${process.env.VITEST_POOL_ID ?? '1'}`);
    await recreateDatabase(url);
    const session = await postgresSession(url);
    await createLegacySchema(session, { pgcrypto: true });
    await fill(session);
    await session.close();
    return { args: ['--database-url', url], env: { DATABASE_URL: url }, dispose: () => dropDatabase(url) };
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), `flowgraph-${label}-`));
  const db = await PGlite.create(dir);
  const session = pgliteSession(db);
  await createLegacySchema(session, { pgcrypto: false });
  await fill(session);
  await db.close();
  return { args: ['--data-dir', dir], env: { FLOWGRAPH_DATA_DIR: dir, DATABASE_URL: '' }, dispose: async () => {} };
}

const doctor = (args: string[]) => runScript('src/cli/doctor.ts', args, { DATABASE_URL: '' });
const repair = (args: string[]) => runScript('src/cli/repair.ts', args, { DATABASE_URL: '' });

describe(`doctor, repair, npm start on a legacy database (${onPostgres ? 'PostgreSQL' : 'PGlite'})`, () => {
  let target: Target;
  let scenario: Scenario;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    scenario = standardScenario();
    target = await legacyTarget('cli', (session) => scenario.builder.write(session));
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
    await target?.dispose();
  });

  it('doctor lists the problems and exits 1', async () => {
    const text = await doctor(target.args);
    expect(text.code).toBe(1);
    expect(text.output).toContain("shape: the legacy platform's");
    expect(text.output).toMatch(/\[foreign_key_wrong_column\] data_imports\.master_flow_id references crewai_flow_state_extensions\(id\)/);
    expect(text.output).toMatch(/\[null_master_flow_id\] \d+ rows of raw_import_records have no master_flow_id/);
  });

  it('repair without --apply prints the plan, exits 0 and changes nothing', async () => {
    const before = await doctor([...target.args, '--json']);
    const result = await repair(target.args);
    expect(result.code).toBe(0);
    expect(result.output).toContain('DRY RUN: nothing was changed');
    expect(result.output).toMatch(/data_imports\s+\d+\s+1\s+\d+\s+1\s+\d+\s+\d+/);
    expect(result.output).toContain('ALTER TABLE "data_imports" ADD CONSTRAINT "data_imports_master_flow_id_fkey"');
    expect(result.output).toContain('VALIDATE CONSTRAINT');
    const after = await doctor([...target.args, '--json']);
    const problems = (output: string) => (JSON.parse(output) as IntegrityReport).problems;
    expect(problems(after.output)).toEqual(problems(before.output));
  });

  it('repair --apply --json applies it and reports in JSON', async () => {
    const result = await repair([...target.args, '--apply', '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.output) as RepairReport;
    expect(report.outcome).toBe('applied');
    expect(report.verified).toBe(true);
    const masters = report.rowCounts.find((count) => count.table === 'crewai_flow_state_extensions')!;
    expect(masters.after - masters.before).toBe(report.adoptedMasterFlows.length);
  });

  it('doctor then exits 0, and a second repair has nothing to do', async () => {
    const clean = await doctor(target.args);
    expect(clean.code).toBe(0);
    expect(clean.output).toContain('clean: no problem found');
    const again = await repair([...target.args, '--apply']);
    expect(again.code).toBe(0);
    expect(again.output).toContain('nothing to do');
  });

  it('npm start applies nothing and serves the repaired graph', async () => {
    server = await startServer(target.env);
    expect(server.output()).toContain('migrations up to date');
    const ready = await fetch(`${server.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true, integrity: { shape: 'flowgraph', clean: true } });

    const query = `{ masterFlows(first: 100) { totalCount edges { node {
      flowId flowStatus flowConfiguration rawRecordCount phaseTransitions { from to by }
      dataImports(first: 5) { edges { node { dataImportId rawRecords(first: 5) { totalCount } } } }
      discoveryFlows { flowId currentPhase }
    } } } }`;
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...viewerHeaders({ ...scenario.tenantA, userId: 'tester' }) },
      body: JSON.stringify({ query }),
    });
    const body = (await response.json()) as {
      errors?: unknown;
      data: {
        masterFlows: {
          totalCount: number;
          edges: { node: { flowId: string; flowConfiguration: Record<string, unknown>; rawRecordCount: number; phaseTransitions: unknown[]; dataImports: { edges: { node: { dataImportId: string; rawRecords: { totalCount: number } } }[] } } }[];
        };
      };
    };
    expect(body.errors).toBeUndefined();
    const nodes = body.data.masterFlows.edges.map((edge) => edge.node);
    const legacyMastersOfA = scenario.builder.rows.filter(
      (row) => row.table === 'crewai_flow_state_extensions' && row.values.client_account_id === scenario.tenantA.clientAccountId,
    ).length;
    const adoptedInA = nodes.filter((node) => node.flowConfiguration.recovered === true).length;
    expect(adoptedInA).toBeGreaterThan(0);
    expect(body.data.masterFlows.totalCount).toBe(legacyMastersOfA + adoptedInA);

    const tenantOfFlow = new Map(
      scenario.builder.rows.filter((row) => row.table === 'crewai_flow_state_extensions').map((row) => [row.values.flow_id, row.values.client_account_id]),
    );
    let checked = 0;
    for (const [importId, expected] of scenario.imports) {
      const client = expected.kind === 'linked' ? tenantOfFlow.get(expected.flowId) : expected.tenant.clientAccountId;
      if (client !== scenario.tenantA.clientAccountId) continue;
      checked += 1;
      const holder = nodes.find((node) => node.dataImports.edges.some((edge) => edge.node.dataImportId === importId));
      if (expected.kind === 'linked') {
        expect(holder?.flowId, expected.label).toBe(expected.flowId);
      } else {
        expect(holder?.flowConfiguration, expected.label).toMatchObject({ recovered: true, recovery_reason: expected.reason, data_import_id: importId });
      }
      const edge = holder!.dataImports.edges.find((candidate) => candidate.node.dataImportId === importId)!;
      expect(edge.node.rawRecords.totalCount, expected.label).toBe(scenario.rawRecords.get(importId)?.length ?? 0);
    }
    expect(checked).toBeGreaterThan(10);

    // A history written with the old platform's status names is shown under flowgraph's names.
    const [historyFlowId] = [...scenario.mappedMasterStatuses].find(([, status]) => status === 'running')!;
    expect(nodes.find((node) => node.flowId === historyFlowId)?.phaseTransitions).toEqual([
      { from: null, to: 'INITIALIZED', by: 'legacy-user' },
      { from: 'INITIALIZED', to: 'RUNNING', by: 'legacy-user' },
    ]);

    // The README's example query, over the repaired data.
    const example = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...viewerHeaders({ ...scenario.tenantB, userId: 'tester' }) },
      body: JSON.stringify({ query: 'query { masterFlows(first: 50) { totalCount edges { node { flowName flowStatus rawRecordCount dataImports(first: 5) { edges { node { filename status rawRecords(first: 5) { edges { node { rowNumber rawData isValid } } } } } } discoveryFlows { currentPhase progressPercentage phases { phase completed completedAt } } } } } }' }),
    });
    const exampleBody = (await example.json()) as { errors?: unknown; data: { masterFlows: { totalCount: number } } };
    expect(exampleBody.errors).toBeUndefined();
    expect(exampleBody.data.masterFlows.totalCount).toBeGreaterThan(0);
    expect(await server.stop('SIGTERM')).toBe(0);
    server = undefined;
  });
});

describe('exit codes', () => {
  it('2 when the database cannot be opened or named', async () => {
    const missing = await doctor(['--data-dir', path.join(os.tmpdir(), 'flowgraph-no-such-dir')]);
    expect(missing.code).toBe(2);
    expect(missing.output).toContain('holds no PGlite database');
    const wrongScheme = await repair(['--database-url', 'mysql://somewhere/db']);
    expect(wrongScheme.code).toBe(2);
    expect(wrongScheme.output).toContain('must be a postgres:// or postgresql:// URL');
    const nothing = await doctor([]);
    expect(nothing.code).toBe(2);
    expect(nothing.output).toContain('name the database');
    const unknownOption = await repair(['--data-dir', '/tmp', '--force']);
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.output).toContain("Unknown option '--force'");
  });

  it.runIf(onPostgres)('2 when PostgreSQL cannot be reached', async () => {
    const result = await doctor(['--database-url', 'postgres://postgres@127.0.0.1:1/nothing']);
    expect(result.code).toBe(2);
    expect(result.output).toContain('could not open the database');
  });

  describe('on databases the repair must not change', () => {
    let empty: Target;
    let blocked: Target;
    let flowId = '';
    beforeAll(async () => {
      empty = await legacyTarget('cli_empty', (session) => session.exec('DROP TABLE discovery_flows, raw_import_records, data_imports, crewai_flow_state_extensions'));
      blocked = await legacyTarget('cli_blocked', async (session) => {
        const builder = new LegacyBuilder();
        flowId = builder.master({ tenant: newTenant(), status: 'awaiting_approval' }).flowId;
        await builder.write(session);
      });
    });
    afterAll(async () => {
      await empty?.dispose();
      await blocked?.dispose();
    });

    it('2 for a shape it does not recognise (doctor and repair)', async () => {
      const inspected = await doctor(empty.args);
      expect(inspected.code).toBe(2);
      expect(inspected.output).toContain('could not inspect this database');
      const repaired = await repair([...empty.args, '--apply']);
      expect(repaired.code).toBe(2);
      expect(repaired.output).toContain('does not recognise this database and changed nothing');
    });

    it('1 when it refuses (a status only a person can map), 0 once the operator maps it', async () => {
      const refused = await repair([...blocked.args, '--apply']);
      expect(refused.code).toBe(1);
      expect(refused.output).toContain('REFUSED');
      expect(refused.output).toContain(flowId);
      expect((await doctor(blocked.args)).output).toContain("shape: the legacy platform's");

      const badMapping = await repair([...blocked.args, '--map-status', 'crewai_flow_state_extensions.flow_status:awaiting_approval=waiting']);
      expect(badMapping.code).toBe(2);
      expect(badMapping.output).toContain('"waiting" is not allowed');

      const mapped = await repair([...blocked.args, '--apply', '--map-status', 'crewai_flow_state_extensions.flow_status:awaiting_approval=paused']);
      expect(mapped.code).toBe(0);
      expect(mapped.output).toContain('"awaiting_approval" → "paused" (operator, 1 rows)');
      expect((await doctor(blocked.args)).code).toBe(0);
    });
  });
});
