// What the link decisions (src/domain/repair-evidence.ts) mean row by row: the master flows to adopt, the
// value every child row ends up with, and the per-table counts the repair reports. Counting rows, not
// groups, so that "linked + adopted = rows to link" can be checked against the database.
import type { MasterFlowStatus } from './master-flow-status.ts';
import {
  ADOPTION_REASONS,
  EVIDENCE_RULES,
  supportingRules,
  type AdoptionReason,
  type DataImportFacts,
  type DiscoveryFlowFacts,
  type EvidenceRule,
  type LinkFacts,
  type LinkGroup,
  type LinkPlan,
  type Tenant,
} from './repair-evidence.ts';

/** Who the repair writes into phase_transitions and similar "by" fields. */
export const REPAIR_ACTOR = 'flowgraph-repair';

export interface AdoptedMasterFlow extends Tenant {
  flowId: string;
  userId: string;
  flowType: 'discovery';
  flowName: string;
  flowStatus: MasterFlowStatus;
  flowConfiguration: Record<string, unknown>;
  phaseTransitions: { from: null; to: MasterFlowStatus; at: string; by: string }[];
  createdAt: Date;
}

const EXPLANATIONS: Record<AdoptionReason, string> = {
  no_evidence:
    'no master flow is named after the import or names it in its configuration, no discovery flow shares a master ' +
    "flow's flow_id, and the rows named no master flow",
  ambiguous: 'the evidence names more than one master flow, or a master flow whose name and configuration disagree',
  tenant_conflict: 'the only evidence names a master flow of another tenant',
};

const MASTER_STATUS_FOR_DISCOVERY: Record<string, MasterFlowStatus> = {
  active: 'running',
  paused: 'paused',
  completed: 'completed',
  failed: 'failed',
};

const MASTER_STATUS_FOR_IMPORT: Record<string, MasterFlowStatus> = {
  pending: 'initialized',
  processing: 'running',
  completed: 'completed',
  failed: 'failed',
};

/**
 * The master flow that adopts a group: in the group's own tenant, with the status its discovery flow
 * (the most recently changed one) or else its import implies, and a configuration that says it was
 * recovered and why. It names the import in its configuration, as the import handler did.
 */
export function adoptedMasterFlow(
  group: LinkGroup,
  dataImport: DataImportFacts | undefined,
  flows: DiscoveryFlowFacts[],
  at: Date,
): AdoptedMasterFlow {
  if (group.decision.kind !== 'adopted') throw new Error('adoptedMasterFlow needs an adopted group');
  const latestFlow = [...flows].sort((a, b) => b.updatedAt.getTime() - a.updatedAt.getTime())[0];
  const flowStatus =
    (latestFlow && MASTER_STATUS_FOR_DISCOVERY[latestFlow.status]) ??
    (dataImport && MASTER_STATUS_FOR_IMPORT[dataImport.status]) ??
    'initialized';
  const createdAt = new Date(
    Math.min(...[dataImport?.createdAt, ...flows.map((flow) => flow.createdAt)].filter((date): date is Date => Boolean(date)).map((date) => date.getTime())),
  );
  const what = dataImport ? `import ${dataImport.importName}` : `discovery flow ${flows[0]?.flowName ?? flows[0]?.flowId}`;
  return {
    flowId: group.decision.flowId,
    clientAccountId: group.decision.tenant.clientAccountId,
    engagementId: group.decision.tenant.engagementId,
    userId: flows[0]?.userId ?? dataImport?.importedBy ?? REPAIR_ACTOR,
    flowType: 'discovery',
    flowName: `Recovered: ${what}`.slice(0, 255),
    flowStatus,
    flowConfiguration: {
      ...(dataImport ? { data_import_id: dataImport.id } : {}),
      recovered: true,
      recovered_by: REPAIR_ACTOR,
      recovered_at: at.toISOString(),
      recovery_reason: group.decision.reason,
      recovery_explanation: `Adopted by the repair of a legacy database: ${EXPLANATIONS[group.decision.reason]}.`,
      ...(group.decision.reason === 'ambiguous' ? { candidate_flow_ids: group.decision.candidates } : {}),
      discovery_flow_ids: group.discoveryFlowIds,
    },
    phaseTransitions: [{ from: null, to: flowStatus, at: at.toISOString(), by: REPAIR_ACTOR }],
    createdAt,
  };
}

