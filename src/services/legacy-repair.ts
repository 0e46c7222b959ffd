// `npm run repair`: turns a database of the old platform (test/fixtures/legacy-schema.sql) into one flowgraph
// serves, without guessing and without losing a row. The decisions are pure (src/domain/repair-*.ts,
// src/domain/legacy-values.ts); this module reads the facts, and writes the decisions and the DDL.
//
// Safety:
// - a dry run reads in one REPEATABLE READ READ ONLY transaction and writes nothing;
// - --apply takes exclusive locks on the four tables, re-reads the facts under them, and makes every data
//   change and every structural change in ONE transaction (the link stage): all or nothing. Row counts
//   are checked before it commits. Constraints are added NOT VALID in it;
// - the constraints are then validated one by one (no exclusive lock held over a full scan), and a last
//   short transaction sets NOT NULL and records the first migration as finished in `_prisma_migrations`.
//   Until then that row says the repair is in progress, so `npm start` refuses the database, and running
//   the repair again finishes the job (it recognises the half-way state). Later migrations are then
//   applied by the ordinary migrator;
// - a database whose shape it does not recognise, or whose data needs a decision only a person can make
//   (blocking problems), is refused before anything is written.
import { randomUUID } from 'node:crypto';
import {
  applyMigrations,
  CREATE_HISTORY_TABLE,
  PRISMA_MIGRATE_LOCK_KEY,
  readMigrations,
  REPAIR_MARKER,
  type Migration,
} from '../db/migrator.ts';
import type { SqlSession } from '../db/sql-session.ts';
import { PHASE_COMPLETED_FIELD, DISCOVERY_PHASES, type PhaseFlags } from '../domain/discovery-phases.ts';
import { FLOW_TYPES } from '../domain/flow-types.ts';
import { CHILD_TABLES, MASTER_TABLE } from '../domain/integrity-rules.ts';
import { LEGACY_TABLES } from '../domain/legacy-shape.ts';
import {
  mapStatus,
  phaseFix,
  STATUS_COLUMNS,
  type OperatorMapping,
  type PhaseFix,
  type StatusMapping,
} from '../domain/legacy-values.ts';
import {
  adoptedMasterFlow,
  REPAIR_ACTOR,
  rowOutcomes,
  type AdoptedMasterFlow,
  type RowOutcomes,
  type TableLinkReport,
} from '../domain/repair-accounting.ts';
import {
  decideLinks,
  type BlockingProblem,
  type ClearedImportReference,
  type DataImportFacts,
  type DiscoveryFlowFacts,
  type LinkFacts,
  type LinkPlan,
  type MasterFlowFacts,
  type RawRecordFacts,
} from '../domain/repair-evidence.ts';
import { toNumber } from './database-catalog.ts';
import { inspect, type DatabaseShape, type Inspection } from './database-shape.ts';
import { repairDdl, type RepairDdl } from './repair-ddl.ts';

export class UnrecognisedDatabaseError extends Error {
  override name = 'UnrecognisedDatabaseError';
  constructor(readonly reasons: string[]) {
    super(`The repair does not recognise this database and changed nothing:\n${reasons.map((reason) => `  - ${reason}`).join('\n')}`);
  }
}

/** The repair failed; `committed` says whether the link stage had already been committed. */
export class RepairFailedError extends Error {
  override name = 'RepairFailedError';
  constructor(
    readonly committed: boolean,
    readonly reason: string,
  ) {
    super(
      committed
        ? `The repair linked every row and added its constraints, but could not finish: ${reason}\n` +
            'The database is marked "repair in progress" (npm start refuses it); fix the cause and run ' +
            '`npm run repair -- --apply` again to finish.'
        : `The repair failed and was rolled back; nothing was changed: ${reason}`,
    );
  }
}

const describe = (error: unknown) => (error instanceof Error ? error.message : String(error));

export type RepairOutcome =
  /** flowgraph's shape already: nothing to repair. */
  | 'nothing_to_do'
  /** Dry run: the report says what --apply would do. */
  | 'planned'
  /** Blocking problems: nothing was (or would be) changed. */
  | 'refused'
  | 'applied'
  /** An interrupted repair was finished. */
  | 'finished';

export interface RowCount {
  table: string;
  before: number;
  after: number;
}

