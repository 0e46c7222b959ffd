// The body of /ready. Its status code keeps its meaning (200: database reachable and every migration
// applied; 503 otherwise); the body adds a summary of the integrity report, from the catalog only (no
// table scans on a probe that runs every few seconds). Integrity problems do not make an instance
// unready: they are reported, and `npm run doctor` shows them in full.
import { migrationStatus } from '../db/migrator.ts';
import type { SqlSession } from '../db/sql-session.ts';
import { integrityReport, type IntegrityReport } from './integrity-report.ts';

export interface Readiness {
  ready: boolean;
  migrations?: { applied: number; pending: string[] };
  integrity?:
    | { shape: IntegrityReport['shape']; clean: boolean; checked: 'structure'; problems: number; kinds: string[]; checkedAt: string }
    | { error: string };
  error?: string;
}

export async function readiness(session: SqlSession): Promise<Readiness> {
  let status;
  try {
    status = await migrationStatus(session);
  } catch (error) {
    return { ready: false, error: error instanceof Error ? error.message : 'database unreachable' };
  }
  const body: Readiness = { ready: status.pending.length === 0, migrations: { applied: status.applied.length, pending: status.pending } };
  if (!body.ready) return body;
  try {
    const report = await integrityReport(session, { data: false });
    body.integrity = {
      shape: report.shape,
      clean: report.clean,
      checked: 'structure',
      problems: report.problems.length,
      kinds: [...new Set(report.problems.map((problem) => problem.kind))],
      checkedAt: report.checkedAt.toISOString(),
    };
  } catch (error) {
    body.integrity = { error: error instanceof Error ? error.message : 'integrity check failed' };
  }
  return body;
}
