// The repair of a legacy database, in-process, against a real database (PGlite; PostgreSQL with
// TEST_DATABASE_URL): the report, every link, the adoptions, the constraints, row counts, idempotency,
// the catalog compared with a freshly migrated database, and an interrupted repair finished later.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyMigrations, migrationStatus, MigrationHistoryError, readMigrations } from '../src/db/migrator.ts';
import type { SqlSession } from '../src/db/sql-session.ts';
import type { IntegrityProblemKind } from '../src/domain/integrity-rules.ts';
import { ADOPTION_REASONS, EVIDENCE_RULES } from '../src/domain/repair-evidence.ts';
import { inspect } from '../src/services/database-shape.ts';
import { integrityReport } from '../src/services/integrity-report.ts';
import { repairDatabase, type RepairReport } from '../src/services/legacy-repair.ts';
import { catalogSnapshot, type CatalogSnapshot } from './support/catalog-snapshot.ts';
import { createLegacySchema, standardScenario, type Scenario } from './support/legacy-fixtures.ts';
import { dataFingerprint, scratchDatabase, type ScratchDatabase } from './support/scratch-database.ts';

/** A column only the legacy database has: the repair keeps it, and the catalog comparison ignores it. */
const LEGACY_ONLY_COLUMN = 'data_imports.legacy_batch';

let db: ScratchDatabase;
let fresh: CatalogSnapshot;

async function buildLegacy(session: SqlSession, kind: ScratchDatabase['kind']): Promise<Scenario> {
  await createLegacySchema(session, { pgcrypto: kind === 'postgres' });
  await session.exec(`ALTER TABLE data_imports ADD COLUMN legacy_batch text DEFAULT 'batch-7'`);
  const scenario = standardScenario();
  await scenario.builder.write(session);
  return scenario;
}

async function one<Row>(session: SqlSession, sql: string, params: unknown[] = []): Promise<Row> {
  const [row] = await session.query<Row>(sql, params);
  if (!row) throw new Error(`no row for ${sql}`);
  return row;
}

beforeAll(async () => {
  // The reference: an empty database with flowgraph's migrations applied.
  const reference = await scratchDatabase('fresh');
  await applyMigrations(reference.session);
  fresh = await catalogSnapshot(reference.session);
  await reference.dispose();
  db = await scratchDatabase('repair');
});
afterAll(async () => db?.dispose());

