// What the repair refuses, and that a refusal changes nothing: data only a person can decide about
// (blocking problems), and databases whose shape it does not recognise. Also: a flowgraph database needs
// nothing, and the migrator refuses an unrepaired legacy database without writing to it.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { applyMigrations, MigrationHistoryError } from '../src/db/migrator.ts';
import { repairDatabase, UnrecognisedDatabaseError } from '../src/services/legacy-repair.ts';
import { integrityReport } from '../src/services/integrity-report.ts';
import { catalogSnapshot } from './support/catalog-snapshot.ts';
import { createLegacySchema, LegacyBuilder, newTenant } from './support/legacy-fixtures.ts';
import { dataFingerprint, scratchDatabase, type ScratchDatabase } from './support/scratch-database.ts';

let db: ScratchDatabase;

beforeAll(async () => {
  db = await scratchDatabase('refusals');
});
afterAll(async () => db?.dispose());

beforeEach(async () => {
  await db.reset();
});

async function legacy(build: (builder: LegacyBuilder) => void): Promise<void> {
  await createLegacySchema(db.session, { pgcrypto: db.kind === 'postgres' });
  const builder = new LegacyBuilder();
  build(builder);
  await builder.write(db.session);
}

/** Runs --apply, expects a refusal of the given kind, and checks that nothing changed. */
async function expectRefused(kind: string, ids: string[]) {
  const before = { data: await dataFingerprint(db.session), catalog: await catalogSnapshot(db.session) };
  const report = await repairDatabase(db.session, { apply: true });
  expect(report.outcome).toBe('refused');
  expect(report.blocking.map((problem) => problem.kind)).toEqual([kind]);
  for (const id of ids) expect(report.blocking[0]!.ids).toContain(id);
  expect(await dataFingerprint(db.session)).toBe(before.data);
  expect(await catalogSnapshot(db.session)).toEqual(before.catalog);
  return report;
}

describe('blocking problems: refused, nothing changed', () => {
  it('an import whose raw records state another tenant', async () => {
    const tenant = newTenant();
    let id = '';
    await legacy((b) => {
      const master = b.master({ tenant });
      id = b.dataImport({ tenant, masterFlowRef: master.id });
      b.raws(id, { rows: 2, tenant });
      b.raws(id, { rows: 1, tenant: newTenant(), firstRowNumber: 3 });
    });
    const report = await expectRefused('import_tenant_conflict', [id]);
    expect(report.blocking[0]!.message).toContain('different tenants');
  });

  it('an import that cannot be linked and states no tenant to adopt it in', async () => {
    let id = '';
    await legacy((b) => {
      b.master({ tenant: newTenant(), name: 'unrelated' });
      id = b.dataImport({ tenant: null });
      b.raws(id, { rows: 2 });
    });
    await expectRefused('tenant_unknown', [id]);
  });

  it('an import without tenant named by discovery flows of two tenants', async () => {
    let id = '';
    await legacy((b) => {
      id = b.dataImport({ tenant: null });
      b.discovery({ tenant: newTenant(), dataImportId: id });
      b.discovery({ tenant: newTenant(), dataImportId: id });
    });
    await expectRefused('import_tenant_unknown', [id]);
  });

  it('duplicate and non-positive row numbers', async () => {
    const tenant = newTenant();
    let duplicated: string[] = [];
    await legacy((b) => {
      const id = b.dataImport({ tenant });
      duplicated = [...b.raws(id, { rows: 1 }), ...b.raws(id, { rows: 1 })];
    });
    await expectRefused('duplicate_row_number', duplicated);

    await db.reset();
    let zero: string[] = [];
    await legacy((b) => {
      zero = b.raws(b.dataImport({ tenant }), { rows: 1, firstRowNumber: 0 });
    });
    await expectRefused('invalid_row_number', zero);
  });

  it('a status no rule maps, until the operator maps it', async () => {
    const tenant = newTenant();
    let flowId = '';
    await legacy((b) => {
      flowId = b.master({ tenant, status: 'awaiting_approval' }).flowId;
    });
    const report = await expectRefused('unmapped_status', [flowId]);
    expect(report.blocking[0]!.message).toContain('--map-status crewai_flow_state_extensions.flow_status:awaiting_approval=<status>');

    const mapped = await repairDatabase(db.session, {
      apply: true,
      statusMappings: [{ table: 'crewai_flow_state_extensions', column: 'flow_status', from: 'awaiting_approval', to: 'paused' }],
    });
    expect(mapped.outcome).toBe('applied');
    expect(mapped.statusMappings).toEqual([
      { table: 'crewai_flow_state_extensions', column: 'flow_status', from: 'awaiting_approval', to: 'paused', rule: 'operator', rows: 1 },
    ]);
    const [row] = await db.session.query<{ flow_status: string }>('SELECT flow_status FROM crewai_flow_state_extensions WHERE flow_id = $1', [flowId]);
    expect(row?.flow_status).toBe('paused');
  });

  it('a dry run reports the same refusal', async () => {
    let id = '';
    await legacy((b) => {
      id = b.dataImport({ tenant: null });
    });
    const report = await repairDatabase(db.session);
    expect(report.outcome).toBe('refused');
    expect(report.dryRun).toBe(true);
    expect(report.blocking[0]?.ids).toEqual([id]);
  });
});

