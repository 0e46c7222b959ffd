// What docs/design.md's invariants require of the database's structure, and the problems a catalog shows
// against them. Pure: the catalog facts are read by src/services/database-catalog.ts.

export const MASTER_TABLE = 'crewai_flow_state_extensions';
export const CHILD_TABLES = ['data_imports', 'raw_import_records', 'discovery_flows'] as const;
export type ChildTableName = (typeof CHILD_TABLES)[number];

export const INTEGRITY_PROBLEM_KINDS = [
  // structure
  'missing_foreign_key',
  'foreign_key_wrong_column',
  'foreign_key_wrong_action',
  'constraint_not_validated',
  'nullable_column',
  'missing_index',
  'missing_check_constraint',
  'missing_tenant_trigger',
  'repair_in_progress',
  // data
  'null_master_flow_id',
  'missing_master_flow',
  'references_internal_id',
  'null_tenant',
  'tenant_mismatch',
  'import_mismatch',
  'missing_data_import',
  'invalid_value',
  'duplicate_row_number',
  'invalid_row_number',
] as const;

export type IntegrityProblemKind = (typeof INTEGRITY_PROBLEM_KINDS)[number];

export interface IntegrityProblem {
  kind: IntegrityProblemKind;
  table: string;
  column: string | null;
  /** Rows affected, for problems in the data; null for problems in the structure. */
  count: number | null;
  message: string;
  /** Up to ten ids of affected rows (the CLI shows them; the GraphQL report does not). */
  sampleIds: string[];
}

export type DeleteAction = 'cascade' | 'set_null' | 'no_action' | 'restrict' | 'set_default';

export interface ExpectedForeignKey {
  table: ChildTableName;
  column: string;
  references: { table: string; column: string };
  onDelete: DeleteAction;
}

export const EXPECTED_FOREIGN_KEYS: readonly ExpectedForeignKey[] = [
  { table: 'data_imports', column: 'master_flow_id', references: { table: MASTER_TABLE, column: 'flow_id' }, onDelete: 'cascade' },
  { table: 'raw_import_records', column: 'master_flow_id', references: { table: MASTER_TABLE, column: 'flow_id' }, onDelete: 'cascade' },
  { table: 'raw_import_records', column: 'data_import_id', references: { table: 'data_imports', column: 'id' }, onDelete: 'cascade' },
  { table: 'discovery_flows', column: 'master_flow_id', references: { table: MASTER_TABLE, column: 'flow_id' }, onDelete: 'cascade' },
  // A discovery flow outlives the deletion of its import alone (the import's id is cleared).
  { table: 'discovery_flows', column: 'data_import_id', references: { table: 'data_imports', column: 'id' }, onDelete: 'set_null' },
];

/** Invariants 1 and 2: every child names its master flow and its tenant. */
export const REQUIRED_COLUMNS: readonly { table: ChildTableName; column: string }[] = CHILD_TABLES.flatMap((table) =>
  ['master_flow_id', 'client_account_id', 'engagement_id'].map((column) => ({ table, column })),
);

/** The value lists of src/domain, enforced by the migrations' CHECK constraints. */
export const EXPECTED_CHECKS: readonly { table: string; name: string }[] = [
  { table: MASTER_TABLE, name: 'crewai_flow_state_extensions_flow_type_check' },
  { table: MASTER_TABLE, name: 'crewai_flow_state_extensions_flow_status_check' },
  { table: 'data_imports', name: 'data_imports_status_check' },
  { table: 'discovery_flows', name: 'discovery_flows_status_check' },
  { table: 'discovery_flows', name: 'discovery_flows_current_phase_check' },
  { table: 'discovery_flows', name: 'discovery_flows_progress_percentage_check' },
  { table: 'raw_import_records', name: 'raw_import_records_row_number_check' },
];

/** Invariant 2 for rows written later: the tenant-consistency triggers of the first migration. */
export const EXPECTED_TRIGGERS: readonly { table: string; name: string }[] = [
  ...CHILD_TABLES.flatMap((table) => [
    { table, name: `${table}_links_on_insert` },
    { table, name: `${table}_links_on_update` },
  ]),
  { table: MASTER_TABLE, name: 'crewai_flow_state_extensions_tenant_frozen' },
];

