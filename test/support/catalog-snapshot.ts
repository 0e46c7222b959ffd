// Everything about a schema that two databases must share to be "the same" for flowgraph: tables, columns
// (type, nullability, default), constraints (definition, including CHECK and foreign-key actions, and
// whether validated), indexes, triggers, functions. Order-insensitive; column order is not compared
// (ADD COLUMN appends, and nothing in flowgraph depends on it).
import type { SqlSession } from '../../src/db/sql-session.ts';

export interface CatalogSnapshot {
  tables: string[];
  columns: string[];
  constraints: string[];
  indexes: string[];
  triggers: string[];
  functions: string[];
}

export async function catalogSnapshot(session: SqlSession, { ignoreColumns = [] as string[] } = {}): Promise<CatalogSnapshot> {
  const rows = async (sql: string) => (await session.query<{ line: string }>(sql)).map((row) => row.line).sort();
  const schema = `current_schema()::regnamespace`;
  const columns = await rows(
    `SELECT c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
            || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE ' NULL' END
            || coalesce(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
            || CASE WHEN a.attidentity <> '' THEN ' IDENTITY ' || a.attidentity::text ELSE '' END
            || CASE WHEN a.attgenerated <> '' THEN ' GENERATED' ELSE '' END AS line
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE c.relnamespace = ${schema} AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped`,
  );
  return {
    tables: await rows(`SELECT relname::text AS line FROM pg_class WHERE relnamespace = ${schema} AND relkind IN ('r', 'p', 'v', 'm', 'S')`),
    columns: columns.filter((line) => !ignoreColumns.some((column) => line.startsWith(`${column} `))),
    constraints: await rows(
      `SELECT c.relname || ' ' || con.conname || ' ' || con.contype::text || ' ' || pg_get_constraintdef(con.oid)
              || CASE WHEN con.convalidated THEN '' ELSE ' NOT VALID' END
              || CASE WHEN con.condeferrable THEN ' DEFERRABLE' ELSE '' END AS line
         FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
        WHERE c.relnamespace = ${schema}`,
    ),
    indexes: await rows(
      `SELECT pg_get_indexdef(x.indexrelid) || CASE WHEN x.indisvalid THEN '' ELSE ' INVALID' END AS line
         FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid WHERE c.relnamespace = ${schema}`,
    ),
    triggers: await rows(
      `SELECT pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text AS line
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE NOT t.tgisinternal AND c.relnamespace = ${schema}`,
    ),
    // Functions an extension owns (pgcrypto's, in a legacy database) belong to the extension, not the schema.
    functions: await rows(
      `SELECT pg_get_functiondef(p.oid) AS line FROM pg_proc p
        WHERE p.pronamespace = ${schema}
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')`,
    ),
  };
}
