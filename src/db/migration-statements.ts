// Reads a migration.sql into statements and the column lists of its CREATE TABLEs. The repair of a legacy
// database (src/services/legacy-repair.ts) derives its target from flowgraph's first migration with this,
// instead of keeping a second copy of that schema that could drift from it.
//
// Hand-written rather than a SQL parser dependency: the migrations are Prisma's regular output plus
// hand-written DDL, so statement boundaries only need quotes, dollar quotes and comments understood, and
// the column lines follow one fixed pattern. Anything outside that pattern is an error, never a guess.

/** Splits a script into statements (without the trailing `;`), skipping comments and blank text. */
export function splitStatements(script: string): string[] {
  const statements: string[] = [];
  let current = '';
  let index = 0;
  while (index < script.length) {
    const char = script[index]!;
    const rest = script.slice(index);
    if (rest.startsWith('--')) {
      const end = script.indexOf('\n', index);
      index = end === -1 ? script.length : end + 1;
      current += '\n';
      continue;
    }
    if (rest.startsWith('/*')) {
      const end = script.indexOf('*/', index + 2);
      if (end === -1) throw new Error('unterminated /* comment in migration');
      index = end + 2;
      current += ' ';
      continue;
    }
    if (char === "'" || char === '"') {
      let end = index + 1;
      for (;;) {
        end = script.indexOf(char, end);
        if (end === -1) throw new Error(`unterminated ${char} quote in migration`);
        if (script[end + 1] === char) end += 2; // doubled quote inside the literal
        else break;
      }
      current += script.slice(index, end + 1);
      index = end + 1;
      continue;
    }
    const dollar = /^\$[A-Za-z_]*\$/.exec(rest);
    if (dollar) {
      const end = script.indexOf(dollar[0], index + dollar[0].length);
      if (end === -1) throw new Error(`unterminated ${dollar[0]} quote in migration`);
      current += script.slice(index, end + dollar[0].length);
      index = end + dollar[0].length;
      continue;
    }
    if (char === ';') {
      if (current.trim() !== '') statements.push(current.trim());
      current = '';
      index += 1;
      continue;
    }
    current += char;
    index += 1;
  }
  if (current.trim() !== '') statements.push(current.trim());
  return statements;
}

export interface ColumnDefinition {
  name: string;
  /** The type as the migration writes it, e.g. `VARCHAR(255)`. */
  sqlType: string;
  /** The same type as PostgreSQL's format_type() prints it, e.g. `character varying(255)`. */
  formatType: string;
  notNull: boolean;
  /** The default expression as the migration writes it, or null. */
  default: string | null;
}

export interface TableDefinition {
  name: string;
  columns: ColumnDefinition[];
  primaryKey: { name: string; columns: string[] };
}

const FORMAT_TYPES: Record<string, string> = {
  UUID: 'uuid',
  TEXT: 'text',
  JSONB: 'jsonb',
  INTEGER: 'integer',
  BIGINT: 'bigint',
  BOOLEAN: 'boolean',
  'DOUBLE PRECISION': 'double precision',
};

export function formatType(sqlType: string): string {
  const varchar = /^VARCHAR\((\d+)\)$/.exec(sqlType);
  if (varchar) return `character varying(${varchar[1]})`;
  const timestamptz = /^TIMESTAMPTZ\((\d)\)$/.exec(sqlType);
  if (timestamptz) return `timestamp(${timestamptz[1]}) with time zone`;
  const known = FORMAT_TYPES[sqlType];
  if (!known) throw new Error(`column type ${sqlType} is not one the repair knows how to compare`);
  return known;
}

const CREATE_TABLE = /^CREATE TABLE "(\w+)" \(([\s\S]*)\)$/;
const COLUMN = /^"(\w+)" ([A-Z]+(?: PRECISION)?(?:\(\d+\))?)( NOT NULL)?(?: DEFAULT (.+))?$/;
const PRIMARY_KEY = /^CONSTRAINT "(\w+)" PRIMARY KEY \(([^)]+)\)$/;

/** The table a CREATE TABLE statement defines, or null when the statement is something else. */
export function parseCreateTable(statement: string): TableDefinition | null {
  const match = CREATE_TABLE.exec(statement);
  if (!match) return null;
  const table: TableDefinition = { name: match[1]!, columns: [], primaryKey: { name: '', columns: [] } };
  for (const raw of match[2]!.split('\n')) {
    const line = raw.trim().replace(/,$/, '');
    if (line === '') continue;
    const column = COLUMN.exec(line);
    if (column) {
      table.columns.push({
        name: column[1]!,
        sqlType: column[2]!,
        formatType: formatType(column[2]!),
        notNull: Boolean(column[3]),
        default: column[4] ?? null,
      });
      continue;
    }
    const primaryKey = PRIMARY_KEY.exec(line);
    if (primaryKey) {
      table.primaryKey = { name: primaryKey[1]!, columns: primaryKey[2]!.split(',').map((name) => name.trim().replace(/"/g, '')) };
      continue;
    }
    throw new Error(`unexpected line in CREATE TABLE "${table.name}": ${line}`);
  }
  return table;
}