export interface RepairReport {
  /** The shape found before the repair. */
  shape: DatabaseShape['kind'];
  outcome: RepairOutcome;
  dryRun: boolean;
  /** Per child table: the links, adoptions and tenant fills (empty when there is nothing to link). */
  tables: TableLinkReport[];
  adoptedMasterFlows: AdoptedMasterFlow[];
  clearedImportReferences: ClearedImportReference[];
  statusMappings: StatusMapping[];
  phaseFixes: PhaseFix[];
  blocking: BlockingProblem[];
  /** Rows per table before and (expected, or after --apply) after. */
  rowCounts: RowCount[];
  /** The DDL, in the order it runs (data changes are described by the other fields). */
  statements: { stage: 'link' | 'validate' | 'finish'; sql: string }[];
  /** Objects of the legacy database that are not flowgraph's and stay as they are. */
  kept: string[];
  /** Migrations after the first one, applied once the repair finished (or pending, in a dry run). */
  laterMigrations: string[];
  /** Whether the report's row counts were checked against the database after the change. */
  verified: boolean;
  /**
   * How long each stage took, in milliseconds: plan (reading and deciding), link (the one transaction that
   * holds exclusive locks), validate, finish, migrations (the later ones).
   */
  durationsMs: Partial<Record<'plan' | 'link' | 'validate' | 'finish' | 'migrations', number>>;
}

type Stage = keyof RepairReport['durationsMs'];

/** Runs a stage and records how long it took. */
function stopwatch(durations: RepairReport['durationsMs']) {
  return async <T>(stage: Stage, work: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      return await work();
    } finally {
      durations[stage] = Math.round(performance.now() - started);
    }
  };
}

export interface RepairOptions {
  apply?: boolean;
  statusMappings?: OperatorMapping[];
  migrations?: Migration[];
  now?: () => Date;
  newId?: () => string;
  /** Tests: stop after the link stage's commit, as an interrupted run would. */
  interruptAfterLinkStage?: boolean;
}

interface MasterRow {
  id: string;
  flow_id: string;
  client_account_id: string;
  engagement_id: string;
  flow_name: string | null;
  flow_status: string;
  flow_type: string;
  configured_import_id: string | null;
}

interface ImportRow {
  id: string;
  client_account_id: string | null;
  engagement_id: string | null;
  master_flow_id: string | null;
  import_name: string;
  imported_by: string;
  status: string;
  created_at: Date;
}

interface RawRow {
  data_import_id: string;
  master_flow_id: string | null;
  client_account_id: string | null;
  engagement_id: string | null;
  rows: unknown;
}

interface DiscoveryRow {
  id: string;
  flow_id: string;
  master_flow_id: string | null;
  client_account_id: string;
  engagement_id: string;
  data_import_id: string | null;
  user_id: string;
  flow_name: string | null;
  status: string;
  created_at: Date;
  updated_at: Date;
  current_phase: string | null;
  progress_percentage: number;
  data_import_completed: boolean;
  data_validation_completed: boolean;
  field_mapping_completed: boolean;
  data_cleansing_completed: boolean;
  asset_inventory_completed: boolean;
}

interface Plan {
  facts: LinkFacts;
  links: LinkPlan;
  outcomes: RowOutcomes;
  adopted: AdoptedMasterFlow[];
  statusMappings: StatusMapping[];
  phaseFixes: PhaseFix[];
  blocking: BlockingProblem[];
  ddl: RepairDdl;
  before: Record<string, number>;
}

const asDate = (value: unknown) => (value instanceof Date ? value : new Date(String(value)));

async function countRows(session: Pick<SqlSession, 'query'>): Promise<Record<string, number>> {
  const [row] = await session.query<Record<string, unknown>>(
    `SELECT ${LEGACY_TABLES.map((table) => `(SELECT count(*) FROM "${table}") AS "${table}"`).join(', ')}`,
  );
  return Object.fromEntries(LEGACY_TABLES.map((table) => [table, toNumber(row?.[table])]));
}

