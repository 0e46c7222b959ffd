// /ready: the database answers and every migration is applied. The check has its own deadline, so
// an unreachable database turns /ready false within seconds instead of hanging the probe; a check
// that timed out drops the raw connection, so the next probe starts from a fresh one and readiness
// comes back by itself when the database does.
import { useReadinessCheck, type Plugin } from 'graphql-yoga';
import type { Database } from '../db/database.ts';
import { migrationStatus } from '../db/migrator.ts';

export const READY_PATH = '/ready';

export function useDatabaseReadiness(database: Database, timeoutMs: number): Plugin {
  return useReadinessCheck({
    endpoint: READY_PATH,
    check: async () => {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      try {
        const outcome = await Promise.race([migrationStatus(database.sql), timedOut]);
        if (outcome === 'timeout') {
          database.sql.reset();
          return false;
        }
        return outcome.pending.length === 0;
      } catch {
        return false;
      } finally {
        clearTimeout(timer);
      }
    },
  });
}
