// Legacy databases for the repair's tests: the schema of test/fixtures/legacy-schema.sql and
// generated rows, written through a SqlSession so the same fixtures run on PGlite and PostgreSQL.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { SqlSession } from '../../src/db/sql-session.ts';
import type { AdoptionReason, EvidenceRule, Tenant } from '../../src/domain/repair-evidence.ts';

export const LEGACY_SCHEMA = readFileSync(new URL('../fixtures/legacy-schema.sql', import.meta.url), 'utf8');

/**
 * Creates the legacy tables. PGlite has no pgcrypto unless it is loaded as an extension; the schema only
 * needs gen_random_uuid(), which is core PostgreSQL since 13, so the line is dropped there.
 */
export async function createLegacySchema(session: SqlSession, { pgcrypto }: { pgcrypto: boolean }): Promise<void> {
  await session.exec(pgcrypto ? LEGACY_SCHEMA : LEGACY_SCHEMA.replace(/^CREATE EXTENSION[^;]*;$/m, ''));
}

export function newTenant(): Tenant {
  return { clientAccountId: randomUUID(), engagementId: randomUUID() };
}

export interface MasterSpec {
  tenant: Tenant;
  name?: string | null;
  configuredImportId?: string;
  status?: string;
  createdAt?: Date;
  flowId?: string;
  phaseTransitions?: unknown[];
}

export interface ImportSpec {
  /** null: the tenant columns are NULL, as in most legacy rows. */
  tenant: Tenant | null;
  /** The master flow's internal id (what the legacy foreign key references). */
  masterFlowRef?: string | null;
  status?: string;
  createdAt?: Date;
  id?: string;
}

export interface RawSpec {
  rows: number;
  tenant?: Tenant | null;
  masterFlowRef?: string | null;
  firstRowNumber?: number;
}

export interface DiscoverySpec {
  tenant: Tenant;
  flowId?: string;
  dataImportId?: string | null;
  masterFlowRef?: string | null;
  status?: string;
  currentPhase?: string | null;
  progressPercentage?: number;
  completedPhases?: number;
  createdAt?: Date;
}

interface Row {
  table: string;
  values: Record<string, unknown>;
}

const PHASE_COLUMNS = [
  'data_import_completed',
  'data_validation_completed',
  'field_mapping_completed',
  'data_cleansing_completed',
  'asset_inventory_completed',
];

/** Collects legacy rows and writes them in a few statements. */
export class LegacyBuilder {
  readonly rows: Row[] = [];
  private clock = Date.parse('2025-03-03T09:00:00Z');

  private next(createdAt?: Date): string {
    this.clock += 1_000;
    return (createdAt ?? new Date(this.clock)).toISOString();
  }

  master(spec: MasterSpec): { id: string; flowId: string } {
    const id = randomUUID();
    const flowId = spec.flowId ?? randomUUID();
    this.rows.push({
      table: 'crewai_flow_state_extensions',
      values: {
        id,
        flow_id: flowId,
        client_account_id: spec.tenant.clientAccountId,
        engagement_id: spec.tenant.engagementId,
        user_id: 'legacy-user',
        flow_type: 'discovery',
        flow_name: spec.name === undefined ? 'Discovery flow' : spec.name,
        flow_status: spec.status ?? 'running',
        flow_configuration: spec.configuredImportId ? { data_import_id: spec.configuredImportId } : {},
        phase_transitions: spec.phaseTransitions ?? [],
        created_at: this.next(spec.createdAt),
      },
    });
    return { id, flowId };
  }

  dataImport(spec: ImportSpec): string {
    const id = spec.id ?? randomUUID();
    this.rows.push({
      table: 'data_imports',
      values: {
        id,
        client_account_id: spec.tenant?.clientAccountId ?? null,
        engagement_id: spec.tenant?.engagementId ?? null,
        master_flow_id: spec.masterFlowRef ?? null,
        import_name: `servers ${id.slice(0, 8)}`,
        import_type: 'servers',
        filename: `servers-${id.slice(0, 8)}.csv`,
        status: spec.status ?? 'completed',
        imported_by: 'legacy-user',
        created_at: this.next(spec.createdAt),
      },
    });
    return id;
  }

