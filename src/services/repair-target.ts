// The shape a repaired legacy database must have: exactly what flowgraph's first migration creates. Read
// from that migration's own SQL, statement by statement, so the repair and the migration cannot drift
// apart; later migrations are then applied to the repaired database by the ordinary migrator.
import { parseCreateTable, splitStatements, type TableDefinition } from '../db/migration-statements.ts';
import { readMigrations, type Migration } from '../db/migrator.ts';

export type TargetStatementKind = 'create_table' | 'create_index' | 'foreign_key' | 'check' | 'function' | 'trigger' | 'insert';

export interface TargetStatement {
  kind: TargetStatementKind;
  /** The table it creates or changes (for functions: none). */
  table: string | null;
  /** The object it creates. */
  name: string;
  sql: string;
}

export interface RepairTarget {
  migration: Migration;
  tables: TableDefinition[];
  statements: TargetStatement[];
  functions: string[];
}

const PATTERNS: { kind: TargetStatementKind; pattern: RegExp; table?: number; name: number }[] = [
  { kind: 'create_table', pattern: /^CREATE TABLE "(\w+)"/, table: 1, name: 1 },
  { kind: 'create_index', pattern: /^CREATE (?:UNIQUE )?INDEX "(\w+)" ON "(\w+)"/, table: 2, name: 1 },
  { kind: 'foreign_key', pattern: /^ALTER TABLE "(\w+)" ADD CONSTRAINT "(\w+)" FOREIGN KEY/, table: 1, name: 2 },
  { kind: 'check', pattern: /^ALTER TABLE "(\w+)" ADD CONSTRAINT "(\w+)"\s+CHECK\b/, table: 1, name: 2 },
  { kind: 'function', pattern: /^CREATE FUNCTION "(\w+)"\(/, name: 1 },
  { kind: 'trigger', pattern: /^CREATE TRIGGER "(\w+)"[\s\S]*? ON "(\w+)"/, table: 2, name: 1 },
  { kind: 'insert', pattern: /^INSERT INTO "(\w+)"/, table: 1, name: 1 },
];

export function classify(sql: string): TargetStatement {
  for (const { kind, pattern, table, name } of PATTERNS) {
    const match = pattern.exec(sql);
    if (match) return { kind, table: table ? match[table]! : null, name: match[name]!, sql };
  }
  throw new Error(`the repair does not know how to reproduce this statement of the first migration: ${sql.slice(0, 120)}`);
}

export function repairTargetFrom(migration: Migration): RepairTarget {
  const statements = splitStatements(migration.sql).map(classify);
  const tables = statements.filter((statement) => statement.kind === 'create_table').map((statement) => parseCreateTable(statement.sql)!);
  return {
    migration,
    tables,
    statements,
    functions: statements.filter((statement) => statement.kind === 'function').map((statement) => statement.name),
  };
}

/** The first migration of prisma/migrations, which a repaired legacy database is brought to. */
export async function loadRepairTarget(migrations?: Migration[]): Promise<RepairTarget> {
  const [first] = migrations ?? (await readMigrations());
  if (!first) throw new Error('prisma/migrations holds no migration');
  return repairTargetFrom(first);
}