export type ChildTable = 'data_imports' | 'raw_import_records' | 'discovery_flows';

export interface Unlinkable {
  /** The import (data_imports, raw_import_records) or discovery flow. */
  id: string;
  /** Raw import records: how many rows of that import. */
  rows: number;
  /** Same-tenant master flows the evidence named (ambiguous), as flow ids. */
  candidates: string[];
  /** Master flows of another tenant the evidence named (not a link), as flow ids. */
  otherTenantFlowIds: string[];
}

export interface TableLinkReport {
  table: ChildTable;
  rows: number;
  /** The row already named the master flow the evidence confirms (only its form may change: id → flow_id). */
  alreadyLinked: number;
  /**
   * Of alreadyLinked: rows whose link rests on their own reference alone, with no convention confirming it.
   * Kept (nothing contradicts it), and listed: such a reference may come from an earlier guess-based backfill.
   */
  referenceOnly: number;
  /** Their ids (for raw import records: the import's id, with the number of rows). */
  referenceOnlyIds: Unlinkable[];
  /** master_flow_id NULL, or naming no master flow. */
  orphans: number;
  /** master_flow_id named a master flow the evidence does not support; the row moves. */
  wrongReferences: number;
  /** orphans + wrongReferences linked from evidence. */
  linked: number;
  /** Linked rows per rule that supported the link; a link supported by several rules counts under each. */
  linkedByRule: Record<EvidenceRule, number>;
  adopted: number;
  adoptedByReason: Record<AdoptionReason, number>;
  /** Rows whose tenant columns were empty (in part) and are filled from the master flow. */
  tenantFilled: number;
  ambiguous: Unlinkable[];
  /** Rows where evidence named a master flow of another tenant (linked otherwise, or adopted). */
  tenantConflicts: Unlinkable[];
}

function emptyReport(table: ChildTable): TableLinkReport {
  return {
    table,
    rows: 0,
    alreadyLinked: 0,
    referenceOnly: 0,
    referenceOnlyIds: [],
    orphans: 0,
    wrongReferences: 0,
    linked: 0,
    linkedByRule: Object.fromEntries(EVIDENCE_RULES.map((rule) => [rule, 0])) as Record<EvidenceRule, number>,
    adopted: 0,
    adoptedByReason: Object.fromEntries(ADOPTION_REASONS.map((reason) => [reason, 0])) as Record<AdoptionReason, number>,
    tenantFilled: 0,
    ambiguous: [],
    tenantConflicts: [],
  };
}

/** The master flow (flow_id) and tenant a row ends up with. */
export interface FinalLink extends Tenant {
  flowId: string;
}

export interface RowOutcomes {
  reports: Record<ChildTable, TableLinkReport>;
  /** Per data import and per discovery flow id: where it ends up (blocked groups are absent). */
  importLinks: Map<string, FinalLink>;
  discoveryLinks: Map<string, FinalLink>;
  /** Raw records whose master_flow_id or tenant columns change (checked against the UPDATE's count). */
  rawRecordsToUpdate: number;
}

export function finalLink(group: LinkGroup): FinalLink | null {
  if (group.decision.kind === 'blocked') return null;
  return { flowId: group.decision.flowId, ...group.decision.tenant };
}

