// Which master flow each child row of a legacy database belongs to, decided from evidence only.
//
// The evidence is the conventions the old platform followed (top of test/fixtures/legacy-schema.sql), plus the
// row's own master_flow_id when it names a master flow:
//   flow_id              a discovery flow's flow_id is its master flow's flow_id;
//   discovery_import     a discovery flow's data_import_id names the import it was started for, so the two
//                        belong to the same master flow and each one's evidence counts for the other;
//   master_name          the master flow is named 'Discovery Import <data import id>';
//   master_configuration the master flow's flow_configuration.data_import_id names the import;
//   raw_record_import    a raw import record belongs to the master flow of its data import;
//   existing_reference   the row's master_flow_id already names a master flow (by flow_id or by the
//                        internal id the legacy foreign keys used).
// Time proximity is never evidence: imports and flows of one tenant are often created minutes apart.
//
// An import, its raw records and the discovery flows that name it must end up under one master flow (the
// database checks it), so they are decided together, as a group; a discovery flow without an import is a
// group of its own. A group is linked when its evidence names exactly one master flow of its tenant and no
// piece of that evidence contradicts itself. Evidence naming a master flow of another tenant is treated as
// absent (a foreign id behaves like a missing one, docs/design.md invariant 2) and reported. Every group that
// cannot be linked is adopted by a new master flow of its own tenant; nothing moves between tenants.
import { isUuid } from './uuid.ts';

export const EVIDENCE_RULES = [
  'flow_id',
  'discovery_import',
  'master_name',
  'master_configuration',
  'raw_record_import',
  'existing_reference',
] as const;

export type EvidenceRule = (typeof EVIDENCE_RULES)[number];

export const ADOPTION_REASONS = ['no_evidence', 'ambiguous', 'tenant_conflict'] as const;

export type AdoptionReason = (typeof ADOPTION_REASONS)[number];

export interface Tenant {
  clientAccountId: string;
  engagementId: string;
}

/** A tenant as a legacy row states it: either part may be missing. */
export interface TenantParts {
  clientAccountId: string | null;
  engagementId: string | null;
}

export interface MasterFlowFacts extends Tenant {
  id: string;
  flowId: string;
  flowName: string | null;
  /** flow_configuration->>'data_import_id', as stored. */
  configuredImportId: string | null;
}

export interface DataImportFacts extends TenantParts {
  id: string;
  masterFlowRef: string | null;
  importName: string;
  importedBy: string;
  /** Already mapped to an allowed value (src/domain/legacy-values.ts). */
  status: string;
  createdAt: Date;
}

/** Raw records of one import that share a master_flow_id and tenant columns, counted. */
export interface RawRecordFacts extends TenantParts {
  dataImportId: string;
  masterFlowRef: string | null;
  rows: number;
}

export interface DiscoveryFlowFacts extends Tenant {
  id: string;
  flowId: string;
  masterFlowRef: string | null;
  dataImportId: string | null;
  userId: string;
  flowName: string | null;
  /** Already mapped to an allowed value (src/domain/legacy-values.ts). */
  status: string;
  createdAt: Date;
  updatedAt: Date;
}

export interface LinkFacts {
  masterFlows: MasterFlowFacts[];
  dataImports: DataImportFacts[];
  rawRecords: RawRecordFacts[];
  discoveryFlows: DiscoveryFlowFacts[];
}

/** Which row stated a piece of evidence: the import (for raw records: their import), or a discovery flow. */
export type EvidenceSubject = { table: 'data_imports' | 'raw_import_records' | 'discovery_flows'; id: string };

export interface Evidence {
  /** The master flow's flow_id. */
  flowId: string;
  tenant: Tenant;
  rule: EvidenceRule;
  subject: EvidenceSubject;
  /** The master flow's own name and configuration name different imports. */
  selfContradicting: boolean;
}

export type GroupDecision =
  | { kind: 'linked'; flowId: string; tenant: Tenant }
  | { kind: 'adopted'; reason: AdoptionReason; tenant: Tenant; flowId: string; candidates: string[] }
  | { kind: 'blocked' };

export interface LinkGroup {
  dataImportId: string | null;
  discoveryFlowIds: string[];
  /** The tenant the group's own rows state, before any link. */
  statedTenant: TenantParts;
  /** Evidence naming master flows of the group's tenant. */
  evidence: Evidence[];
  /** Evidence naming master flows of another tenant: not a link, reported. */
  otherTenantEvidence: Evidence[];
  decision: GroupDecision;
}

export interface ClearedImportReference {
  discoveryFlowId: string;
  dataImportId: string;
  /** missing_import: no such import exists; cross_tenant: the import belongs to another tenant. */
  reason: 'missing_import' | 'cross_tenant';
}

/** Why the repair refuses to change anything: a decision only a person can make. */
export const BLOCKING_KINDS = [
  'import_tenant_conflict',
  'import_tenant_unknown',
  'tenant_unknown',
  'unmapped_status',
  'invalid_flow_type',
  'invalid_row_number',
  'duplicate_row_number',
] as const;

export interface BlockingProblem {
  kind: (typeof BLOCKING_KINDS)[number];
  message: string;
  ids: string[];
}