/** Reads the facts and decides everything; writes nothing. */
async function buildPlan(session: Pick<SqlSession, 'query'>, inspection: Inspection, options: RepairOptions): Promise<Plan> {
  const now = (options.now ?? (() => new Date()))();
  const masters = await session.query<MasterRow>(
    `SELECT id::text, flow_id::text, client_account_id::text, engagement_id::text, flow_name, flow_status, flow_type,
            CASE WHEN jsonb_typeof(flow_configuration) = 'object' THEN flow_configuration ->> 'data_import_id' END AS configured_import_id
       FROM "${MASTER_TABLE}" ORDER BY created_at, id`,
  );
  const imports = await session.query<ImportRow>(
    `SELECT id::text, client_account_id::text, engagement_id::text, master_flow_id::text, import_name, imported_by, status, created_at
       FROM data_imports ORDER BY created_at, id`,
  );
  const raws = await session.query<RawRow>(
    `SELECT data_import_id::text, master_flow_id::text, client_account_id::text, engagement_id::text, count(*) AS rows
       FROM raw_import_records GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
  );
  const flows = await session.query<DiscoveryRow>(
    `SELECT id::text, flow_id::text, master_flow_id::text, client_account_id::text, engagement_id::text, data_import_id::text,
            user_id, flow_name, status, created_at, updated_at, current_phase, progress_percentage,
            data_import_completed, data_validation_completed, field_mapping_completed, data_cleansing_completed,
            asset_inventory_completed
       FROM discovery_flows ORDER BY created_at, id`,
  );
  const blocking: BlockingProblem[] = [];

  // Status values the CHECK constraints refuse: mapped by a documented rule, or blocking.
  const statusValues: Record<string, Map<string, string[]>> = {
    crewai_flow_state_extensions: group(masters, (row) => row.flow_status, (row) => row.flow_id),
    data_imports: group(imports, (row) => row.status, (row) => row.id),
    discovery_flows: group(flows, (row) => row.status, (row) => row.id),
  };
  const statusMappings: StatusMapping[] = [];
  const mapped = new Map<string, string>(); // `${table}\u0000${value}` -> allowed value
  for (const spec of STATUS_COLUMNS) {
    for (const [value, ids] of statusValues[spec.table]!) {
      const result = mapStatus(spec, value, options.statusMappings);
      if (result === null) continue;
      if (result === 'unmapped') {
        blocking.push({
          kind: 'unmapped_status',
          message:
            `${spec.table}.${spec.column} holds ${JSON.stringify(value)} in ${ids.length} rows, which flowgraph does not allow ` +
            `(${spec.allowed.join(', ')}) and no rule maps; decide with --map-status ${spec.table}.${spec.column}:${value}=<status>`,
          ids: ids.slice(0, 10),
        });
        continue;
      }
      statusMappings.push({ table: spec.table, column: spec.column, from: value, to: result.to, rule: result.rule, rows: ids.length });
      mapped.set(`${spec.table}\u0000${value}`, result.to);
    }
  }
  const statusOf = (table: string, value: string) => mapped.get(`${table}\u0000${value}`) ?? value;

  const badTypes = masters.filter((row) => !(FLOW_TYPES as readonly string[]).includes(row.flow_type));
  if (badTypes.length > 0) {
    blocking.push({
      kind: 'invalid_flow_type',
      message: `${badTypes.length} master flows have a flow_type flowgraph does not know (${[...new Set(badTypes.map((row) => row.flow_type))].join(', ')})`,
      ids: badTypes.slice(0, 10).map((row) => row.flow_id),
    });
  }
  const [rowNumbers] = await session.query<{ below_one: unknown; duplicated: unknown }>(
    `SELECT (SELECT count(*) FROM raw_import_records WHERE row_number < 1) AS below_one,
            (SELECT count(*) FROM (SELECT 1 FROM raw_import_records GROUP BY data_import_id, row_number HAVING count(*) > 1) d) AS duplicated`,
  );
  if (toNumber(rowNumbers?.below_one) > 0) {
    const ids = await session.query<{ id: string }>(`SELECT id::text FROM raw_import_records WHERE row_number < 1 ORDER BY id LIMIT 10`);
    blocking.push({
      kind: 'invalid_row_number',
      message: `${toNumber(rowNumbers?.below_one)} raw import records have a row_number below 1 (row numbers are 1-based); renumbering them is a decision for a person`,
      ids: ids.map((row) => row.id),
    });
  }
  if (toNumber(rowNumbers?.duplicated) > 0) {
    const ids = await session.query<{ id: string }>(
      `SELECT r.id::text FROM raw_import_records r
         JOIN (SELECT data_import_id, row_number FROM raw_import_records GROUP BY 1, 2 HAVING count(*) > 1) d USING (data_import_id, row_number)
        ORDER BY r.data_import_id, r.row_number, r.id LIMIT 10`,
    );
    blocking.push({
      kind: 'duplicate_row_number',
      message: `${toNumber(rowNumbers?.duplicated)} (data_import_id, row_number) pairs occur more than once; flowgraph requires them unique`,
      ids: ids.map((row) => row.id),
    });
  }

  const facts: LinkFacts = {
    masterFlows: masters.map(
      (row): MasterFlowFacts => ({
        id: row.id,
        flowId: row.flow_id,
        clientAccountId: row.client_account_id,
        engagementId: row.engagement_id,
        flowName: row.flow_name,
        configuredImportId: row.configured_import_id,
      }),
    ),
    dataImports: imports.map(
      (row): DataImportFacts => ({
        id: row.id,
        clientAccountId: row.client_account_id,
        engagementId: row.engagement_id,
        masterFlowRef: row.master_flow_id,
        importName: row.import_name,
        importedBy: row.imported_by,
        status: statusOf('data_imports', row.status),
        createdAt: asDate(row.created_at),
      }),
    ),
    rawRecords: raws.map(
      (row): RawRecordFacts => ({
        dataImportId: row.data_import_id,
        masterFlowRef: row.master_flow_id,
        clientAccountId: row.client_account_id,
        engagementId: row.engagement_id,
        rows: toNumber(row.rows),
      }),
    ),
    discoveryFlows: flows.map(
      (row): DiscoveryFlowFacts => ({
        id: row.id,
        flowId: row.flow_id,
        masterFlowRef: row.master_flow_id,
        clientAccountId: row.client_account_id,
        engagementId: row.engagement_id,
        dataImportId: row.data_import_id,
        userId: row.user_id,
        flowName: row.flow_name,
        status: statusOf('discovery_flows', row.status),
        createdAt: asDate(row.created_at),
        updatedAt: asDate(row.updated_at),
      }),
    ),
  };
  const links = decideLinks(facts, options.newId ?? randomUUID);
  blocking.push(...links.blocking);
  const outcomes = rowOutcomes(facts, links);

  const importsById = new Map(facts.dataImports.map((row) => [row.id, row]));
  const flowsById = new Map(facts.discoveryFlows.map((row) => [row.id, row]));
  const adopted = links.groups
    .filter((item) => item.decision.kind === 'adopted')
    .map((item) =>
      adoptedMasterFlow(
        item,
        item.dataImportId ? importsById.get(item.dataImportId) : undefined,
        item.discoveryFlowIds.map((id) => flowsById.get(id)!),
        now,
      ),
    );

  const phaseFixes = flows
    .map((row) =>
      phaseFix({
        id: row.id,
        currentPhase: row.current_phase,
        progressPercentage: Number(row.progress_percentage),
        flags: Object.fromEntries(DISCOVERY_PHASES.map((phase) => {
          const field = PHASE_COMPLETED_FIELD[phase];
          const column = field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`) as keyof DiscoveryRow;
          return [field, Boolean(row[column])];
        })) as PhaseFlags,
      }),
    )
    .filter((fix): fix is PhaseFix => fix !== null);

  return {
    facts,
    links,
    outcomes,
    adopted,
    statusMappings,
    phaseFixes,
    blocking,
    ddl: repairDdl(inspection.catalog, inspection.target),
    before: await countRows(session),
  };
}