/** Counts, per table, what the plan does to every row, and where every row ends up. */
export function rowOutcomes(facts: LinkFacts, plan: LinkPlan): RowOutcomes {
  const byFlowId = new Map(facts.masterFlows.map((master) => [master.flowId, master]));
  const byId = new Map(facts.masterFlows.map((master) => [master.id, master]));
  const resolve = (ref: string | null) => (ref === null ? undefined : (byFlowId.get(ref) ?? byId.get(ref)));
  const imports = new Map(facts.dataImports.map((dataImport) => [dataImport.id, dataImport]));
  const flows = new Map(facts.discoveryFlows.map((flow) => [flow.id, flow]));
  const rawByImport = new Map<string, LinkFacts['rawRecords']>();
  for (const raw of facts.rawRecords) {
    const list = rawByImport.get(raw.dataImportId);
    if (list) list.push(raw);
    else rawByImport.set(raw.dataImportId, [raw]);
  }

  const reports = {
    data_imports: emptyReport('data_imports'),
    raw_import_records: emptyReport('raw_import_records'),
    discovery_flows: emptyReport('discovery_flows'),
  };
  const importLinks = new Map<string, FinalLink>();
  const discoveryLinks = new Map<string, FinalLink>();
  let rawRecordsToUpdate = 0;

  const count = (
    report: TableLinkReport,
    group: LinkGroup,
    target: FinalLink,
    row: { id: string; rows: number },
    ref: string | null,
    rules: EvidenceRule[],
    tenantMissing: boolean,
  ) => {
    const { rows } = row;
    report.rows += rows;
    if (tenantMissing) report.tenantFilled += rows;
    const current = resolve(ref);
    if (group.decision.kind === 'linked' && current?.flowId === target.flowId) {
      report.alreadyLinked += rows;
      if (group.evidence.every((item) => item.rule === 'existing_reference')) {
        report.referenceOnly += rows;
        const listed = report.referenceOnlyIds.find((entry) => entry.id === row.id);
        if (listed) listed.rows += rows;
        else report.referenceOnlyIds.push({ id: row.id, rows, candidates: [target.flowId], otherTenantFlowIds: [] });
      }
      return;
    }
    if (current) report.wrongReferences += rows;
    else report.orphans += rows;
    if (group.decision.kind === 'linked') {
      report.linked += rows;
      for (const rule of rules) report.linkedByRule[rule] += rows;
    } else if (group.decision.kind === 'adopted') {
      report.adopted += rows;
      report.adoptedByReason[group.decision.reason] += rows;
    }
  };
  const note = (report: TableLinkReport, group: LinkGroup, id: string, rows: number) => {
    const otherTenantFlowIds = [...new Set(group.otherTenantEvidence.map((item) => item.flowId))];
    const entry = { id, rows, candidates: group.decision.kind === 'adopted' ? group.decision.candidates : [], otherTenantFlowIds };
    if (group.decision.kind === 'adopted' && group.decision.reason === 'ambiguous') report.ambiguous.push(entry);
    if (otherTenantFlowIds.length > 0) report.tenantConflicts.push(entry);
  };

  for (const group of plan.groups) {
    const target = finalLink(group);
    if (!target) continue;
    if (group.dataImportId) {
      const dataImport = imports.get(group.dataImportId)!;
      importLinks.set(dataImport.id, target);
      const subject = { table: 'data_imports', id: dataImport.id } as const;
      count(reports.data_imports, group, target, { id: dataImport.id, rows: 1 }, dataImport.masterFlowRef, supportingRules(group, subject), dataImport.clientAccountId === null || dataImport.engagementId === null);
      note(reports.data_imports, group, dataImport.id, 1);
      let groupRows = 0;
      for (const raw of rawByImport.get(dataImport.id) ?? []) {
        groupRows += raw.rows;
        count(reports.raw_import_records, group, target, { id: dataImport.id, rows: raw.rows }, raw.masterFlowRef, ['raw_record_import'], raw.clientAccountId === null || raw.engagementId === null);
        if (raw.masterFlowRef !== target.flowId || raw.clientAccountId !== target.clientAccountId || raw.engagementId !== target.engagementId) {
          rawRecordsToUpdate += raw.rows;
        }
      }
      if (groupRows > 0) note(reports.raw_import_records, group, dataImport.id, groupRows);
    }
    for (const flowId of group.discoveryFlowIds) {
      const flow = flows.get(flowId)!;
      discoveryLinks.set(flow.id, target);
      const subject = { table: 'discovery_flows', id: flow.id } as const;
      count(reports.discovery_flows, group, target, { id: flow.id, rows: 1 }, flow.masterFlowRef, supportingRules(group, subject), false);
      note(reports.discovery_flows, group, flow.id, 1);
    }
  }
  return { reports, importLinks, discoveryLinks, rawRecordsToUpdate };
}