export interface LinkPlan {
  groups: LinkGroup[];
  clearedImportReferences: ClearedImportReference[];
  blocking: BlockingProblem[];
}

const NAME_PATTERN = /^Discovery Import ([0-9a-fA-F-]{36})$/;

/** The import a master flow's name refers to ('Discovery Import <id>'), or null. */
export function importIdFromName(name: string | null): string | null {
  const match = name === null ? null : NAME_PATTERN.exec(name.trim());
  return match && isUuid(match[1]!) ? match[1]!.toLowerCase() : null;
}

/** The import a master flow's configuration refers to, or null when it names none (or not a uuid). */
export function importIdFromConfiguration(value: string | null): string | null {
  return value !== null && isUuid(value.trim()) ? value.trim().toLowerCase() : null;
}

function mergeTenant(a: TenantParts, b: TenantParts): TenantParts | 'conflict' {
  const part = (x: string | null, y: string | null) => (x === null ? y : y === null || x === y ? x : undefined);
  const clientAccountId = part(a.clientAccountId, b.clientAccountId);
  const engagementId = part(a.engagementId, b.engagementId);
  if (clientAccountId === undefined || engagementId === undefined) return 'conflict';
  return { clientAccountId, engagementId };
}

export function tenantCompatible(stated: TenantParts, tenant: Tenant): boolean {
  return (
    (stated.clientAccountId === null || stated.clientAccountId === tenant.clientAccountId) &&
    (stated.engagementId === null || stated.engagementId === tenant.engagementId)
  );
}

function isComplete(tenant: TenantParts): tenant is Tenant {
  return tenant.clientAccountId !== null && tenant.engagementId !== null;
}

const tenantKey = (tenant: TenantParts) => `${tenant.clientAccountId}/${tenant.engagementId}`;

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * Decides every group. `newFlowId` supplies flow ids for adopted master flows that cannot reuse the
 * flow_id of their discovery flow (the convention) because a master flow already has it.
 */
export function decideLinks(facts: LinkFacts, newFlowId: () => string): LinkPlan {
  const byFlowId = new Map(facts.masterFlows.map((master) => [master.flowId, master]));
  const byId = new Map(facts.masterFlows.map((master) => [master.id, master]));
  const resolve = (ref: string | null) => (ref === null ? undefined : (byFlowId.get(ref) ?? byId.get(ref)));
  const importIds = new Set(facts.dataImports.map((dataImport) => dataImport.id));

  const claims = new Map<string, { master: MasterFlowFacts; rule: EvidenceRule; selfContradicting: boolean }[]>();
  for (const master of facts.masterFlows) {
    const named = importIdFromName(master.flowName);
    const configured = importIdFromConfiguration(master.configuredImportId);
    const selfContradicting = named !== null && configured !== null && named !== configured;
    if (named) push(claims, named, { master, rule: 'master_name', selfContradicting });
    if (configured) push(claims, configured, { master, rule: 'master_configuration', selfContradicting });
  }

  const rawByImport = new Map<string, RawRecordFacts[]>();
  for (const raw of facts.rawRecords) push(rawByImport, raw.dataImportId, raw);

  const flowsByImport = new Map<string, DiscoveryFlowFacts[]>();
  const standalone: DiscoveryFlowFacts[] = [];
  const cleared: ClearedImportReference[] = [];
  for (const flow of facts.discoveryFlows) {
    if (flow.dataImportId === null) standalone.push(flow);
    else if (!importIds.has(flow.dataImportId)) {
      cleared.push({ discoveryFlowId: flow.id, dataImportId: flow.dataImportId, reason: 'missing_import' });
      standalone.push(flow);
    } else push(flowsByImport, flow.dataImportId, flow);
  }

  const groups: LinkGroup[] = [];
  const blocking: BlockingProblem[] = [];
  const evidenceFrom = (
    master: MasterFlowFacts | undefined,
    rule: EvidenceRule,
    subject: EvidenceSubject,
    selfContradicting = false,
  ): Evidence[] =>
    master
      ? [{ flowId: master.flowId, tenant: { clientAccountId: master.clientAccountId, engagementId: master.engagementId }, rule, subject, selfContradicting }]
      : [];
  const flowEvidence = (flow: DiscoveryFlowFacts): Evidence[] => {
    const subject = { table: 'discovery_flows', id: flow.id } as const;
    return [...evidenceFrom(byFlowId.get(flow.flowId), 'flow_id', subject), ...evidenceFrom(resolve(flow.masterFlowRef), 'existing_reference', subject)];
  };

  for (const dataImport of facts.dataImports) {
    const raws = rawByImport.get(dataImport.id) ?? [];
    let stated: TenantParts | 'conflict' = { clientAccountId: dataImport.clientAccountId, engagementId: dataImport.engagementId };
    for (const raw of raws) if (stated !== 'conflict') stated = mergeTenant(stated, raw);
    if (stated === 'conflict') {
      blocking.push({
        kind: 'import_tenant_conflict',
        message:
          `data import ${dataImport.id} and its raw import records state different tenants; ` +
          'the repair cannot tell which is right without assigning rows to another tenant',
        ids: [dataImport.id],
      });
      continue;
    }
    const flows = flowsByImport.get(dataImport.id) ?? [];
    let members = flows;
    if (stated.clientAccountId !== null || stated.engagementId !== null) {
      const own = stated;
      members = flows.filter((flow) => tenantCompatible(own, flow));
      for (const flow of flows.filter((candidate) => !members.includes(candidate))) {
        cleared.push({ discoveryFlowId: flow.id, dataImportId: dataImport.id, reason: 'cross_tenant' });
        standalone.push(flow);
      }
    } else if (new Set(flows.map(tenantKey)).size > 1) {
      blocking.push({
        kind: 'import_tenant_unknown',
        message:
          `data import ${dataImport.id} states no tenant, and discovery flows of different tenants name it ` +
          `(${flows.map((flow) => flow.id).join(', ')})`,
        ids: [dataImport.id, ...flows.map((flow) => flow.id)],
      });
      continue;
    }
    let tenant: TenantParts = stated;
    for (const flow of members) tenant = mergeTenant(tenant, flow) as TenantParts; // compatible by construction

    const importSubject = { table: 'data_imports', id: dataImport.id } as const;
    const rawSubject = { table: 'raw_import_records', id: dataImport.id } as const;
    const evidence = [
      ...(claims.get(dataImport.id) ?? []).flatMap((claim) => evidenceFrom(claim.master, claim.rule, importSubject, claim.selfContradicting)),
      ...evidenceFrom(resolve(dataImport.masterFlowRef), 'existing_reference', importSubject),
      ...raws.flatMap((raw) => evidenceFrom(resolve(raw.masterFlowRef), 'existing_reference', rawSubject)),
      ...members.flatMap(flowEvidence),
    ];
    groups.push(decide(dataImport.id, members, tenant, evidence, byFlowId, newFlowId, blocking));
  }

  for (const flow of standalone) {
    groups.push(decide(null, [flow], flow, flowEvidence(flow), byFlowId, newFlowId, blocking));
  }
  return { groups, clearedImportReferences: cleared, blocking };
}