export interface CatalogFacts {
  tables: string[];
  columns: { table: string; column: string; notNull: boolean; formatType: string }[];
  foreignKeys: {
    name: string;
    table: string;
    columns: string[];
    refTable: string;
    refColumns: string[];
    onDelete: DeleteAction;
    validated: boolean;
  }[];
  /** Key columns in order. */
  indexes: { name: string; table: string; columns: string[]; valid: boolean; unique: boolean; constraint: string | null }[];
  checks: { name: string; table: string; validated: boolean }[];
  triggers: { name: string; table: string; enabled: boolean }[];
}

const ACTION_SQL: Record<DeleteAction, string> = {
  cascade: 'ON DELETE CASCADE',
  set_null: 'ON DELETE SET NULL',
  no_action: 'no ON DELETE action',
  restrict: 'ON DELETE RESTRICT',
  set_default: 'ON DELETE SET DEFAULT',
};

function structural(kind: IntegrityProblemKind, table: string, column: string | null, message: string): IntegrityProblem {
  return { kind, table, column, count: null, message, sampleIds: [] };
}

/** Problems of structure: foreign keys, NOT NULL, indexes on foreign-key columns, CHECKs, triggers. */
export function structuralProblems(catalog: CatalogFacts): IntegrityProblem[] {
  const problems: IntegrityProblem[] = [];
  const present = new Set(catalog.tables);

  for (const expected of EXPECTED_FOREIGN_KEYS) {
    if (!present.has(expected.table)) continue;
    const target = `${expected.references.table}(${expected.references.column})`;
    const keys = catalog.foreignKeys.filter((key) => key.table === expected.table && key.columns.length === 1 && key.columns[0] === expected.column);
    const right = keys.find((key) => key.refTable === expected.references.table && key.refColumns.join() === expected.references.column);
    if (!right) {
      const wrong = keys[0];
      problems.push(
        wrong
          ? structural(
              'foreign_key_wrong_column',
              expected.table,
              expected.column,
              `${expected.table}.${expected.column} references ${wrong.refTable}(${wrong.refColumns.join(', ')}) instead of ${target}`,
            )
          : structural('missing_foreign_key', expected.table, expected.column, `${expected.table}.${expected.column} has no foreign key to ${target}`),
      );
    } else {
      if (right.onDelete !== expected.onDelete) {
        problems.push(
          structural(
            'foreign_key_wrong_action',
            expected.table,
            expected.column,
            `foreign key ${right.name} has ${ACTION_SQL[right.onDelete]} instead of ${ACTION_SQL[expected.onDelete]}`,
          ),
        );
      }
      if (!right.validated) {
        problems.push(structural('constraint_not_validated', expected.table, expected.column, `foreign key ${right.name} is NOT VALID (existing rows unchecked)`));
      }
    }
    const indexed = catalog.indexes.some((index) => index.table === expected.table && index.valid && index.columns[0] === expected.column);
    if (!indexed) {
      problems.push(structural('missing_index', expected.table, expected.column, `no index starts with the foreign-key column ${expected.table}.${expected.column}`));
    }
  }

  for (const required of REQUIRED_COLUMNS) {
    const column = catalog.columns.find((candidate) => candidate.table === required.table && candidate.column === required.column);
    if (column && !column.notNull) {
      problems.push(structural('nullable_column', required.table, required.column, `${required.table}.${required.column} is nullable; it must be NOT NULL`));
    }
  }

  for (const expected of EXPECTED_CHECKS) {
    if (!present.has(expected.table)) continue;
    const check = catalog.checks.find((candidate) => candidate.table === expected.table && candidate.name === expected.name);
    if (!check) problems.push(structural('missing_check_constraint', expected.table, null, `CHECK constraint ${expected.name} is missing`));
    else if (!check.validated) problems.push(structural('constraint_not_validated', expected.table, null, `CHECK constraint ${expected.name} is NOT VALID (existing rows unchecked)`));
  }

  for (const expected of EXPECTED_TRIGGERS) {
    if (!present.has(expected.table)) continue;
    const trigger = catalog.triggers.find((candidate) => candidate.table === expected.table && candidate.name === expected.name);
    if (!trigger || !trigger.enabled) {
      problems.push(
        structural('missing_tenant_trigger', expected.table, null, `tenant-consistency trigger ${expected.name} is ${trigger ? 'disabled' : 'missing'}`),
      );
    }
  }
  return problems;
}
