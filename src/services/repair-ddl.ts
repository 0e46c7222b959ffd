// The DDL that turns the legacy tables into exactly what flowgraph's first migration creates, computed
// from the catalog and that migration's statements (src/services/repair-target.ts). Three stages, because
// constraints are added NOT VALID and validated afterwards, outside the transaction that holds the
// exclusive locks (a validation scan only takes a SHARE UPDATE EXCLUSIVE lock, so the tables stay usable):
//   link:     drop the legacy constraints the migration replaces, change columns, then (after the data
//             changes) create the migration's tables, indexes, functions and triggers, its foreign keys and
//             CHECKs NOT VALID, and a NOT VALID `col IS NOT NULL` CHECK per column that becomes NOT NULL;
//   validate: VALIDATE CONSTRAINT each of those;
//   finish:   SET NOT NULL (PostgreSQL skips the scan when a validated CHECK proves it) and drop the helper
//             CHECKs.
import type { ColumnDefinition } from '../db/migration-statements.ts';
import { LEGACY_TABLES } from '../domain/legacy-shape.ts';
import type { Catalog } from './database-catalog.ts';
import type { RepairTarget } from './repair-target.ts';

export interface RepairDdl {
  prepare: string[];
  columns: string[];
  create: string[];
  notNullChecks: string[];
  validate: string[];
  finish: string[];
  /** Objects of the legacy database that are not flowgraph's and stay as they are. */
  kept: string[];
}

const isLegacy = (table: string | null) => table !== null && (LEGACY_TABLES as readonly string[]).includes(table);

/** Name of the temporary CHECK that proves a column holds no NULL before SET NOT NULL. */
export function notNullCheckName(table: string, column: string): string {
  return `flowgraph_repair_${table}_${column}_not_null`.slice(0, 63);
}

/** A column default as pg_get_expr prints it, for the literal forms the migrations use. */
export function printedDefault(column: ColumnDefinition): string | null {
  if (column.default === null) return null;
  const literal = /^'(.*)'$/s.exec(column.default);
  if (!literal) return column.default;
  const cast = column.formatType.startsWith('character varying') ? 'character varying' : column.formatType;
  return `${column.default}::${cast}`;
}

/** SET NOT NULL / DROP helper pairs, ordered by helper name. */
function sortedPairs(statements: string[]): string[] {
  const pairs: [string, string][] = [];
  for (let index = 0; index < statements.length; index += 2) pairs.push([statements[index]!, statements[index + 1]!]);
  return pairs.sort((a, b) => a[1].localeCompare(b[1])).flat();
}

export function repairDdl(catalog: Catalog, target: RepairTarget): RepairDdl {
  const ddl: RepairDdl = { prepare: [], columns: [], create: [], notNullChecks: [], validate: [], finish: [], kept: [] };
  const targetNames = new Set(target.statements.map((statement) => statement.name));
  const targetForeignKeys = target.statements
    .filter((statement) => statement.kind === 'foreign_key')
    .map((statement) => ({ table: statement.table!, column: /FOREIGN KEY \("(\w+)"\)/.exec(statement.sql)?.[1] }));
  const primaryKeys = new Set(target.tables.map((table) => table.primaryKey.name));

  for (const key of catalog.foreignKeys.filter((candidate) => isLegacy(candidate.table))) {
    const replaced = targetNames.has(key.name) || targetForeignKeys.some((fk) => fk.table === key.table && fk.column === key.columns[0] && key.columns.length === 1);
    if (replaced) ddl.prepare.push(`ALTER TABLE "${key.table}" DROP CONSTRAINT "${key.name}"`);
    else ddl.kept.push(`foreign key ${key.name} on ${key.table}`);
  }
  for (const index of catalog.indexes.filter((candidate) => isLegacy(candidate.table) && !primaryKeys.has(candidate.constraint ?? ''))) {
    if (!targetNames.has(index.name)) ddl.kept.push(`index ${index.name} on ${index.table}`);
    else if (index.constraint) ddl.prepare.push(`ALTER TABLE "${index.table}" DROP CONSTRAINT "${index.constraint}"`);
    else ddl.prepare.push(`DROP INDEX "${index.name}"`);
  }
  for (const check of catalog.checks.filter((candidate) => isLegacy(candidate.table))) {
    if (targetNames.has(check.name)) ddl.prepare.push(`ALTER TABLE "${check.table}" DROP CONSTRAINT "${check.name}"`);
    else ddl.kept.push(`CHECK constraint ${check.name} on ${check.table}`);
  }
  for (const trigger of catalog.triggers.filter((candidate) => isLegacy(candidate.table))) {
    ddl.kept.push(`trigger ${trigger.name} on ${trigger.table}`);
  }

  const helpers: string[] = [];
  for (const table of target.tables.filter((candidate) => isLegacy(candidate.name))) {
    const actual = new Map(catalog.columns.filter((column) => column.table === table.name).map((column) => [column.column, column]));
    const actions: string[] = [];
    for (const column of table.columns) {
      const current = actual.get(column.name);
      if (!current) {
        actions.push(
          `ADD COLUMN "${column.name}" ${column.sqlType}${column.notNull ? ' NOT NULL' : ''}${column.default === null ? '' : ` DEFAULT ${column.default}`}`,
        );
        continue;
      }
      if (current.formatType !== column.formatType) actions.push(`ALTER COLUMN "${column.name}" TYPE ${column.sqlType}`);
      const wanted = printedDefault(column);
      if (wanted === null && current.default !== null) actions.push(`ALTER COLUMN "${column.name}" DROP DEFAULT`);
      if (wanted !== null && current.default !== wanted) actions.push(`ALTER COLUMN "${column.name}" SET DEFAULT ${column.default}`);
      if (!column.notNull && current.notNull) actions.push(`ALTER COLUMN "${column.name}" DROP NOT NULL`);
      if (column.notNull && !current.notNull) {
        const name = notNullCheckName(table.name, column.name);
        ddl.notNullChecks.push(`ALTER TABLE "${table.name}" ADD CONSTRAINT "${name}" CHECK ("${column.name}" IS NOT NULL) NOT VALID`);
        helpers.push(`ALTER TABLE "${table.name}" VALIDATE CONSTRAINT "${name}"`);
        ddl.finish.push(`ALTER TABLE "${table.name}" ALTER COLUMN "${column.name}" SET NOT NULL`, `ALTER TABLE "${table.name}" DROP CONSTRAINT "${name}"`);
      }
    }
    for (const column of actual.keys()) {
      if (!table.columns.some((wanted) => wanted.name === column)) ddl.kept.push(`column ${table.name}.${column}`);
    }
    if (actions.length > 0) ddl.columns.push(`ALTER TABLE "${table.name}"\n    ${actions.join(',\n    ')}`);
  }

  for (const statement of target.statements) {
    if (statement.kind === 'create_table' && isLegacy(statement.table)) continue;
    const deferred = statement.kind === 'foreign_key' || (statement.kind === 'check' && isLegacy(statement.table));
    ddl.create.push(deferred ? `${statement.sql} NOT VALID` : statement.sql);
    if (deferred) ddl.validate.push(`ALTER TABLE "${statement.table}" VALIDATE CONSTRAINT "${statement.name}"`);
  }
  // The migration's foreign keys and CHECKs first, in its order, then the NOT NULL helpers by name.
  ddl.validate.push(...helpers.sort());
  ddl.notNullChecks.sort();
  ddl.finish = sortedPairs(ddl.finish);
  return ddl;
}