describe('shapes the repair does not recognise: refused, nothing changed', () => {
  async function expectUnrecognised(reason: RegExp) {
    const before = await catalogSnapshot(db.session);
    for (const apply of [false, true]) {
      const error = await repairDatabase(db.session, { apply }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(UnrecognisedDatabaseError);
      expect((error as UnrecognisedDatabaseError).reasons.join('\n')).toMatch(reason);
    }
    expect(await catalogSnapshot(db.session)).toEqual(before);
    const report = await integrityReport(db.session);
    expect(report.shape).toBe('unrecognised');
    expect(report.clean).toBe(false);
  }

  it('an empty database', async () => {
    await expectUnrecognised(/none of the legacy tables exists/);
  });

  it('a legacy table without one of its columns', async () => {
    await legacy(() => {});
    await db.session.exec('ALTER TABLE data_imports DROP COLUMN filename');
    await expectUnrecognised(/data_imports\.filename is missing/);
  });

  it('a column of another type', async () => {
    await legacy(() => {});
    await db.session.exec('ALTER TABLE raw_import_records ALTER COLUMN row_number TYPE bigint');
    await expectUnrecognised(/raw_import_records\.row_number is bigint, expected integer/);
  });

  it('a database that looks partly migrated', async () => {
    await legacy(() => {});
    await db.session.exec('ALTER TABLE crewai_flow_state_extensions ADD COLUMN version integer NOT NULL DEFAULT 0');
    await expectUnrecognised(/crewai_flow_state_extensions\.version already exists/);
  });

  it('a legacy table missing, or a required column nullable', async () => {
    await legacy(() => {});
    await db.session.exec('DROP TABLE discovery_flows; ALTER TABLE crewai_flow_state_extensions ALTER COLUMN user_id DROP NOT NULL');
    await expectUnrecognised(/legacy tables missing: discovery_flows[\s\S]*user_id is nullable/);
  });
});

describe('other databases', () => {
  it("flowgraph's own database: nothing to do", async () => {
    await applyMigrations(db.session);
    const before = await catalogSnapshot(db.session);
    const report = await repairDatabase(db.session, { apply: true });
    expect(report.outcome).toBe('nothing_to_do');
    expect(report.shape).toBe('flowgraph');
    expect(await catalogSnapshot(db.session)).toEqual(before);
    expect((await integrityReport(db.session)).clean).toBe(true);
  });

  it('the migrator refuses an unrepaired legacy database and writes nothing to it', async () => {
    await legacy((b) => {
      b.dataImport({ tenant: newTenant() });
    });
    const before = { data: await dataFingerprint(db.session), catalog: await catalogSnapshot(db.session) };
    const error = await applyMigrations(db.session).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MigrationHistoryError);
    expect((error as Error).message).toMatch(/tables of the old discovery platform.*npm run doctor.*npm run repair/s);
    expect(await dataFingerprint(db.session)).toBe(before.data);
    expect(await catalogSnapshot(db.session)).toEqual(before.catalog);
  });
});