function group<Row>(rows: Row[], key: (row: Row) => string, id: (row: Row) => string): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const row of rows) {
    const list = groups.get(key(row));
    if (list) list.push(id(row));
    else groups.set(key(row), [id(row)]);
  }
  return groups;
}

function report(shape: DatabaseShape['kind'], outcome: RepairOutcome, dryRun: boolean, plan: Plan | null, laterMigrations: string[]): RepairReport {
  if (!plan) {
    return {
      shape,
      outcome,
      dryRun,
      tables: [],
      adoptedMasterFlows: [],
      clearedImportReferences: [],
      statusMappings: [],
      phaseFixes: [],
      blocking: [],
      rowCounts: [],
      statements: [],
      kept: [],
      laterMigrations,
      verified: false,
      durationsMs: {},
    };
  }
  return {
    shape,
    outcome,
    dryRun,
    tables: CHILD_TABLES.map((table) => plan.outcomes.reports[table]),
    adoptedMasterFlows: plan.adopted,
    clearedImportReferences: plan.links.clearedImportReferences,
    statusMappings: plan.statusMappings,
    phaseFixes: plan.phaseFixes,
    blocking: plan.blocking,
    rowCounts: LEGACY_TABLES.map((table) => ({
      table,
      before: plan.before[table]!,
      after: plan.before[table]! + (table === MASTER_TABLE ? plan.adopted.length : 0),
    })),
    statements: [
      ...[...plan.ddl.prepare, ...plan.ddl.columns, dataChangesComment(plan), ...plan.ddl.create, ...plan.ddl.notNullChecks].map((sql) => ({
        stage: 'link' as const,
        sql,
      })),
      ...plan.ddl.validate.map((sql) => ({ stage: 'validate' as const, sql })),
      ...plan.ddl.finish.map((sql) => ({ stage: 'finish' as const, sql })),
    ],
    kept: plan.ddl.kept,
    laterMigrations,
    verified: false,
    durationsMs: {},
  };
}

