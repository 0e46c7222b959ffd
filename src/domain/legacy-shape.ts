// The legacy shape the repair recognises (test/fixtures/legacy-schema.sql), and the checks that tell it apart from
// anything else. The repair changes nothing in a database that fails them.
import type { TableDefinition } from '../db/migration-statements.ts';
import { CHILD_TABLES, MASTER_TABLE, REQUIRED_COLUMNS, type CatalogFacts } from './integrity-rules.ts';

/** The tables of the old platform and the columns each has in test/fixtures/legacy-schema.sql. */
export const LEGACY_COLUMNS: Record<string, readonly string[]> = {
  [MASTER_TABLE]: [
    'id', 'flow_id', 'client_account_id', 'engagement_id', 'user_id', 'flow_type', 'flow_name', 'flow_status',
    'flow_configuration', 'flow_persistence_data', 'phase_transitions', 'error_history', 'retry_count',
    'parent_flow_id', 'created_at', 'updated_at',
  ],
  data_imports: [
    'id', 'client_account_id', 'engagement_id', 'master_flow_id', 'import_name', 'import_type', 'import_category',
    'filename', 'file_size', 'mime_type', 'source_system', 'status', 'progress_percentage', 'total_records',
    'processed_records', 'failed_records', 'processing_config', 'imported_by', 'error_message', 'started_at',
    'completed_at', 'created_at', 'updated_at',
  ],
  raw_import_records: [
    'id', 'data_import_id', 'client_account_id', 'engagement_id', 'master_flow_id', 'row_number', 'raw_data',
    'cleansed_data', 'validation_errors', 'processing_notes', 'is_processed', 'is_valid', 'created_at', 'processed_at',
  ],
  discovery_flows: [
    'id', 'flow_id', 'master_flow_id', 'client_account_id', 'engagement_id', 'user_id', 'data_import_id', 'flow_name',
    'status', 'current_phase', 'progress_percentage', 'data_import_completed', 'data_validation_completed',
    'field_mapping_completed', 'data_cleansing_completed', 'asset_inventory_completed', 'phase_state', 'error_message',
    'created_at', 'updated_at', 'completed_at',
  ],
};

export const LEGACY_TABLES = [MASTER_TABLE, ...CHILD_TABLES] as const;

/**
 * A legacy column is compatible with flowgraph's when PostgreSQL prints the same type, or when only the
 * timestamp precision differs (legacy `timestamptz` is the same storage as flowgraph's `timestamptz(6)`,
 * and changing it rewrites nothing).
 */
export function typeCompatible(actual: string, target: string): boolean {
  return actual === target || (actual === 'timestamp with time zone' && target === 'timestamp(6) with time zone');
}

/** The repair fills these (master flow and tenant of every child), so they may be nullable and hold NULLs. */
export function repairFills(table: string, column: string): boolean {
  return REQUIRED_COLUMNS.some((required) => required.table === table && required.column === column);
}

/**
 * Why a database is not in the legacy shape, or an empty list when it is. `target` is the first
 * migration's tables; `flowgraphOnly` are the functions flowgraph's migrations create.
 */
export function legacyShapeProblems(catalog: CatalogFacts, target: TableDefinition[], flowgraphFunctions: string[], functions: string[]): string[] {
  const reasons: string[] = [];
  const present = new Set(catalog.tables);
  const missing = LEGACY_TABLES.filter((table) => !present.has(table));
  if (missing.length === LEGACY_TABLES.length) return ['none of the legacy tables exists (an empty database? `npm start` creates flowgraph\'s schema)'];
  if (missing.length > 0) reasons.push(`legacy tables missing: ${missing.join(', ')}`);

  for (const table of target) {
    const legacy = LEGACY_COLUMNS[table.name];
    if (!legacy) {
      if (present.has(table.name)) reasons.push(`table ${table.name} already exists (flowgraph creates it)`);
      continue;
    }
    if (!present.has(table.name)) continue;
    const columns = new Map(catalog.columns.filter((column) => column.table === table.name).map((column) => [column.column, column]));
    for (const wanted of table.columns) {
      const actual = columns.get(wanted.name);
      if (!legacy.includes(wanted.name)) {
        if (actual) reasons.push(`${table.name}.${wanted.name} already exists (flowgraph adds it): the database looks partly migrated`);
        continue;
      }
      if (!actual) {
        reasons.push(`${table.name}.${wanted.name} is missing`);
        continue;
      }
      if (!typeCompatible(actual.formatType, wanted.formatType)) {
        reasons.push(`${table.name}.${wanted.name} is ${actual.formatType}, expected ${wanted.formatType}`);
      }
      if (wanted.notNull && !actual.notNull && !repairFills(table.name, wanted.name)) {
        reasons.push(`${table.name}.${wanted.name} is nullable; the legacy shape has it NOT NULL`);
      }
    }
    const primaryKey = catalog.indexes.find((index) => index.table === table.name && index.constraint === table.primaryKey.name);
    if (!primaryKey || primaryKey.columns.join() !== table.primaryKey.columns.join()) {
      reasons.push(`${table.name} has no primary key ${table.primaryKey.name} on (${table.primaryKey.columns.join(', ')})`);
    }
  }

  // The repair replaces the legacy UNIQUE constraints on flow_id with unique indexes; a foreign key from
  // a table it does not know would depend on them.
  for (const key of catalog.foreignKeys) {
    if ((LEGACY_TABLES as readonly string[]).includes(key.refTable) && !(LEGACY_TABLES as readonly string[]).includes(key.table) && key.refColumns.join() !== 'id') {
      reasons.push(`foreign key ${key.name} of table ${key.table} references ${key.refTable}(${key.refColumns.join(', ')}), which the repair rebuilds`);
    }
  }
  const clash = flowgraphFunctions.filter((name) => functions.includes(name));
  if (clash.length > 0) reasons.push(`functions flowgraph creates already exist: ${clash.join(', ')}`);
  return reasons;
}
