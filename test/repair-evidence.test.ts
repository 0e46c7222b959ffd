// The pure rules of the repair: which master flow the evidence names, when that is a link, what is
// adopted, what blocks; the legacy value rules; the migration SQL reader the repair derives its target from.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseCreateTable, splitStatements } from '../src/db/migration-statements.ts';
import { readMigrations } from '../src/db/migrator.ts';
import { mapStatus, parseOperatorMapping, phaseFix, STATUS_COLUMNS, StatusMappingError } from '../src/domain/legacy-values.ts';
import { adoptedMasterFlow, rowOutcomes } from '../src/domain/repair-accounting.ts';
import {
  decideLinks,
  importIdFromName,
  supportingRules,
  type DataImportFacts,
  type DiscoveryFlowFacts,
  type LinkFacts,
  type MasterFlowFacts,
  type Tenant,
} from '../src/domain/repair-evidence.ts';
import { repairTargetFrom } from '../src/services/repair-target.ts';

const tenant = (): Tenant => ({ clientAccountId: randomUUID(), engagementId: randomUUID() });
const A = tenant();
const B = tenant();

function master(owner: Tenant, fields: Partial<MasterFlowFacts> = {}): MasterFlowFacts {
  return { id: randomUUID(), flowId: randomUUID(), ...owner, flowName: null, configuredImportId: null, ...fields };
}

function dataImport(owner: Tenant | null, fields: Partial<DataImportFacts> = {}): DataImportFacts {
  return {
    id: randomUUID(),
    clientAccountId: owner?.clientAccountId ?? null,
    engagementId: owner?.engagementId ?? null,
    masterFlowRef: null,
    importName: 'servers',
    importedBy: 'someone',
    status: 'completed',
    createdAt: new Date('2025-01-01T10:00:00Z'),
    ...fields,
  };
}

function discovery(owner: Tenant, fields: Partial<DiscoveryFlowFacts> = {}): DiscoveryFlowFacts {
  return {
    id: randomUUID(),
    flowId: randomUUID(),
    masterFlowRef: null,
    ...owner,
    dataImportId: null,
    userId: 'someone',
    flowName: null,
    status: 'active',
    createdAt: new Date('2025-01-01T10:00:00Z'),
    updatedAt: new Date('2025-01-01T10:00:00Z'),
    ...fields,
  };
}

function decide(facts: Partial<LinkFacts>) {
  const full: LinkFacts = { masterFlows: [], dataImports: [], rawRecords: [], discoveryFlows: [], ...facts };
  let next = 0;
  return decideLinks(full, () => `00000000-0000-4000-8000-${String(++next).padStart(12, '0')}`);
}