/** The data_imports and discovery_flows rows whose values the link stage changes. */
function rowChanges(plan: Plan) {
  const importsById = new Map(plan.facts.dataImports.map((row) => [row.id, row]));
  const imports = [...plan.outcomes.importLinks]
    .filter(([id, link]) => {
      const row = importsById.get(id)!;
      return row.masterFlowRef !== link.flowId || row.clientAccountId !== link.clientAccountId || row.engagementId !== link.engagementId;
    })
    .map(([id, link]) => ({ id, master_flow_id: link.flowId, client_account_id: link.clientAccountId, engagement_id: link.engagementId }));
  const cleared = new Set(plan.links.clearedImportReferences.map((reference) => reference.discoveryFlowId));
  const flowsById = new Map(plan.facts.discoveryFlows.map((row) => [row.id, row]));
  const flows = [...plan.outcomes.discoveryLinks]
    .map(([id, link]) => ({ id, master_flow_id: link.flowId, clear_import: cleared.has(id) }))
    .filter((link) => link.clear_import || flowsById.get(link.id)!.masterFlowRef !== link.master_flow_id);
  return { imports, flows, cleared: cleared.size };
}

/** Where the data changes happen among the link stage's statements, and how many rows each touches. */
function dataChangesComment(plan: Plan): string {
  const changes = rowChanges(plan);
  return [
    '-- data changes (described above), in this order:',
    `--   map ${plan.statusMappings.reduce((sum, mapping) => sum + mapping.rows, 0)} status values; derive the phase of ${plan.phaseFixes.length} discovery flows`,
    `--   INSERT ${plan.adopted.length} adopted master flows (and, once flow_events exists below, one master_flow_created event each)`,
    `--   UPDATE ${changes.imports.length} data_imports (master_flow_id := flow_id, tenant filled)`,
    `--   UPDATE ${plan.outcomes.rawRecordsToUpdate} raw_import_records (master flow and tenant of their data import)`,
    `--   UPDATE ${changes.flows.length} discovery_flows (master_flow_id; data_import_id cleared for ${changes.cleared})`,
  ].join('\n');
}

/** Runs `WITH changed AS (<statement> RETURNING 1) SELECT count(*)` and checks the count the plan expects. */
async function changeRows(session: SqlSession, what: string, sql: string, params: unknown[], expected: number): Promise<void> {
  const [row] = await session.query<{ n: unknown }>(`WITH changed AS (${sql} RETURNING 1) SELECT count(*) AS n FROM changed`, params);
  const changed = toNumber(row?.n);
  if (changed !== expected) {
    throw new Error(`repair aborted (nothing was changed): ${what} changed ${changed} rows, the plan expected ${expected}`);
  }
}