describe('a legacy database with every case of evidence', () => {
  let scenario: Scenario;
  let dryRun: RepairReport;
  let applied: RepairReport;
  const legacyRows = (table: string) => scenario.builder.rows.filter((row) => row.table === table).map((row) => row.values);

  beforeAll(async () => {
    await db.reset();
    scenario = await buildLegacy(db.session, db.kind);
  });

  it('doctor lists its problems: structure and rows', async () => {
    const report = await integrityReport(db.session);
    expect(report.shape).toBe('legacy');
    expect(report.clean).toBe(false);
    const find = (kind: IntegrityProblemKind, table: string, column?: string) =>
      report.problems.filter((problem) => problem.kind === kind && problem.table === table && (column === undefined || problem.column === column));

    expect(find('foreign_key_wrong_column', 'data_imports', 'master_flow_id')[0]?.message).toContain('references crewai_flow_state_extensions(id)');
    expect(find('foreign_key_wrong_column', 'raw_import_records', 'master_flow_id')).toHaveLength(1);
    expect(find('missing_foreign_key', 'discovery_flows', 'master_flow_id')).toHaveLength(1);
    expect(find('missing_foreign_key', 'discovery_flows', 'data_import_id')).toHaveLength(1);
    expect(report.problems.filter((problem) => problem.kind === 'missing_index')).toHaveLength(5);
    expect(report.problems.filter((problem) => problem.kind === 'nullable_column').map((problem) => `${problem.table}.${problem.column}`).sort()).toEqual(
      [
        'data_imports.client_account_id',
        'data_imports.engagement_id',
        'data_imports.master_flow_id',
        'discovery_flows.master_flow_id',
        'raw_import_records.client_account_id',
        'raw_import_records.engagement_id',
        'raw_import_records.master_flow_id',
      ],
    );
    expect(report.problems.filter((problem) => problem.kind === 'missing_tenant_trigger')).toHaveLength(7);

    // Row counts of each data problem, from the generated rows.
    const imports = legacyRows('data_imports');
    const raws = legacyRows('raw_import_records');
    const flows = legacyRows('discovery_flows');
    expect(find('null_master_flow_id', 'data_imports')[0]?.count).toBe(imports.filter((row) => row.master_flow_id === null).length);
    expect(find('references_internal_id', 'data_imports')[0]?.count).toBe(imports.filter((row) => row.master_flow_id !== null).length);
    expect(find('null_tenant', 'data_imports')[0]?.count).toBe(imports.filter((row) => row.client_account_id === null).length);
    expect(find('null_master_flow_id', 'raw_import_records')[0]?.count).toBe(raws.filter((row) => row.master_flow_id === null).length);
    expect(find('null_tenant', 'raw_import_records')[0]?.count).toBe(raws.filter((row) => row.client_account_id === null).length);
    expect(find('null_master_flow_id', 'discovery_flows')[0]?.count).toBe(flows.filter((row) => row.master_flow_id === null).length);
    expect(find('missing_data_import', 'discovery_flows')[0]?.count).toBe(1);
    expect(find('invalid_value', 'crewai_flow_state_extensions', 'flow_status')[0]?.message).toMatch(/"Completed" \(1\), "in_progress" \(1\)/);
    expect(find('invalid_value', 'discovery_flows', 'current_phase')[0]?.sampleIds).toEqual([...scenario.derivedPhases.keys()]);
    expect(find('null_master_flow_id', 'data_imports')[0]?.sampleIds.length).toBe(10);
    expect(report.tables.find((table) => table.table === 'raw_import_records')?.rows).toBe(raws.length);
  });

  it('dry run: says what it will do and changes nothing', async () => {
    const before = { data: await dataFingerprint(db.session), catalog: await catalogSnapshot(db.session) };
    dryRun = await repairDatabase(db.session);
    expect(dryRun.outcome).toBe('planned');
    expect(dryRun.dryRun).toBe(true);
    expect(dryRun.blocking).toEqual([]);
    expect(await dataFingerprint(db.session)).toBe(before.data);
    expect(await catalogSnapshot(db.session)).toEqual(before.catalog);

    const adoptedImports = [...scenario.imports].filter(([, expected]) => expected.kind === 'adopted').map(([id]) => id);
    expect(dryRun.adoptedMasterFlows.map((flow) => flow.flowConfiguration.data_import_id).filter(Boolean).sort()).toEqual(adoptedImports.sort());
    expect(dryRun.statements.some((statement) => statement.stage === 'validate' && statement.sql.includes('VALIDATE CONSTRAINT "data_imports_master_flow_id_fkey"'))).toBe(true);
    expect(dryRun.statements.filter((statement) => statement.stage === 'link' && /FOREIGN KEY/.test(statement.sql)).every((statement) => statement.sql.endsWith('NOT VALID'))).toBe(true);
    expect(dryRun.kept).toEqual([`column ${LEGACY_ONLY_COLUMN}`]);
  });

  it('--apply links, adopts and enforces in one go, and counts every row', async () => {
    applied = await repairDatabase(db.session, { apply: true });
    expect(applied.outcome).toBe('applied');
    expect(applied.verified).toBe(true);
    // What the dry run said is what happened (ids of adopted master flows are drawn anew).
    const strip = (report: RepairReport) => ({ ...report, outcome: null, dryRun: null, verified: null, adoptedMasterFlows: report.adoptedMasterFlows.length });
    const withoutIds = (value: unknown) => JSON.parse(JSON.stringify(value).replace(/"[0-9a-f-]{36}"/g, '"id"').replace(/"recovered_at":"[^"]+"/g, ''));
    expect(withoutIds(strip(applied)).tables).toEqual(withoutIds(strip(dryRun)).tables);
    expect(applied.statements).toEqual(dryRun.statements);

    for (const count of applied.rowCounts) {
      const adopted = count.table === 'crewai_flow_state_extensions' ? applied.adoptedMasterFlows.length : 0;
      expect(count.after, count.table).toBe(count.before + adopted);
      expect(count.before, count.table).toBe(legacyRows(count.table).length);
    }
    const adoptedGroups = new Set([
      ...[...scenario.imports].filter(([, expected]) => expected.kind === 'adopted').map(([id]) => id),
      ...[...scenario.discoveryFlows].filter(([id, expected]) => expected.kind === 'adopted' && !legacyRows('discovery_flows').find((row) => row.id === id)?.data_import_id).map(([id]) => id),
    ]);
    expect(applied.adoptedMasterFlows).toHaveLength(adoptedGroups.size);
  });

  it('links every import from its evidence, and adopts the rest in their own tenant', async () => {
    for (const [id, expected] of scenario.imports) {
      const row = await one<{ master_flow_id: string; client_account_id: string; engagement_id: string }>(
        db.session,
        'SELECT master_flow_id::text, client_account_id::text, engagement_id::text FROM data_imports WHERE id = $1',
        [id],
      );
      const master = await one<{ client_account_id: string; engagement_id: string; flow_configuration: Record<string, unknown>; flow_status: string }>(
        db.session,
        'SELECT client_account_id::text, engagement_id::text, flow_configuration, flow_status FROM crewai_flow_state_extensions WHERE flow_id = $1',
        [row.master_flow_id],
      );
      expect({ client: row.client_account_id, engagement: row.engagement_id }, expected.label).toEqual({
        client: master.client_account_id,
        engagement: master.engagement_id,
      });
      if (expected.kind === 'linked') {
        expect(row.master_flow_id, expected.label).toBe(expected.flowId);
      } else {
        expect(scenario.masterFlowIds, expected.label).not.toContain(row.master_flow_id);
        expect(master.client_account_id, expected.label).toBe(expected.tenant.clientAccountId);
        expect(master.flow_configuration, expected.label).toMatchObject({
          recovered: true,
          recovery_reason: expected.reason,
          data_import_id: id,
          recovered_by: 'flowgraph-repair',
        });
      }
    }
  });

  it('moves every raw record with its import, and fills its tenant', async () => {
    for (const [importId, recordIds] of scenario.rawRecords) {
      const rows = await db.session.query<{ id: string; master_flow_id: string; client_account_id: string; engagement_id: string }>(
        'SELECT r.id::text, r.master_flow_id::text, r.client_account_id::text, r.engagement_id::text FROM raw_import_records r WHERE r.data_import_id = $1',
        [importId],
      );
      const parent = await one<{ master_flow_id: string; client_account_id: string; engagement_id: string }>(
        db.session,
        'SELECT master_flow_id::text, client_account_id::text, engagement_id::text FROM data_imports WHERE id = $1',
        [importId],
      );
      expect(rows.map((row) => row.id).sort()).toEqual([...recordIds].sort());
      for (const row of rows) expect({ ...row, id: undefined }).toEqual({ ...parent, id: undefined });
    }
  });

  it('links every discovery flow, keeps it with its import, and clears references it cannot keep', async () => {
    const original = new Map(legacyRows('discovery_flows').map((row) => [row.id as string, row]));
    for (const [id, expected] of scenario.discoveryFlows) {
      const row = await one<{ flow_id: string; master_flow_id: string; data_import_id: string | null; client_account_id: string }>(
        db.session,
        'SELECT flow_id::text, master_flow_id::text, data_import_id::text, client_account_id::text FROM discovery_flows WHERE id = $1',
        [id],
      );
      if (expected.kind === 'linked') expect(row.master_flow_id, expected.label).toBe(expected.flowId);
      else {
        expect(scenario.masterFlowIds, expected.label).not.toContain(row.master_flow_id);
        if (expected.keepsFlowId) expect(row.master_flow_id, `${expected.label}: adopted master takes its flow_id`).toBe(row.flow_id);
      }
      const master = await one<{ client_account_id: string }>(
        db.session,
        'SELECT client_account_id::text FROM crewai_flow_state_extensions WHERE flow_id = $1',
        [row.master_flow_id],
      );
      expect(master.client_account_id, expected.label).toBe(row.client_account_id);
      if (scenario.cleared.has(id)) expect(row.data_import_id, expected.label).toBeNull();
      else expect(row.data_import_id, expected.label).toBe(original.get(id)!.data_import_id ?? null);
      if (row.data_import_id) {
        const parent = await one<{ master_flow_id: string }>(db.session, 'SELECT master_flow_id::text FROM data_imports WHERE id = $1', [row.data_import_id]);
        expect(parent.master_flow_id, `${expected.label}: same master flow as its import`).toBe(row.master_flow_id);
      }
    }
    expect(applied.clearedImportReferences.map((item) => [item.discoveryFlowId, item.reason]).sort()).toEqual([...scenario.cleared].sort());
  });

  it('reports per table: linked by each rule, adopted by reason, ambiguous and cross-tenant ids', () => {
    const expectedFor = (entries: Scenario['imports'], table: string) => {
      const report = applied.tables.find((candidate) => candidate.table === table)!;
      // Rows that change = linked + adopted; and that is the orphans plus the wrong references.
      expect(report.linked + report.adopted, table).toBe(report.orphans + report.wrongReferences);
      expect(report.rows, table).toBe(report.alreadyLinked + report.orphans + report.wrongReferences);
      const changing = [...entries].filter(([, expected]) => !(expected.kind === 'linked' && expected.unchanged));
      for (const rule of EVIDENCE_RULES) {
        const count = changing.filter(([, expected]) => expected.kind === 'linked' && expected.rules.includes(rule)).length;
        expect(report.linkedByRule[rule], `${table} ${rule}`).toBe(count);
      }
      for (const reason of ADOPTION_REASONS) {
        expect(report.adoptedByReason[reason], `${table} ${reason}`).toBe(changing.filter(([, expected]) => expected.kind === 'adopted' && expected.reason === reason).length);
      }
      expect(report.ambiguous.map((item) => item.id).sort(), table).toEqual(
        changing.filter(([, expected]) => expected.kind === 'adopted' && expected.reason === 'ambiguous').map(([id]) => id).sort(),
      );
      return report;
    };
    const imports = expectedFor(scenario.imports, 'data_imports');
    expect(imports.alreadyLinked).toBe(1);
    expect(imports.wrongReferences).toBe(1); // the time-proximity reference contradicted by the name
    expect(imports.tenantConflicts.map((item) => item.id).sort()).toEqual(
      [...scenario.imports].filter(([, expected]) => expected.label.startsWith('cross-tenant')).map(([id]) => id).sort(),
    );
    expect(imports.tenantFilled).toBe(legacyRows('data_imports').filter((row) => row.client_account_id === null).length);
    expect(imports.referenceOnly).toBe(0);
    const flows = expectedFor(scenario.discoveryFlows, 'discovery_flows');
    expect(flows.alreadyLinked).toBe(2);
    // The flow kept on its own reference alone is listed, so a person can check it.
    expect(flows.referenceOnly).toBe(1);
    expect(flows.referenceOnlyIds.map((item) => item.id)).toEqual(
      [...scenario.discoveryFlows].filter(([, expected]) => expected.label === 'own reference alone').map(([id]) => id),
    );

    const raws = applied.tables.find((table) => table.table === 'raw_import_records')!;
    const rowsOf = (filter: (expected: Scenario['imports'] extends Map<string, infer V> ? V : never) => boolean) =>
      [...scenario.imports].filter(([, expected]) => filter(expected)).reduce((sum, [id]) => sum + (scenario.rawRecords.get(id)?.length ?? 0), 0);
    expect(raws.adopted).toBe(rowsOf((expected) => expected.kind === 'adopted'));
    expect(raws.linkedByRule.raw_record_import).toBe(rowsOf((expected) => expected.kind === 'linked' && expected.label !== 'already correct'));
    expect(raws.alreadyLinked).toBe(rowsOf((expected) => expected.label === 'already correct'));
    expect(raws.linked + raws.adopted).toBe(raws.orphans + raws.wrongReferences);
  });

  it('adopted master flows take their status from the child and say why they exist', async () => {
    const adopted = await db.session.query<{ flow_id: string; flow_status: string; flow_type: string; phase_transitions: unknown[]; flow_configuration: Record<string, unknown> }>(
      `SELECT flow_id::text, flow_status, flow_type, phase_transitions, flow_configuration FROM crewai_flow_state_extensions
        WHERE flow_configuration ->> 'recovered' = 'true'`,
    );
    expect(adopted).toHaveLength(applied.adoptedMasterFlows.length);
    const byImport = (label: string) => {
      const id = [...scenario.imports].find(([, expected]) => expected.label === label)![0];
      return adopted.find((flow) => flow.flow_configuration.data_import_id === id)!;
    };
    expect(byImport('no evidence').flow_status).toBe('running'); // import 'processing'
    expect(byImport('adopted with its discovery flow').flow_status).toBe('failed'); // its discovery flow 'failed'
    const standalone = adopted.find((flow) => flow.flow_configuration.data_import_id === undefined)!;
    expect(standalone.flow_status).toBe('paused');
    expect(adopted.every((flow) => flow.flow_type === 'discovery')).toBe(true);
    expect(adopted.every((flow) => (flow.phase_transitions[0] as { by: string }).by === 'flowgraph-repair')).toBe(true);
    const ambiguous = byImport('two masters claim it');
    expect((ambiguous.flow_configuration.candidate_flow_ids as string[]).length).toBe(2);

    // Their creation is in the event log (docs/design.md invariant 4), numbered from the start of the log.
    const events = await db.session.query<{ sequence: string; master_flow_id: string; kind: string; actor: string; payload: { after: string } }>(
      'SELECT sequence::text, master_flow_id::text, kind, actor, payload FROM flow_events ORDER BY sequence',
    );
    expect(events.map((event) => Number(event.sequence))).toEqual(adopted.map((_flow, index) => index + 1));
    expect(events.map((event) => event.master_flow_id).sort()).toEqual(adopted.map((flow) => flow.flow_id).sort());
    expect(events.every((event) => event.kind === 'master_flow_created' && event.actor === 'flowgraph-repair')).toBe(true);
    const statusOf = new Map(adopted.map((flow) => [flow.flow_id, flow.flow_status]));
    expect(events.every((event) => event.payload.after === statusOf.get(event.master_flow_id))).toBe(true);
    const [counter] = await db.session.query<{ last_sequence: string }>('SELECT last_sequence::text FROM flow_event_sequence');
    expect(Number(counter?.last_sequence)).toBe(adopted.length);
  });

  it('maps legacy status values by the documented rules and derives invalid phases', async () => {
    for (const [flowId, status] of scenario.mappedMasterStatuses) {
      expect((await one<{ flow_status: string }>(db.session, 'SELECT flow_status FROM crewai_flow_state_extensions WHERE flow_id = $1', [flowId])).flow_status).toBe(status);
    }
    const [importId] = [...scenario.imports].find(([, expected]) => expected.label === 'legacy statuses')!;
    expect((await one<{ status: string }>(db.session, 'SELECT status FROM data_imports WHERE id = $1', [importId])).status).toBe('failed');
    for (const [id, derived] of scenario.derivedPhases) {
      const row = await one<{ status: string; current_phase: string; progress_percentage: number }>(
        db.session,
        'SELECT status, current_phase, progress_percentage FROM discovery_flows WHERE id = $1',
        [id],
      );
      expect(row).toEqual({ status: 'active', current_phase: derived.currentPhase, progress_percentage: derived.progressPercentage });
    }
    expect(applied.statusMappings.map((mapping) => `${mapping.table}.${mapping.column}:${mapping.from}=${mapping.to}/${mapping.rule}`).sort()).toEqual([
      'crewai_flow_state_extensions.flow_status:Completed=completed/letter_case',
      'crewai_flow_state_extensions.flow_status:in_progress=running/synonym',
      'data_imports.status:error=failed/synonym',
      'discovery_flows.status:running=active/synonym',
    ]);
  });

  it('keeps the legacy-only column and its values', async () => {
    const [row] = await db.session.query<{ n: unknown }>(`SELECT count(*)::int AS n FROM data_imports WHERE legacy_batch = 'batch-7'`);
    expect(Number(row?.n)).toBe(legacyRows('data_imports').length);
  });

  it('leaves exactly the catalog the migrations create (columns, types, defaults, constraints, indexes, triggers)', async () => {
    const repaired = await catalogSnapshot(db.session, { ignoreColumns: [LEGACY_ONLY_COLUMN] });
    expect(repaired).toEqual(fresh);
  });

  it('records the migrations like the migrator does, so start-up applies nothing', async () => {
    const migrations = await readMigrations();
    const rows = await db.session.query<{ migration_name: string; checksum: string; applied_steps_count: number; logs: string | null }>(
      'SELECT migration_name, checksum, applied_steps_count, logs FROM _prisma_migrations WHERE finished_at IS NOT NULL ORDER BY migration_name',
    );
    expect(rows.map((row) => [row.migration_name, row.checksum])).toEqual(migrations.map((migration) => [migration.name, migration.checksum]));
    expect(rows.every((row) => row.applied_steps_count === 1 && row.logs === null)).toBe(true);
    expect((await migrationStatus(db.session)).pending).toEqual([]);
    expect(await applyMigrations(db.session)).toEqual([]);
  });

  it('doctor then reports clean, and a second repair finds nothing to do', async () => {
    const report = await integrityReport(db.session);
    expect(report.problems).toEqual([]);
    expect(report.clean).toBe(true);
    expect(report.shape).toBe('flowgraph');
    const fingerprint = await dataFingerprint(db.session);
    const again = await repairDatabase(db.session, { apply: true });
    expect(again.outcome).toBe('nothing_to_do');
    expect(await dataFingerprint(db.session)).toBe(fingerprint);
  });

  it('now refuses what the legacy database accepted', async () => {
    const { tenantA, tenantB } = scenario;
    const linked = [...scenario.imports].find(([, expected]) => expected.label === 'name only')!;
    const masterFlowId = (linked[1] as { flowId: string }).flowId;
    const { id: internalId } = await one<{ id: string }>(db.session, 'SELECT id::text FROM crewai_flow_state_extensions WHERE flow_id = $1', [masterFlowId]);
    const insertImport = (master: string | null, tenant = tenantA) =>
      db.session.query(
        `INSERT INTO data_imports (client_account_id, engagement_id, master_flow_id, import_name, import_type, filename, imported_by)
         VALUES ($1, $2, $3, 'x', 'servers', 'x.csv', 'tester')`,
        [tenant.clientAccountId, tenant.engagementId, master],
      );
    await expect(insertImport(null)).rejects.toThrow(/null value in column "master_flow_id"/);
    await expect(insertImport(internalId)).rejects.toThrow(/data_imports_master_flow_id_fkey/);
    await expect(insertImport(randomUUID())).rejects.toThrow(/data_imports_master_flow_id_fkey/);
    await expect(insertImport(masterFlowId, tenantB)).rejects.toThrow(/differs from its master flow's tenant/);
    await expect(
      db.session.query(
        `INSERT INTO raw_import_records (data_import_id, client_account_id, engagement_id, row_number, raw_data) VALUES ($1, $2, $3, 99, '{}')`,
        [linked[0], tenantA.clientAccountId, tenantA.engagementId],
      ),
    ).rejects.toThrow(/null value in column "master_flow_id"/);
    await expect(db.session.query(`UPDATE discovery_flows SET status = 'in_progress'`)).rejects.toThrow(/discovery_flows_status_check/);
    await expect(db.session.query(`UPDATE raw_import_records SET client_account_id = NULL`)).rejects.toThrow(/null value in column "client_account_id"/);

    // Deleting a master flow now takes its subtree with it (inside a transaction that is rolled back).
    await db.session.exec('BEGIN');
    try {
      await db.session.query('DELETE FROM crewai_flow_state_extensions WHERE flow_id = $1', [masterFlowId]);
      const [left] = await db.session.query<{ imports: number; raws: number }>(
        `SELECT (SELECT count(*)::int FROM data_imports WHERE id = $1) AS imports, (SELECT count(*)::int FROM raw_import_records WHERE data_import_id = $1) AS raws`,
        [linked[0]],
      );
      expect(left).toEqual({ imports: 0, raws: 0 });
    } finally {
      await db.session.exec('ROLLBACK');
    }
  });

  it('now writes the event log for every writer, as a fresh database does (the later migrations brought the triggers)', async () => {
    const linked = [...scenario.imports].find(([, expected]) => expected.label === 'name only')!;
    const masterFlowId = (linked[1] as { flowId: string }).flowId;
    const before = await one<{ flow_status: string; version: number; last: string }>(
      db.session,
      `SELECT flow_status, version, (SELECT last_sequence::text FROM flow_event_sequence) AS last FROM crewai_flow_state_extensions WHERE flow_id = $1`,
      [masterFlowId],
    );
    const next = before.flow_status === 'paused' ? 'running' : 'paused';
    // A plain UPDATE, as the platform's workers write, in its own transaction.
    await db.session.query(`UPDATE crewai_flow_state_extensions SET flow_status = $2 WHERE flow_id = $1`, [masterFlowId, next]);
    const events = await db.session.query<{ sequence: string; kind: string; payload: Record<string, unknown> }>(
      'SELECT sequence::text, kind, payload FROM flow_events WHERE sequence > $1 ORDER BY sequence',
      [before.last],
    );
    expect(events).toEqual([
      { sequence: String(Number(before.last) + 1), kind: 'status_changed', payload: { before: before.flow_status, after: next, version: before.version + 1 } },
    ]);
    const after = await one<{ version: number }>(db.session, 'SELECT version FROM crewai_flow_state_extensions WHERE flow_id = $1', [masterFlowId]);
    expect(after.version).toBe(before.version + 1);
    await db.session.query(`UPDATE crewai_flow_state_extensions SET flow_status = $2 WHERE flow_id = $1`, [masterFlowId, before.flow_status]);
  });
});

describe('a repair interrupted after its link stage', () => {
  beforeAll(async () => {
    await db.reset();
    await buildLegacy(db.session, db.kind);
  });

  it('leaves a database npm start refuses and doctor explains, and the next run finishes it', async () => {
    const first = await repairDatabase(db.session, { apply: true, interruptAfterLinkStage: true });
    expect(first.outcome).toBe('applied');
    const { shape } = await inspect(db.session, await readMigrations());
    expect(shape.kind).toBe('repair_in_progress');

    const report = await integrityReport(db.session);
    expect(report.problems.map((problem) => problem.kind)).toContain('repair_in_progress');
    expect(report.problems.filter((problem) => problem.kind === 'constraint_not_validated').length).toBeGreaterThan(0);
    // Every child is linked already: the rows are complete, only the proof is pending.
    expect(report.problems.filter((problem) => problem.count !== null)).toEqual([]);

    const refused = await applyMigrations(db.session).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(MigrationHistoryError);
    expect((refused as Error).message).toContain('npm run repair -- --apply');

    const plan = await repairDatabase(db.session);
    expect(plan.outcome).toBe('planned');
    expect(plan.statements.filter((statement) => statement.stage === 'validate').length).toBeGreaterThan(0);
    expect((await inspect(db.session, await readMigrations())).shape.kind).toBe('repair_in_progress');

    const finished = await repairDatabase(db.session, { apply: true });
    expect(finished.outcome).toBe('finished');
    expect((await integrityReport(db.session)).clean).toBe(true);
    expect(await catalogSnapshot(db.session, { ignoreColumns: [LEGACY_ONLY_COLUMN] })).toEqual(fresh);
    expect(await applyMigrations(db.session)).toEqual([]);
  });
});
