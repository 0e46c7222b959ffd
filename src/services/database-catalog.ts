// Reads what the integrity report and the repair need to know about a database's structure from
// PostgreSQL's catalog (current schema only). Every value is cast to text, boolean or bigint in SQL, so
// the same queries read the same way through pg, PGlite and Prisma's raw queries.
import type { CatalogFacts, DeleteAction } from '../domain/integrity-rules.ts';
import type { SqlSession } from '../db/sql-session.ts';

export interface ColumnFacts {
  table: string;
  column: string;
  notNull: boolean;
  formatType: string;
  /** pg_get_expr of the default, or null. */
  default: string | null;
}

export interface Catalog extends CatalogFacts {
  columns: ColumnFacts[];
  functions: string[];
}

export interface HistoryRow {
  migrationName: string;
  checksum: string;
  finished: boolean;
  rolledBack: boolean;
  logs: string | null;
}

/** Numbers arrive as number, string (pg's bigint) or bigint (Prisma); counts fit a double. */
export function toNumber(value: unknown): number {
  return typeof value === 'number' ? value : Number(value ?? 0);
}

const list = (value: unknown) => (typeof value === 'string' && value !== '' ? value.split(',') : []);

const DELETE_ACTIONS: Record<string, DeleteAction> = { a: 'no_action', r: 'restrict', c: 'cascade', n: 'set_null', d: 'set_default' };

export async function readCatalog(session: Pick<SqlSession, 'query'>): Promise<Catalog> {
  const inSchema = 'relnamespace = current_schema()::regnamespace';
  const [tables, columns, foreignKeys, indexes, checks, triggers, functions] = [
    await session.query<{ name: string }>(`SELECT relname::text AS name FROM pg_class WHERE ${inSchema} AND relkind IN ('r', 'p') ORDER BY 1`),
    await session.query<{ table: string; column: string; not_null: boolean; format_type: string; default: string | null }>(
      `SELECT c.relname::text AS table, a.attname::text AS column, a.attnotnull AS not_null,
              format_type(a.atttypid, a.atttypmod) AS format_type, pg_get_expr(d.adbin, d.adrelid) AS default
         FROM pg_attribute a
         JOIN pg_class c ON c.oid = a.attrelid
         LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE c.${inSchema} AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY 1, a.attnum`,
    ),
    await session.query<{ name: string; table: string; columns: string; ref_table: string; ref_columns: string; on_delete: string; validated: boolean }>(
      `SELECT con.conname::text AS name, c.relname::text AS table, rc.relname::text AS ref_table,
              (SELECT string_agg(a.attname::text, ',' ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum) AS columns,
              (SELECT string_agg(a.attname::text, ',' ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum) AS ref_columns,
              con.confdeltype::text AS on_delete, con.convalidated AS validated
         FROM pg_constraint con
         JOIN pg_class c ON c.oid = con.conrelid
         JOIN pg_class rc ON rc.oid = con.confrelid
        WHERE con.contype = 'f' AND c.${inSchema}
        ORDER BY 1`,
    ),
    await session.query<{ name: string; table: string; columns: string | null; valid: boolean; unique: boolean; constraint: string | null }>(
      `SELECT i.relname::text AS name, c.relname::text AS table,
              (SELECT string_agg(a.attname::text, ',' ORDER BY k.ord) FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum WHERE k.ord <= x.indnkeyatts) AS columns,
              x.indisvalid AS valid, x.indisunique AS unique, con.conname::text AS constraint
         FROM pg_index x
         JOIN pg_class i ON i.oid = x.indexrelid
         JOIN pg_class c ON c.oid = x.indrelid
         LEFT JOIN pg_constraint con ON con.conindid = x.indexrelid AND con.conrelid = x.indrelid AND con.contype IN ('p', 'u', 'x')
        WHERE c.${inSchema}
        ORDER BY 1`,
    ),
    await session.query<{ name: string; table: string; validated: boolean }>(
      `SELECT con.conname::text AS name, c.relname::text AS table, con.convalidated AS validated
         FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
        WHERE con.contype = 'c' AND c.${inSchema}
        ORDER BY 1`,
    ),
    await session.query<{ name: string; table: string; enabled: boolean }>(
      `SELECT t.tgname::text AS name, c.relname::text AS table, t.tgenabled::text <> 'D' AS enabled
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE NOT t.tgisinternal AND c.${inSchema}
        ORDER BY 1`,
    ),
    await session.query<{ name: string }>(
      `SELECT proname::text AS name FROM pg_proc WHERE pronamespace = current_schema()::regnamespace ORDER BY 1`,
    ),
  ];
  return {
    tables: tables.map((row) => row.name),
    columns: columns.map((row) => ({ table: row.table, column: row.column, notNull: row.not_null, formatType: row.format_type, default: row.default })),
    foreignKeys: foreignKeys.map((row) => ({
      name: row.name,
      table: row.table,
      columns: list(row.columns),
      refTable: row.ref_table,
      refColumns: list(row.ref_columns),
      onDelete: DELETE_ACTIONS[row.on_delete] ?? 'no_action',
      validated: row.validated,
    })),
    indexes: indexes.map((row) => ({ name: row.name, table: row.table, columns: list(row.columns), valid: row.valid, unique: row.unique, constraint: row.constraint })),
    checks: checks.map((row) => ({ name: row.name, table: row.table, validated: row.validated })),
    triggers: triggers.map((row) => ({ name: row.name, table: row.table, enabled: row.enabled })),
    functions: functions.map((row) => row.name),
  };
}

/** The rows of `_prisma_migrations`, or [] when the table does not exist. */
export async function readHistory(session: Pick<SqlSession, 'query'>): Promise<HistoryRow[]> {
  const [exists] = await session.query<{ present: boolean }>(`SELECT to_regclass('"_prisma_migrations"') IS NOT NULL AS present`);
  if (!exists?.present) return [];
  const rows = await session.query<{ migration_name: string; checksum: string; finished: boolean; rolled_back: boolean; logs: string | null }>(
    `SELECT migration_name, checksum, finished_at IS NOT NULL AS finished, rolled_back_at IS NOT NULL AS rolled_back, logs
       FROM "_prisma_migrations" ORDER BY started_at`,
  );
  return rows.map((row) => ({ migrationName: row.migration_name, checksum: row.checksum, finished: row.finished, rolledBack: row.rolled_back, logs: row.logs }));
}