/** The link stage's data changes, inside its transaction, after the legacy foreign keys are gone. */
async function writeData(session: SqlSession, plan: Plan): Promise<void> {
  for (const spec of STATUS_COLUMNS) {
    const mappings = plan.statusMappings.filter((mapping) => mapping.table === spec.table);
    if (mappings.length === 0) continue;
    await changeRows(
      session,
      `mapping ${spec.table}.${spec.column}`,
      `UPDATE "${spec.table}" t SET "${spec.column}" = m."to"
         FROM jsonb_to_recordset($1::jsonb) AS m("from" text, "to" text) WHERE t."${spec.column}" = m."from"`,
      [JSON.stringify(mappings.map(({ from, to }) => ({ from, to })))],
      mappings.reduce((sum, mapping) => sum + mapping.rows, 0),
    );
  }
  if (plan.phaseFixes.length > 0) {
    await changeRows(
      session,
      'deriving discovery phases',
      `UPDATE discovery_flows t
          SET current_phase = CASE WHEN m.fix_phase THEN m.phase ELSE t.current_phase END,
              progress_percentage = CASE WHEN m.fix_progress THEN m.progress ELSE t.progress_percentage END
         FROM jsonb_to_recordset($1::jsonb) AS m(id uuid, fix_phase boolean, phase text, fix_progress boolean, progress double precision)
        WHERE t.id = m.id`,
      [
        JSON.stringify(
          plan.phaseFixes.map((fix) => ({
            id: fix.id,
            fix_phase: fix.currentPhase !== null,
            phase: fix.currentPhase?.to ?? null,
            fix_progress: fix.progressPercentage !== null,
            progress: fix.progressPercentage?.to ?? null,
          })),
        ),
      ],
      plan.phaseFixes.length,
    );
  }
  if (plan.adopted.length > 0) {
    await changeRows(
      session,
      'adopting master flows',
      `INSERT INTO "${MASTER_TABLE}" (flow_id, client_account_id, engagement_id, user_id, flow_type, flow_name, flow_status,
                                      flow_configuration, phase_transitions, created_at, updated_at)
       SELECT flow_id, client_account_id, engagement_id, user_id, flow_type, flow_name, flow_status,
              flow_configuration, phase_transitions, created_at, now()
         FROM jsonb_to_recordset($1::jsonb) AS m(flow_id uuid, client_account_id uuid, engagement_id uuid, user_id text,
              flow_type text, flow_name text, flow_status text, flow_configuration jsonb, phase_transitions jsonb, created_at timestamptz)`,
      [
        JSON.stringify(
          plan.adopted.map((flow) => ({
            flow_id: flow.flowId,
            client_account_id: flow.clientAccountId,
            engagement_id: flow.engagementId,
            user_id: flow.userId,
            flow_type: flow.flowType,
            flow_name: flow.flowName,
            flow_status: flow.flowStatus,
            flow_configuration: flow.flowConfiguration,
            phase_transitions: flow.phaseTransitions,
            created_at: flow.createdAt.toISOString(),
          })),
        ),
      ],
      plan.adopted.length,
    );
  }
  const changes = rowChanges(plan);
  await changeRows(
    session,
    'linking data imports',
    `UPDATE data_imports t SET master_flow_id = m.master_flow_id, client_account_id = m.client_account_id, engagement_id = m.engagement_id
       FROM jsonb_to_recordset($1::jsonb) AS m(id uuid, master_flow_id uuid, client_account_id uuid, engagement_id uuid)
      WHERE t.id = m.id`,
    [JSON.stringify(changes.imports)],
    changes.imports.length,
  );
  // Raw records follow their import (rule raw_record_import): one set-based statement, however many rows.
  await changeRows(
    session,
    'linking raw import records',
    `UPDATE raw_import_records t SET master_flow_id = d.master_flow_id, client_account_id = d.client_account_id, engagement_id = d.engagement_id
       FROM data_imports d
      WHERE d.id = t.data_import_id
        AND (t.master_flow_id IS DISTINCT FROM d.master_flow_id OR t.client_account_id IS DISTINCT FROM d.client_account_id
             OR t.engagement_id IS DISTINCT FROM d.engagement_id)`,
    [],
    plan.outcomes.rawRecordsToUpdate,
  );
  await changeRows(
    session,
    'linking discovery flows',
    `UPDATE discovery_flows t
        SET master_flow_id = m.master_flow_id, data_import_id = CASE WHEN m.clear_import THEN NULL ELSE t.data_import_id END
       FROM jsonb_to_recordset($1::jsonb) AS m(id uuid, master_flow_id uuid, clear_import boolean)
      WHERE t.id = m.id`,
    [JSON.stringify(changes.flows)],
    changes.flows.length,
  );
}

/**
 * docs/design.md invariant 4: creating a master flow appends `master_flow_created` to the event log in the same
 * transaction. The log is created empty by the link stage itself (the first migration's flow_events and
 * counter row), so the adopted master flows' events are its first entries, numbered from the counter. The link
 * stage runs before the later migrations install the triggers that write the log for every other change, so
 * these are the only events appended by code, once per database, with the recovery's reason in the payload.
 */