  raws(dataImportId: string, spec: RawSpec): string[] {
    const ids: string[] = [];
    for (let index = 0; index < spec.rows; index += 1) {
      const id = randomUUID();
      ids.push(id);
      this.rows.push({
        table: 'raw_import_records',
        values: {
          id,
          data_import_id: dataImportId,
          client_account_id: spec.tenant?.clientAccountId ?? null,
          engagement_id: spec.tenant?.engagementId ?? null,
          master_flow_id: spec.masterFlowRef ?? null,
          row_number: (spec.firstRowNumber ?? 1) + index,
          raw_data: { hostname: `host-${index + 1}`, cores: index + 1 },
          is_valid: index % 4 !== 3,
        },
      });
    }
    return ids;
  }

  discovery(spec: DiscoverySpec): { id: string; flowId: string } {
    const id = randomUUID();
    const flowId = spec.flowId ?? randomUUID();
    const completed = spec.completedPhases ?? 1;
    this.rows.push({
      table: 'discovery_flows',
      values: {
        id,
        flow_id: flowId,
        master_flow_id: spec.masterFlowRef ?? null,
        client_account_id: spec.tenant.clientAccountId,
        engagement_id: spec.tenant.engagementId,
        user_id: 'legacy-user',
        data_import_id: spec.dataImportId ?? null,
        flow_name: `discovery ${id.slice(0, 8)}`,
        status: spec.status ?? 'active',
        current_phase: spec.currentPhase === undefined ? (['data_import', 'data_validation', 'field_mapping', 'data_cleansing', 'asset_inventory'][completed] ?? null) : spec.currentPhase,
        progress_percentage: spec.progressPercentage ?? completed * 20,
        ...Object.fromEntries(PHASE_COLUMNS.map((column, index) => [column, index < completed])),
        created_at: this.next(spec.createdAt),
      },
    });
    return { id, flowId };
  }

  /** Inserts everything, table by table, with one statement per table. */
  async write(session: SqlSession): Promise<void> {
    for (const table of ['crewai_flow_state_extensions', 'data_imports', 'raw_import_records', 'discovery_flows']) {
      const rows = this.rows.filter((row) => row.table === table).map((row) => row.values);
      if (rows.length === 0) continue;
      const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
      await session.query(
        `INSERT INTO ${table} (${columns.join(', ')})
         SELECT ${columns.join(', ')} FROM jsonb_populate_recordset(NULL::${table}, $1::jsonb)`,
        [JSON.stringify(rows)],
      );
    }
  }
}

/** What a child row must end up with after the repair. */
export type Expected =
  | { kind: 'linked'; flowId: string; rules: EvidenceRule[]; /** already linked before the repair */ unchanged?: boolean }
  | { kind: 'adopted'; reason: AdoptionReason; tenant: Tenant; keepsFlowId?: boolean };

export interface Scenario {
  builder: LegacyBuilder;
  tenantA: Tenant;
  tenantB: Tenant;
  imports: Map<string, Expected & { label: string }>;
  discoveryFlows: Map<string, Expected & { label: string }>;
  /** Raw records per import id. */
  rawRecords: Map<string, string[]>;
  /** Master flows that exist before the repair (flow ids). */
  masterFlowIds: string[];
  /** Discovery flows whose data_import_id the repair must clear, with the reason. */
  cleared: Map<string, 'missing_import' | 'cross_tenant'>;
  /** Master flows whose legacy status a rule maps: flow id -> expected status. */
  mappedMasterStatuses: Map<string, string>;
  /** Discovery flows whose invalid phase/progress is derived from their flags. */
  derivedPhases: Map<string, { currentPhase: string | null; progressPercentage: number }>;
}

/**
 * One legacy database with every case the repair distinguishes: each evidence rule alone, each rule
 * absent, conflicting evidence, cross-tenant traps, imports minutes apart in one tenant, raw records of
 * adopted imports, rows already correct, dangling references, and legacy status values.
 */