describe('evidence rules', () => {
  it("reads 'Discovery Import <id>' names, in any letter case, and nothing else", () => {
    const id = randomUUID();
    expect(importIdFromName(`Discovery Import ${id}`)).toBe(id);
    expect(importIdFromName(`  Discovery Import ${id.toUpperCase()} `)).toBe(id);
    expect(importIdFromName(`Discovery Import ${id} (retry)`)).toBeNull();
    expect(importIdFromName('Discovery Import not-a-uuid-at-all-but-36-characters!!')).toBeNull();
    expect(importIdFromName(null)).toBeNull();
  });

  it('links by each rule on its own', () => {
    const named = dataImport(A);
    const configured = dataImport(A);
    const byName = master(A, { flowName: `Discovery Import ${named.id}` });
    const byConfig = master(A, { configuredImportId: configured.id });
    const byFlowId = master(A);
    const flow = discovery(A, { flowId: byFlowId.flowId });
    const existing = dataImport(A, { masterFlowRef: byFlowId.id });
    const plan = decide({ masterFlows: [byName, byConfig, byFlowId], dataImports: [named, configured, existing], discoveryFlows: [flow] });
    const decisionOf = (id: string) => plan.groups.find((group) => group.dataImportId === id || group.discoveryFlowIds.includes(id))!;
    expect(decisionOf(named.id).decision).toEqual({ kind: 'linked', flowId: byName.flowId, tenant: A });
    expect(decisionOf(configured.id).decision).toMatchObject({ kind: 'linked', flowId: byConfig.flowId });
    expect(decisionOf(flow.id).decision).toMatchObject({ kind: 'linked', flowId: byFlowId.flowId });
    expect(decisionOf(existing.id).decision).toMatchObject({ kind: 'linked', flowId: byFlowId.flowId });
    expect(supportingRules(decisionOf(named.id), { table: 'data_imports', id: named.id })).toEqual(['master_name']);
    expect(supportingRules(decisionOf(existing.id), { table: 'data_imports', id: existing.id })).toEqual(['existing_reference']);
    expect(plan.blocking).toEqual([]);
  });

  it('a discovery flow and the import it names share their evidence (discovery_import)', () => {
    const owner = master(A);
    const imported = dataImport(null);
    const flow = discovery(A, { flowId: owner.flowId, dataImportId: imported.id });
    const plan = decide({ masterFlows: [owner], dataImports: [imported], discoveryFlows: [flow] });
    expect(plan.groups).toHaveLength(1);
    const [group] = plan.groups;
    expect(group!.decision).toEqual({ kind: 'linked', flowId: owner.flowId, tenant: A });
    expect(supportingRules(group!, { table: 'data_imports', id: imported.id })).toEqual(['flow_id', 'discovery_import']);
    expect(supportingRules(group!, { table: 'discovery_flows', id: flow.id })).toEqual(['flow_id']);
  });

  it('time is not an input: imports created seconds after a master flow stay unlinked without evidence', () => {
    const early = master(A);
    const late = dataImport(A, { createdAt: new Date('2025-01-01T10:00:01Z') });
    const plan = decide({ masterFlows: [early], dataImports: [late] });
    expect(plan.groups[0]!.decision).toMatchObject({ kind: 'adopted', reason: 'no_evidence', tenant: A });
  });

  it('disagreeing evidence is not a link: two master flows, or one contradicting itself', () => {
    const imported = dataImport(A);
    const one = master(A, { flowName: `Discovery Import ${imported.id}` });
    const two = master(A, { configuredImportId: imported.id });
    const plan = decide({ masterFlows: [one, two], dataImports: [imported] });
    expect(plan.groups[0]!.decision).toMatchObject({ kind: 'adopted', reason: 'ambiguous', candidates: [one.flowId, two.flowId] });

    const first = dataImport(A);
    const second = dataImport(A);
    const confused = master(A, { flowName: `Discovery Import ${first.id}`, configuredImportId: second.id });
    const contradicted = decide({ masterFlows: [confused], dataImports: [first, second] });
    expect(contradicted.groups.map((group) => group.decision.kind === 'adopted' && group.decision.reason)).toEqual(['ambiguous', 'ambiguous']);
  });

  it("another tenant's master flow is never a link, and does not spoil real evidence", () => {
    const imported = dataImport(A);
    const foreign = master(B, { flowName: `Discovery Import ${imported.id}` });
    const alone = decide({ masterFlows: [foreign], dataImports: [imported] });
    expect(alone.groups[0]!.decision).toMatchObject({ kind: 'adopted', reason: 'tenant_conflict', tenant: A });
    expect(alone.groups[0]!.otherTenantEvidence.map((item) => item.flowId)).toEqual([foreign.flowId]);

    const own = master(A, { configuredImportId: imported.id });
    const beside = decide({ masterFlows: [foreign, own], dataImports: [imported] });
    expect(beside.groups[0]!.decision).toMatchObject({ kind: 'linked', flowId: own.flowId });
  });

  it("a discovery flow naming another tenant's import is cut from it, and linked on its own evidence", () => {
    const imported = dataImport(A);
    const theirs = master(B);
    const flow = discovery(B, { flowId: theirs.flowId, dataImportId: imported.id });
    const plan = decide({ masterFlows: [theirs], dataImports: [imported], discoveryFlows: [flow] });
    expect(plan.clearedImportReferences).toEqual([{ discoveryFlowId: flow.id, dataImportId: imported.id, reason: 'cross_tenant' }]);
    const flowGroup = plan.groups.find((group) => group.discoveryFlowIds.includes(flow.id))!;
    expect(flowGroup.dataImportId).toBeNull();
    expect(flowGroup.decision).toMatchObject({ kind: 'linked', flowId: theirs.flowId });
    expect(plan.groups.find((group) => group.dataImportId === imported.id)!.decision).toMatchObject({ kind: 'adopted', tenant: A });
  });

  it('a tenant the rows do not state is taken from the master flow, never invented', () => {
    const imported = dataImport(null);
    const owner = master(B, { flowName: `Discovery Import ${imported.id}` });
    const linked = decide({ masterFlows: [owner], dataImports: [imported], rawRecords: [{ dataImportId: imported.id, masterFlowRef: null, clientAccountId: null, engagementId: null, rows: 3 }] });
    expect(linked.groups[0]!.decision).toEqual({ kind: 'linked', flowId: owner.flowId, tenant: B });
    const outcomes = rowOutcomes({ masterFlows: [owner], dataImports: [imported], rawRecords: [{ dataImportId: imported.id, masterFlowRef: null, clientAccountId: null, engagementId: null, rows: 3 }], discoveryFlows: [] }, linked);
    expect(outcomes.reports.raw_import_records).toMatchObject({ rows: 3, orphans: 3, linked: 3, tenantFilled: 3 });
    expect(outcomes.rawRecordsToUpdate).toBe(3);

    const unknown = decide({ dataImports: [dataImport(null)] });
    expect(unknown.groups[0]!.decision.kind).toBe('blocked');
    expect(unknown.blocking.map((problem) => problem.kind)).toEqual(['tenant_unknown']);
  });

  it('raw records that state another tenant than their import block the repair', () => {
    const imported = dataImport(A);
    const plan = decide({ dataImports: [imported], rawRecords: [{ dataImportId: imported.id, masterFlowRef: null, ...B, rows: 1 }] });
    expect(plan.blocking.map((problem) => problem.kind)).toEqual(['import_tenant_conflict']);
    expect(plan.groups).toEqual([]);
  });

  it('an adopted master flow keeps its discovery flow\'s flow_id unless a master flow has it', () => {
    const free = discovery(A, { status: 'paused' });
    const taken = master(B);
    const clash = discovery(A, { flowId: taken.flowId });
    const plan = decide({ masterFlows: [taken], discoveryFlows: [free, clash] });
    const freeGroup = plan.groups.find((group) => group.discoveryFlowIds.includes(free.id))!;
    const clashGroup = plan.groups.find((group) => group.discoveryFlowIds.includes(clash.id))!;
    expect(freeGroup.decision).toMatchObject({ kind: 'adopted', flowId: free.flowId, reason: 'no_evidence' });
    expect(clashGroup.decision).toMatchObject({ kind: 'adopted', reason: 'tenant_conflict', flowId: '00000000-0000-4000-8000-000000000001' });
    const adopted = adoptedMasterFlow(freeGroup, undefined, [free], new Date('2026-01-01T00:00:00Z'));
    expect(adopted).toMatchObject({ flowId: free.flowId, flowStatus: 'paused', flowType: 'discovery', ...A });
    expect(adopted.flowConfiguration).toMatchObject({ recovered: true, recovery_reason: 'no_evidence', discovery_flow_ids: [free.id] });
  });
});