async function appendAdoptionEvents(session: SqlSession, plan: Plan): Promise<void> {
  if (plan.adopted.length === 0) return;
  const events = plan.adopted.map((flow) => ({
    client_account_id: flow.clientAccountId,
    engagement_id: flow.engagementId,
    master_flow_id: flow.flowId,
    flow_type: flow.flowType,
    payload: { after: flow.flowStatus, recovered: true, reason: flow.flowConfiguration.recovery_reason },
  }));
  const [counter] = await session.query<{ last_sequence: unknown }>(
    'UPDATE flow_event_sequence SET last_sequence = last_sequence + $1 WHERE id = 1 RETURNING last_sequence',
    [events.length],
  );
  const first = toNumber(counter?.last_sequence) - events.length + 1;
  await changeRows(
    session,
    'appending master_flow_created events',
    `INSERT INTO flow_events (sequence, client_account_id, engagement_id, master_flow_id, flow_type, kind, actor, payload)
     SELECT $2 + e.n - 1, (e.value ->> 'client_account_id')::uuid, (e.value ->> 'engagement_id')::uuid,
            (e.value ->> 'master_flow_id')::uuid, e.value ->> 'flow_type', 'master_flow_created', $3, e.value -> 'payload'
       FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e(value, n)`,
    [JSON.stringify(events), first, REPAIR_ACTOR],
    events.length,
  );
}

/** Checks, before the link stage commits, what the validation stage will rely on. */
async function verifyLinkStage(session: SqlSession, plan: Plan): Promise<void> {
  const after = await countRows(session);
  for (const table of LEGACY_TABLES) {
    const expected = plan.before[table]! + (table === MASTER_TABLE ? plan.adopted.length : 0);
    if (after[table] !== expected) {
      throw new Error(`repair aborted (nothing was changed): ${table} would have ${after[table]} rows instead of ${expected}`);
    }
  }
  for (const table of CHILD_TABLES) {
    const [row] = await session.query<{ n: unknown }>(
      `SELECT count(*) AS n FROM "${table}" WHERE master_flow_id IS NULL OR client_account_id IS NULL OR engagement_id IS NULL`,
    );
    if (toNumber(row?.n) > 0) {
      throw new Error(`repair aborted (nothing was changed): ${toNumber(row?.n)} rows of ${table} would still lack their master flow or tenant`);
    }
  }
}

async function inTransaction<T>(session: SqlSession, begin: string, work: () => Promise<T>, commit = true): Promise<T> {
  await session.exec(begin);
  try {
    const result = await work();
    await session.exec(commit ? 'COMMIT' : 'ROLLBACK');
    return result;
  } catch (error) {
    await session.exec('ROLLBACK');
    throw error;
  }
}

/** Validates the constraints the link stage added, sets NOT NULL, records the first migration as applied. */
async function finishRepair(session: SqlSession, inspection: Inspection, timed: ReturnType<typeof stopwatch>): Promise<void> {
  // Each VALIDATE is its own transaction: it scans under SHARE UPDATE EXCLUSIVE, so reads and writes go on.
  await timed('validate', async () => {
    for (const statement of validateStatements(inspection)) await session.exec(statement);
  });
  await timed('finish', () => inTransaction(session, 'BEGIN', async () => {
    await session.query('SELECT pg_advisory_xact_lock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
    for (const statement of finishStatements(inspection)) await session.exec(statement);
    await session.query(
      `UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1, logs = NULL
        WHERE migration_name = $1 AND finished_at IS NULL AND rolled_back_at IS NULL AND logs LIKE $2`,
      [inspection.target.migration.name, `${REPAIR_MARKER}%`],
    );
  }));
}

const HELPER_PREFIX = 'flowgraph_repair_';

/** In the half-way state: the link stage's constraints (the first migration's and the helpers) still NOT VALID. */
function validateStatements(inspection: Inspection): string[] {
  const ours = new Set(inspection.target.statements.map((statement) => statement.name));
  const pending = (table: string, name: string, validated: boolean) =>
    !validated && (LEGACY_TABLES as readonly string[]).includes(table) && (ours.has(name) || name.startsWith(HELPER_PREFIX));
  // The migration's constraints in its order, then the helpers by name (the order the dry run printed).
  const position = new Map(inspection.target.statements.map((statement, index) => [statement.name, index]));
  const rank = (name: string) => position.get(name) ?? Number.MAX_SAFE_INTEGER;
  return [...inspection.catalog.foreignKeys, ...inspection.catalog.checks]
    .filter((constraint) => pending(constraint.table, constraint.name, constraint.validated))
    .sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name))
    .map((constraint) => `ALTER TABLE "${constraint.table}" VALIDATE CONSTRAINT "${constraint.name}"`);
}

/** SET NOT NULL where a helper CHECK (validated by now) proves it, then drop the helper. */
function finishStatements(inspection: Inspection): string[] {
  return inspection.catalog.checks
    .filter((check) => check.name.startsWith(HELPER_PREFIX))
    .sort((a, b) => a.name.localeCompare(b.name))
    .flatMap((check) => {
      const column = check.name.slice(`${HELPER_PREFIX}${check.table}_`.length, -'_not_null'.length);
      return [`ALTER TABLE "${check.table}" ALTER COLUMN "${column}" SET NOT NULL`, `ALTER TABLE "${check.table}" DROP CONSTRAINT "${check.name}"`];
    });
}