function decide(
  dataImportId: string | null,
  flows: DiscoveryFlowFacts[],
  stated: TenantParts,
  all: Evidence[],
  byFlowId: Map<string, MasterFlowFacts>,
  newFlowId: () => string,
  blocking: BlockingProblem[],
): LinkGroup {
  const statedTenant = { clientAccountId: stated.clientAccountId, engagementId: stated.engagementId };
  const evidence = all.filter((item) => tenantCompatible(statedTenant, item.tenant));
  const otherTenantEvidence = all.filter((item) => !tenantCompatible(statedTenant, item.tenant));
  const candidates = [...new Set(evidence.map((item) => item.flowId))];
  const contradicted = evidence.some((item) => item.selfContradicting);
  const group = { dataImportId, discoveryFlowIds: flows.map((flow) => flow.id), statedTenant, evidence, otherTenantEvidence };

  if (candidates.length === 1 && !contradicted) {
    return { ...group, decision: { kind: 'linked', flowId: candidates[0]!, tenant: evidence[0]!.tenant } };
  }
  const reason: AdoptionReason =
    candidates.length > 1 || contradicted ? 'ambiguous' : otherTenantEvidence.length > 0 ? 'tenant_conflict' : 'no_evidence';
  if (!isComplete(statedTenant)) {
    const subject = dataImportId ? `data import ${dataImportId}` : `discovery flow ${flows[0]?.id}`;
    blocking.push({
      kind: 'tenant_unknown',
      message: `${subject} cannot be linked (${reason.replace('_', ' ')}) and states no complete tenant to adopt it in`,
      ids: [...(dataImportId ? [dataImportId] : []), ...flows.map((flow) => flow.id)],
    });
    return { ...group, decision: { kind: 'blocked' } };
  }
  // The convention is that a discovery flow shares its master flow's flow_id; an adopted master flow
  // keeps it when no master flow has that flow_id yet.
  const only = flows.length === 1 ? flows[0]! : undefined;
  const flowId = only && !byFlowId.has(only.flowId) ? only.flowId : newFlowId();
  return { ...group, decision: { kind: 'adopted', reason, tenant: statedTenant, flowId, candidates } };
}

/**
 * The rules that support a linked group's master flow, from the point of view of one of its rows:
 * its own evidence, and, through the discovery flow that names the import, the evidence of the others.
 */
export function supportingRules(group: LinkGroup, subject: EvidenceSubject): EvidenceRule[] {
  if (group.decision.kind !== 'linked') return [];
  const chosen = group.decision.flowId;
  const rules = new Set<EvidenceRule>();
  for (const item of group.evidence) {
    if (item.flowId !== chosen) continue;
    rules.add(item.rule);
    const same = item.subject.table === subject.table && item.subject.id === subject.id;
    const throughFlow = item.subject.table === 'discovery_flows' || subject.table === 'discovery_flows';
    if (!same && throughFlow) rules.add('discovery_import');
  }
  return EVIDENCE_RULES.filter((rule) => rules.has(rule));
}
