// The integrity report behind `npm run doctor`, Query.integrityReport and the summary in /ready: problems in
// the structure (from the catalog) and, unless asked for the structure only, in the rows. Read-only.
import { readMigrations, type Migration } from '../db/migrator.ts';
import type { SqlSession } from '../db/sql-session.ts';
import { DISCOVERY_PHASES } from '../domain/discovery-phases.ts';
import { FLOW_TYPES } from '../domain/flow-types.ts';
import { IMPORT_STATUSES } from '../domain/import-status.ts';
import {
  CHILD_TABLES,
  MASTER_TABLE,
  structuralProblems,
  type ChildTableName,
  type IntegrityProblem,
  type IntegrityProblemKind,
} from '../domain/integrity-rules.ts';
import { DISCOVERY_FLOW_STATUSES, MASTER_FLOW_STATUSES } from '../domain/master-flow-status.ts';
import { toNumber } from './database-catalog.ts';
import { inspect, type DatabaseShape } from './database-shape.ts';

export interface IntegrityReport {
  shape: DatabaseShape['kind'];
  /** No problem found (and the shape recognised). */
  clean: boolean;
  /** Whether the rows were checked, or only the structure. */
  dataChecked: boolean;
  migrations: { applied: string[]; pending: string[] };
  tables: { table: string; rows: number }[];
  problems: IntegrityProblem[];
  /** Why the shape was not recognised, and other remarks. */
  notes: string[];
  checkedAt: Date;
}

const SAMPLE_SIZE = 10;

const quoteList = (values: readonly string[]) => values.map((value) => `'${value}'`).join(', ');

interface DataCheck {
  kind: IntegrityProblemKind;
  column: string | null;
  condition: string;
  message: (count: number) => string;
}

/** Joins every check of a child table may use: its master flow by flow_id (f) or by internal id (i). */
function childJoins(table: ChildTableName): string {
  const master = `LEFT JOIN ${MASTER_TABLE} f ON f.flow_id = t.master_flow_id
                  LEFT JOIN ${MASTER_TABLE} i ON i.id = t.master_flow_id AND f.flow_id IS NULL`;
  if (table === 'data_imports') return master;
  // The import's master flow, resolved the same way (legacy rows name it by internal id).
  return `${master}
          LEFT JOIN data_imports d ON d.id = t.data_import_id
          LEFT JOIN ${MASTER_TABLE} df ON df.flow_id = d.master_flow_id
          LEFT JOIN ${MASTER_TABLE} di ON di.id = d.master_flow_id AND df.flow_id IS NULL`;
}

function childChecks(table: ChildTableName): DataCheck[] {
  const checks: DataCheck[] = [
    {
      kind: 'null_master_flow_id',
      column: 'master_flow_id',
      condition: 't.master_flow_id IS NULL',
      message: (n) => `${n} rows of ${table} have no master_flow_id`,
    },
    {
      kind: 'missing_master_flow',
      column: 'master_flow_id',
      condition: 't.master_flow_id IS NOT NULL AND f.flow_id IS NULL AND i.id IS NULL',
      message: (n) => `${n} rows of ${table} reference a master flow that does not exist`,
    },
    {
      kind: 'references_internal_id',
      column: 'master_flow_id',
      condition: 'f.flow_id IS NULL AND i.id IS NOT NULL',
      message: (n) => `${n} rows of ${table} reference their master flow by its internal id instead of its flow_id`,
    },
    {
      kind: 'null_tenant',
      column: 'client_account_id',
      condition: 't.client_account_id IS NULL OR t.engagement_id IS NULL',
      message: (n) => `${n} rows of ${table} have no tenant (client_account_id or engagement_id is NULL)`,
    },
    {
      kind: 'tenant_mismatch',
      column: 'client_account_id',
      condition:
        'coalesce(f.client_account_id, i.client_account_id) <> t.client_account_id OR coalesce(f.engagement_id, i.engagement_id) <> t.engagement_id',
      message: (n) => `${n} rows of ${table} belong to another tenant than their master flow`,
    },
  ];
  if (table !== 'data_imports') {
    checks.push({
      kind: 'import_mismatch',
      column: 'master_flow_id',
      condition: 'coalesce(df.flow_id, di.flow_id) <> coalesce(f.flow_id, i.flow_id)',
      message: (n) => `${n} rows of ${table} belong to another master flow than their data import`,
    });
  }
  if (table === 'discovery_flows') {
    checks.push(
      {
        kind: 'missing_data_import',
        column: 'data_import_id',
        condition: 't.data_import_id IS NOT NULL AND d.id IS NULL',
        message: (n) => `${n} discovery flows name a data import that does not exist`,
      },
      {
        kind: 'invalid_value',
        column: 'status',
        condition: `t.status NOT IN (${quoteList(DISCOVERY_FLOW_STATUSES)})`,
        message: (n) => `${n} discovery flows have a status flowgraph does not allow`,
      },
      {
        kind: 'invalid_value',
        column: 'current_phase',
        condition: `t.current_phase NOT IN (${quoteList(DISCOVERY_PHASES)})`,
        message: (n) => `${n} discovery flows have a current_phase that is not a discovery phase`,
      },
      {
        kind: 'invalid_value',
        column: 'progress_percentage',
        condition: `NOT (t.progress_percentage >= 0 AND t.progress_percentage <= 100)`,
        message: (n) => `${n} discovery flows have a progress_percentage outside 0..100`,
      },
    );
  }
  if (table === 'data_imports') {
    checks.push({
      kind: 'invalid_value',
      column: 'status',
      condition: `t.status NOT IN (${quoteList(IMPORT_STATUSES)})`,
      message: (n) => `${n} data imports have a status flowgraph does not allow`,
    });
  }
  if (table === 'raw_import_records') {
    checks.push({
      kind: 'invalid_row_number',
      column: 'row_number',
      condition: 't.row_number < 1',
      message: (n) => `${n} raw import records have a row_number below 1`,
    });
  }
  return checks;
}