export async function repairDatabase(session: SqlSession, options: RepairOptions = {}): Promise<RepairReport> {
  const migrations = options.migrations ?? (await readMigrations());
  const dryRun = !options.apply;
  const first = await inspect(session, migrations);
  const later = migrations.slice(1).map((migration) => migration.name);
  const durations: RepairReport['durationsMs'] = {};
  const timed = stopwatch(durations);
  const withDurations = (done: RepairReport) => ({ ...done, durationsMs: durations });

  switch (first.shape.kind) {
    case 'unrecognised':
      throw new UnrecognisedDatabaseError(first.shape.reasons);
    case 'flowgraph':
      return report('flowgraph', 'nothing_to_do', dryRun, null, first.shape.pending);
    case 'repair_in_progress': {
      if (dryRun) {
        const planned = report('repair_in_progress', 'planned', true, null, later);
        planned.statements = [
          ...validateStatements(first).map((sql) => ({ stage: 'validate' as const, sql })),
          ...finishStatements(first).map((sql) => ({ stage: 'finish' as const, sql })),
        ];
        return planned;
      }
      await finishRepair(session, first, timed).catch((error: unknown) => {
        throw new RepairFailedError(true, describe(error));
      });
      // Later migrations run like at start-up: a failure there leaves a finished repair behind.
      const applied = await timed('migrations', () => applyMigrations(session, migrations));
      const finished = report('repair_in_progress', 'finished', false, null, applied);
      finished.verified = true;
      return withDurations(finished);
    }
    case 'legacy':
      break;
  }

  if (dryRun) {
    const plan = await timed('plan', () =>
      inTransaction(session, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', () => buildPlan(session, first, options), false),
    );
    return withDurations(report('legacy', plan.blocking.length > 0 ? 'refused' : 'planned', true, plan, later));
  }

  const linked = await timed('link', () => inTransaction(session, 'BEGIN', async () => {
    await session.query('SELECT pg_advisory_xact_lock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
    await session.exec(`LOCK TABLE ${LEGACY_TABLES.map((table) => `"${table}"`).join(', ')} IN ACCESS EXCLUSIVE MODE`);
    // Re-read under the locks: what is decided is what is written.
    const locked = await inspect(session, migrations);
    if (locked.shape.kind !== 'legacy') {
      throw new UnrecognisedDatabaseError([`the database changed shape while the repair waited for its locks (now: ${locked.shape.kind})`]);
    }
    const plan = await timed('plan', () => buildPlan(session, locked, options));
    if (plan.blocking.length > 0) return { plan, inspection: locked };
    for (const statement of [...plan.ddl.prepare, ...plan.ddl.columns]) await session.exec(statement);
    await writeData(session, plan);
    for (const statement of [...plan.ddl.create, ...plan.ddl.notNullChecks]) await session.exec(statement);
    await appendAdoptionEvents(session, plan);
    await verifyLinkStage(session, plan);
    await session.exec(CREATE_HISTORY_TABLE);
    await session.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, applied_steps_count) VALUES ($1, $2, $3, $4, 0)`,
      [randomUUID(), locked.target.migration.checksum, locked.target.migration.name, `${REPAIR_MARKER}: constraints added NOT VALID, validation pending`],
    );
    return { plan, inspection: locked };
  })).catch((error: unknown) => {
    if (error instanceof UnrecognisedDatabaseError) throw error;
    throw new RepairFailedError(false, describe(error));
  });
  if (linked.plan.blocking.length > 0) return withDurations(report('legacy', 'refused', false, linked.plan, later));
  if (options.interruptAfterLinkStage) return withDurations(report('legacy', 'applied', false, linked.plan, []));

  await inspect(session, migrations)
    .then((halfway) => finishRepair(session, halfway, timed))
    .catch((error: unknown) => {
      throw new RepairFailedError(true, describe(error));
    });
  const applied = await timed('migrations', () => applyMigrations(session, migrations));
  const done = report('legacy', 'applied', false, linked.plan, applied);
  const after = await countRows(session);
  done.rowCounts = done.rowCounts.map((count) => ({ ...count, after: after[count.table]! }));
  done.verified = true;
  return withDurations(done);
}