export function standardScenario(): Scenario {
  const b = new LegacyBuilder();
  const A = newTenant();
  const B = newTenant();
  const imports = new Map<string, Expected & { label: string }>();
  const discoveryFlows = new Map<string, Expected & { label: string }>();
  const rawRecords = new Map<string, string[]>();
  const cleared = new Map<string, 'missing_import' | 'cross_tenant'>();
  const mappedMasterStatuses = new Map<string, string>();
  const derivedPhases = new Map<string, { currentPhase: string | null; progressPercentage: number }>();
  const masters: string[] = [];
  const master = (spec: MasterSpec) => {
    const created = b.master(spec);
    masters.push(created.flowId);
    return created;
  };
  const withRaws = (id: string, spec: RawSpec = { rows: 3 }) => rawRecords.set(id, b.raws(id, spec));

  // 1. master_name only; the import states its tenant, its rows do not.
  const d1 = randomUUID();
  const m1 = master({ tenant: A, name: `Discovery Import ${d1}` });
  b.dataImport({ id: d1, tenant: A });
  withRaws(d1);
  imports.set(d1, { label: 'name only', kind: 'linked', flowId: m1.flowId, rules: ['master_name'] });

  // 2. master_configuration only; neither the import nor its rows state a tenant (filled from the master).
  const d2 = randomUUID();
  const m2 = master({ tenant: A, name: 'CMDB upload', configuredImportId: d2 });
  b.dataImport({ id: d2, tenant: null });
  withRaws(d2, { rows: 4 });
  imports.set(d2, { label: 'configuration only', kind: 'linked', flowId: m2.flowId, rules: ['master_configuration'] });

  // 3. name and configuration agree; the name's uuid is upper case.
  const d3 = randomUUID();
  const m3 = master({ tenant: B, name: `Discovery Import ${d3.toUpperCase()}`, configuredImportId: d3 });
  b.dataImport({ id: d3, tenant: B });
  withRaws(d3, { rows: 2, tenant: B });
  imports.set(d3, { label: 'name and configuration', kind: 'linked', flowId: m3.flowId, rules: ['master_name', 'master_configuration'] });

  // 4. flow_id only: a discovery flow without import whose flow_id is its master's.
  const m4 = master({ tenant: A, name: null });
  const f4 = b.discovery({ tenant: A, flowId: m4.flowId });
  discoveryFlows.set(f4.id, { label: 'flow_id only', kind: 'linked', flowId: m4.flowId, rules: ['flow_id'] });

  // 5. discovery_import: the master names nothing; its discovery flow shares its flow_id and names the import.
  const m5 = master({ tenant: A, name: 'Assessment prep' });
  const d5 = b.dataImport({ tenant: null });
  withRaws(d5, { rows: 5 });
  const f5 = b.discovery({ tenant: A, flowId: m5.flowId, dataImportId: d5, completedPhases: 2 });
  imports.set(d5, { label: 'through its discovery flow', kind: 'linked', flowId: m5.flowId, rules: ['flow_id', 'discovery_import'] });
  discoveryFlows.set(f5.id, { label: 'flow_id with import', kind: 'linked', flowId: m5.flowId, rules: ['flow_id'] });

  // 5b. the discovery flow has no master by flow_id, but its import's master is named after the import.
  const d5b = randomUUID();
  const m5b = master({ tenant: B, name: `Discovery Import ${d5b}` });
  b.dataImport({ id: d5b, tenant: B });
  withRaws(d5b, { rows: 1 });
  const f5b = b.discovery({ tenant: B, dataImportId: d5b });
  imports.set(d5b, { label: 'named, with discovery flow', kind: 'linked', flowId: m5b.flowId, rules: ['master_name'] });
  discoveryFlows.set(f5b.id, { label: 'through its import', kind: 'linked', flowId: m5b.flowId, rules: ['discovery_import', 'master_name'] });

  // 6. no evidence at all: the import and its raw records are adopted in the import's tenant.
  const d6 = b.dataImport({ tenant: A, status: 'processing' });
  withRaws(d6, { rows: 6 });
  imports.set(d6, { label: 'no evidence', kind: 'adopted', reason: 'no_evidence', tenant: A });

  // 7. a discovery flow without evidence: adopted; the new master flow takes its flow_id (the convention).
  const f7 = b.discovery({ tenant: B, status: 'paused' });
  discoveryFlows.set(f7.id, { label: 'no evidence', kind: 'adopted', reason: 'no_evidence', tenant: B, keepsFlowId: true });

  // 8. conflicting evidence: one master is named after the import, another names it in its configuration.
  const d8 = randomUUID();
  master({ tenant: A, name: `Discovery Import ${d8}` });
  master({ tenant: A, name: 'Retry', configuredImportId: d8 });
  b.dataImport({ id: d8, tenant: A });
  withRaws(d8, { rows: 2 });
  imports.set(d8, { label: 'two masters claim it', kind: 'adopted', reason: 'ambiguous', tenant: A });

  // 9. a master whose name and configuration name different imports: evidence for neither.
  const d9a = randomUUID();
  const d9b = randomUUID();
  master({ tenant: A, name: `Discovery Import ${d9a}`, configuredImportId: d9b });
  b.dataImport({ id: d9a, tenant: A });
  b.dataImport({ id: d9b, tenant: A });
  imports.set(d9a, { label: 'self-contradicting master (name)', kind: 'adopted', reason: 'ambiguous', tenant: A });
  imports.set(d9b, { label: 'self-contradicting master (configuration)', kind: 'adopted', reason: 'ambiguous', tenant: A });

  // 10. cross-tenant trap: only a master of tenant B is named after tenant A's import.
  const d10 = randomUUID();
  const m10 = master({ tenant: B, name: `Discovery Import ${d10}` });
  b.dataImport({ id: d10, tenant: A });
  withRaws(d10, { rows: 2 });
  imports.set(d10, { label: 'cross-tenant name only', kind: 'adopted', reason: 'tenant_conflict', tenant: A });

  // 11. cross-tenant trap beside real evidence: the same-tenant master wins, the other is ignored.
  const d11 = randomUUID();
  const m11 = master({ tenant: A, name: 'Upload', configuredImportId: d11 });
  master({ tenant: B, name: `Discovery Import ${d11}` });
  b.dataImport({ id: d11, tenant: A });
  withRaws(d11, { rows: 2 });
  imports.set(d11, { label: 'cross-tenant beside evidence', kind: 'linked', flowId: m11.flowId, rules: ['master_configuration'] });

  // 12. a discovery flow of tenant B names tenant A's import: not a link; the reference is cleared.
  const d12 = randomUUID();
  const m12a = master({ tenant: A, name: `Discovery Import ${d12}` });
  const m12b = master({ tenant: B, name: 'B flow' });
  b.dataImport({ id: d12, tenant: A });
  withRaws(d12, { rows: 1, tenant: A });
  const f12 = b.discovery({ tenant: B, flowId: m12b.flowId, dataImportId: d12 });
  imports.set(d12, { label: 'named, other tenant\'s flow names it', kind: 'linked', flowId: m12a.flowId, rules: ['master_name'] });
  discoveryFlows.set(f12.id, { label: 'names another tenant\'s import', kind: 'linked', flowId: m12b.flowId, rules: ['flow_id'] });
  cleared.set(f12.id, 'cross_tenant');

  // 13. imports started minutes apart in one tenant: evidence pairs them the other way round than time
  // would, and an import without evidence started seconds after a master is not given to it.
  const t0 = Date.parse('2025-06-02T10:00:00Z');
  const d13a = randomUUID();
  const d13b = randomUUID();
  const m13a = master({ tenant: A, name: `Discovery Import ${d13b}`, createdAt: new Date(t0) });
  const m13b = master({ tenant: A, name: `Discovery Import ${d13a}`, createdAt: new Date(t0 + 120_000) });
  b.dataImport({ id: d13a, tenant: A, createdAt: new Date(t0 + 5_000) });
  b.dataImport({ id: d13b, tenant: A, createdAt: new Date(t0 + 125_000) });
  const d13c = b.dataImport({ tenant: A, createdAt: new Date(t0 + 1_000) });
  withRaws(d13a, { rows: 3 });
  withRaws(d13b, { rows: 3 });
  withRaws(d13c, { rows: 2 });
  imports.set(d13a, { label: 'minutes apart (a)', kind: 'linked', flowId: m13b.flowId, rules: ['master_name'] });
  imports.set(d13b, { label: 'minutes apart (b)', kind: 'linked', flowId: m13a.flowId, rules: ['master_name'] });
  imports.set(d13c, { label: 'seconds after a master, no evidence', kind: 'adopted', reason: 'no_evidence', tenant: A });

  // 14. rows already correct: links set (legacy: by internal id), tenants filled.
  const d14 = randomUUID();
  const m14 = master({ tenant: B, name: `Discovery Import ${d14}`, configuredImportId: d14 });
  b.dataImport({ id: d14, tenant: B, masterFlowRef: m14.id });
  withRaws(d14, { rows: 3, tenant: B, masterFlowRef: m14.id });
  const f14 = b.discovery({ tenant: B, flowId: m14.flowId, dataImportId: d14, masterFlowRef: m14.flowId, completedPhases: 5, status: 'completed' });
  const allRules: EvidenceRule[] = ['flow_id', 'discovery_import', 'master_name', 'master_configuration', 'existing_reference'];
  imports.set(d14, { label: 'already correct', kind: 'linked', flowId: m14.flowId, rules: allRules, unchanged: true });
  discoveryFlows.set(f14.id, { label: 'already correct', kind: 'linked', flowId: m14.flowId, rules: allRules, unchanged: true });

  // 15. an existing reference (a time-proximity backfill) contradicted by the name: not a link.
  const d15 = randomUUID();
  master({ tenant: A, name: `Discovery Import ${d15}` });
  const m15b = master({ tenant: A, name: 'Neighbour' });
  b.dataImport({ id: d15, tenant: A, masterFlowRef: m15b.id });
  imports.set(d15, { label: 'existing reference contradicted', kind: 'adopted', reason: 'ambiguous', tenant: A });

  // 16. a discovery flow names an import that no longer exists: the reference is cleared.
  const m16 = master({ tenant: B, name: 'Orphaned discovery' });
  const f16 = b.discovery({ tenant: B, flowId: m16.flowId, dataImportId: randomUUID() });
  discoveryFlows.set(f16.id, { label: 'names a deleted import', kind: 'linked', flowId: m16.flowId, rules: ['flow_id'] });
  cleared.set(f16.id, 'missing_import');

  // 17. legacy values: statuses a rule maps, a phase and a progress the CHECKs refuse.
  const d17 = randomUUID();
  // Its history holds the old platform's status names too.
  const m17 = master({
    tenant: A,
    name: `Discovery Import ${d17}`,
    status: 'in_progress',
    phaseTransitions: [
      { from: null, to: 'pending', at: '2025-03-03T09:00:00Z', by: 'legacy-user' },
      { from: 'pending', to: 'in_progress', at: '2025-03-03T09:05:00Z', by: 'legacy-user' },
    ],
  });
  mappedMasterStatuses.set(m17.flowId, 'running');
  const m17b = master({ tenant: A, name: 'Old one', status: 'Completed' });
  mappedMasterStatuses.set(m17b.flowId, 'completed');
  b.dataImport({ id: d17, tenant: A, status: 'error' });
  withRaws(d17, { rows: 1 });
  const f17 = b.discovery({ tenant: A, flowId: m17.flowId, dataImportId: d17, status: 'running', currentPhase: 'attribute_mapping', progressPercentage: 150, completedPhases: 3 });
  imports.set(d17, { label: 'legacy statuses', kind: 'linked', flowId: m17.flowId, rules: ['flow_id', 'discovery_import', 'master_name'] });
  discoveryFlows.set(f17.id, { label: 'legacy phase and progress', kind: 'linked', flowId: m17.flowId, rules: ['flow_id', 'discovery_import', 'master_name'] });
  derivedPhases.set(f17.id, { currentPhase: 'data_cleansing', progressPercentage: 60 });

  // 18. an adopted import with a discovery flow naming it: both move under one new master flow.
  const d18 = b.dataImport({ tenant: B, status: 'pending' });
  withRaws(d18, { rows: 2 });
  const f18 = b.discovery({ tenant: B, dataImportId: d18, status: 'failed' });
  imports.set(d18, { label: 'adopted with its discovery flow', kind: 'adopted', reason: 'no_evidence', tenant: B, keepsFlowId: true });
  discoveryFlows.set(f18.id, { label: 'adopted with its import', kind: 'adopted', reason: 'no_evidence', tenant: B, keepsFlowId: true });

  // 19. a discovery flow whose only evidence is its own master_flow_id: kept, and listed as resting on it alone.
  const m19 = master({ tenant: B, name: 'Referenced only' });
  const f19 = b.discovery({ tenant: B, masterFlowRef: m19.flowId });
  discoveryFlows.set(f19.id, { label: 'own reference alone', kind: 'linked', flowId: m19.flowId, rules: ['existing_reference'], unchanged: true });

  return { builder: b, tenantA: A, tenantB: B, imports, discoveryFlows, rawRecords, masterFlowIds: masters, cleared, mappedMasterStatuses, derivedPhases };
}