describe('legacy values', () => {
  const [masterStatus, importStatus, discoveryStatus] = STATUS_COLUMNS as [never, never, never];

  it('maps letter case and documented synonyms, and nothing else', () => {
    expect(mapStatus(masterStatus, 'running')).toBeNull();
    expect(mapStatus(masterStatus, 'RUNNING')).toEqual({ to: 'running', rule: 'letter_case' });
    expect(mapStatus(masterStatus, 'in-progress')).toEqual({ to: 'running', rule: 'synonym' });
    expect(mapStatus(importStatus, 'error')).toEqual({ to: 'failed', rule: 'synonym' });
    expect(mapStatus(discoveryStatus, 'running')).toEqual({ to: 'active', rule: 'synonym' });
    expect(mapStatus(masterStatus, 'cancelled')).toBe('unmapped');
    const mapping = parseOperatorMapping('crewai_flow_state_extensions.flow_status:cancelled=failed');
    expect(mapStatus(masterStatus, 'cancelled', [mapping])).toEqual({ to: 'failed', rule: 'operator' });
  });

  it('refuses operator mappings to values flowgraph does not allow, or of unknown columns', () => {
    expect(() => parseOperatorMapping('data_imports.status:x=exploded')).toThrow(StatusMappingError);
    expect(() => parseOperatorMapping('data_imports.filename:x=completed')).toThrow(/not a status column/);
    expect(() => parseOperatorMapping('nonsense')).toThrow(/table\.column:from=to/);
  });

  it('derives only the phase values the CHECK constraints refuse', () => {
    const flags = { dataImportCompleted: true, dataValidationCompleted: true, fieldMappingCompleted: false, dataCleansingCompleted: false, assetInventoryCompleted: false };
    expect(phaseFix({ id: 'x', currentPhase: 'data_import', progressPercentage: 10, flags })).toBeNull();
    expect(phaseFix({ id: 'x', currentPhase: 'mapping', progressPercentage: -5, flags })).toEqual({
      id: 'x',
      currentPhase: { from: 'mapping', to: 'field_mapping' },
      progressPercentage: { from: -5, to: 40 },
    });
  });
});

describe('reading the first migration', () => {
  it('splits statements without breaking quotes, dollar-quoted bodies or comments', () => {
    const script = `-- a comment; with a semicolon\nCREATE TABLE "t" ("a" TEXT NOT NULL DEFAULT 'x;y');\n/* block; */\nCREATE FUNCTION "f"() RETURNS trigger LANGUAGE plpgsql AS $fn$ BEGIN RAISE 'it''s; fine'; END $fn$;\nINSERT INTO "t" VALUES ('a''b;c')`;
    const statements = splitStatements(script);
    expect(statements).toHaveLength(3);
    expect(statements[1]).toMatch(/^CREATE FUNCTION[\s\S]*\$fn\$$/);
    expect(statements[2]).toBe(`INSERT INTO "t" VALUES ('a''b;c')`);
  });

  it('knows every statement and column of the first migration', async () => {
    const [first] = await readMigrations();
    const target = repairTargetFrom(first!);
    expect(target.tables.map((table) => table.name)).toContain('data_imports');
    const dataImports = target.tables.find((table) => table.name === 'data_imports')!;
    expect(dataImports.columns.find((column) => column.name === 'master_flow_id')).toMatchObject({ formatType: 'uuid', notNull: true, default: null });
    expect(target.functions.length).toBeGreaterThan(0);
  });

  it('refuses a column line it does not understand', () => {
    expect(() => parseCreateTable('CREATE TABLE "t" (\n    "a" INTEGER GENERATED ALWAYS AS (1) STORED\n)')).toThrow(/unexpected line/);
    expect(() => parseCreateTable('CREATE TABLE "t" (\n    "a" MONEY\n)')).toThrow(/MONEY/);
  });
});