const MASTER_CHECKS: DataCheck[] = [
  {
    kind: 'invalid_value',
    column: 'flow_status',
    condition: `t.flow_status NOT IN (${quoteList(MASTER_FLOW_STATUSES)})`,
    message: (n) => `${n} master flows have a flow_status flowgraph does not allow`,
  },
  {
    kind: 'invalid_value',
    column: 'flow_type',
    condition: `t.flow_type NOT IN (${quoteList(FLOW_TYPES)})`,
    message: (n) => `${n} master flows have a flow_type flowgraph does not allow`,
  },
];

async function runChecks(
  session: Pick<SqlSession, 'query'>,
  table: string,
  joins: string,
  checks: DataCheck[],
): Promise<{ rows: number; problems: IntegrityProblem[] }> {
  const counts = checks.map((check, index) => `count(*) FILTER (WHERE ${check.condition}) AS c${index}`);
  const [row] = await session.query<Record<string, unknown>>(`SELECT count(*) AS total, ${counts.join(', ')} FROM ${table} t ${joins}`);
  const problems: IntegrityProblem[] = [];
  for (const [index, check] of checks.entries()) {
    const count = toNumber(row?.[`c${index}`]);
    if (count === 0) continue;
    const sample = await session.query<{ id: string }>(
      `SELECT t.id::text AS id FROM ${table} t ${joins} WHERE ${check.condition} ORDER BY t.id LIMIT ${SAMPLE_SIZE}`,
    );
    let message = check.message(count);
    if (check.kind === 'invalid_value') {
      const values = await session.query<{ value: string | null; n: unknown }>(
        `SELECT t.${check.column}::text AS value, count(*) AS n FROM ${table} t WHERE ${check.condition} GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 20`,
      );
      message += `: ${values.map((value) => `${JSON.stringify(value.value)} (${toNumber(value.n)})`).join(', ')}`;
    }
    problems.push({ kind: check.kind, table, column: check.column, count, message, sampleIds: sample.map((item) => item.id) });
  }
  return { rows: toNumber(row?.total), problems };
}

async function duplicateRowNumbers(session: Pick<SqlSession, 'query'>): Promise<IntegrityProblem[]> {
  const groups = `SELECT data_import_id, row_number FROM raw_import_records GROUP BY 1, 2 HAVING count(*) > 1`;
  const [row] = await session.query<{ n: unknown }>(`SELECT count(*) AS n FROM (${groups}) g`);
  const count = toNumber(row?.n);
  if (count === 0) return [];
  const sample = await session.query<{ id: string }>(
    `SELECT r.id::text AS id FROM raw_import_records r JOIN (${groups}) g USING (data_import_id, row_number) ORDER BY r.data_import_id, r.row_number, r.id LIMIT ${SAMPLE_SIZE}`,
  );
  return [
    {
      kind: 'duplicate_row_number',
      table: 'raw_import_records',
      column: 'row_number',
      count,
      message: `${count} (data_import_id, row_number) pairs occur more than once in raw_import_records`,
      sampleIds: sample.map((item) => item.id),
    },
  ];
}

export interface IntegrityOptions {
  /** Check the rows too (full table scans), not only the structure. Default true. */
  data?: boolean;
  migrations?: Migration[];
}

export async function integrityReport(session: Pick<SqlSession, 'query'>, options: IntegrityOptions = {}): Promise<IntegrityReport> {
  const migrations = options.migrations ?? (await readMigrations());
  const { shape, catalog } = await inspect(session, migrations);
  const report: IntegrityReport = {
    shape: shape.kind,
    clean: false,
    dataChecked: false,
    migrations: shape.kind === 'flowgraph' ? { applied: shape.applied, pending: shape.pending } : { applied: [], pending: migrations.map((m) => m.name) },
    tables: [],
    problems: [],
    notes: [],
    checkedAt: new Date(),
  };
  if (shape.kind === 'unrecognised') {
    report.notes = shape.reasons;
    return report;
  }
  if (shape.kind === 'repair_in_progress') {
    report.problems.push({
      kind: 'repair_in_progress',
      table: '_prisma_migrations',
      column: null,
      count: null,
      message: 'a repair was interrupted while validating its constraints: run `npm run repair -- --apply` to finish it',
      sampleIds: [],
    });
  }
  report.problems.push(...structuralProblems(catalog));

  if (options.data ?? true) {
    const master = await runChecks(session, MASTER_TABLE, '', MASTER_CHECKS);
    report.tables.push({ table: MASTER_TABLE, rows: master.rows });
    report.problems.push(...master.problems);
    for (const table of CHILD_TABLES) {
      const child = await runChecks(session, table, childJoins(table), childChecks(table));
      report.tables.push({ table, rows: child.rows });
      report.problems.push(...child.problems);
    }
    report.problems.push(...(await duplicateRowNumbers(session)));
    report.dataChecked = true;
  }
  report.clean = report.problems.length === 0;
  return report;
}
