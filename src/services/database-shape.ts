// Which kind of database this is: flowgraph's own (migrations recorded), the legacy platform's (the shape
// of test/fixtures/legacy-schema.sql), one the repair is half-way through, or something neither tool should touch.
import { REPAIR_MARKER, type Migration } from '../db/migrator.ts';
import type { SqlSession } from '../db/sql-session.ts';
import { legacyShapeProblems } from '../domain/legacy-shape.ts';
import { readCatalog, readHistory, type Catalog, type HistoryRow } from './database-catalog.ts';
import { loadRepairTarget, type RepairTarget } from './repair-target.ts';

export type DatabaseShape =
  | { kind: 'flowgraph'; applied: string[]; pending: string[] }
  | { kind: 'legacy' }
  | { kind: 'repair_in_progress' }
  | { kind: 'unrecognised'; reasons: string[] };

export interface Inspection {
  shape: DatabaseShape;
  catalog: Catalog;
  history: HistoryRow[];
  target: RepairTarget;
}

export function shapeOf(catalog: Catalog, history: HistoryRow[], target: RepairTarget, migrations: Migration[]): DatabaseShape {
  const finished = history.filter((row) => row.finished && !row.rolledBack);
  const unfinished = history.filter((row) => !row.finished && !row.rolledBack);
  const baseline = target.migration.name;

  if (unfinished.length > 0) {
    const [row] = unfinished;
    if (unfinished.length === 1 && row!.migrationName === baseline && row!.logs?.startsWith(REPAIR_MARKER) && finished.length === 0) {
      return { kind: 'repair_in_progress' };
    }
    return {
      kind: 'unrecognised',
      reasons: [`migration ${row!.migrationName} is marked as started but never finished in _prisma_migrations`],
    };
  }
  if (finished.length > 0) {
    const names = new Set(finished.map((row) => row.migrationName));
    if (!names.has(baseline)) {
      return { kind: 'unrecognised', reasons: [`_prisma_migrations records migrations, but not flowgraph's first one (${baseline})`] };
    }
    const missing = target.tables.map((table) => table.name).filter((table) => !catalog.tables.includes(table));
    if (missing.length > 0) {
      return { kind: 'unrecognised', reasons: [`flowgraph's migrations are recorded, but tables are missing: ${missing.join(', ')}`] };
    }
    return {
      kind: 'flowgraph',
      applied: migrations.filter((migration) => names.has(migration.name)).map((migration) => migration.name),
      pending: migrations.filter((migration) => !names.has(migration.name)).map((migration) => migration.name),
    };
  }
  const reasons = legacyShapeProblems(catalog, target.tables, target.functions, catalog.functions);
  return reasons.length === 0 ? { kind: 'legacy' } : { kind: 'unrecognised', reasons };
}

export async function inspect(session: Pick<SqlSession, 'query'>, migrations: Migration[]): Promise<Inspection> {
  const target = await loadRepairTarget(migrations);
  const [catalog, history] = [await readCatalog(session), await readHistory(session)];
  return { shape: shapeOf(catalog, history, target, migrations), catalog, history, target };
}
