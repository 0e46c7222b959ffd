// /ready: 200 when the database answers and every migration is applied, 503 otherwise; the JSON body adds
// a summary of the integrity report (src/services/readiness.ts). The check has its own deadline, so an
// unreachable database turns /ready false within seconds instead of hanging the probe; a check that
// timed out drops the raw connection, so the next probe starts from a fresh one and readiness comes
// back by itself when the database does. On PostgreSQL it also takes a connection from the pool requests
// use: a pool held entirely (by stalled imports, say) answers every request 503, so /ready does too.
import { useReadinessCheck, type Plugin } from 'graphql-yoga';
import type { Database } from '../db/database.ts';
import { readiness, type Readiness } from '../services/readiness.ts';

export const READY_PATH = '/ready';

export function useDatabaseReadiness(database: Database, timeoutMs: number): Plugin {
  return useReadinessCheck({
    endpoint: READY_PATH,
    check: async ({ fetchAPI }) => {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      let body: Readiness;
      try {
        const pooled = database.probePool?.(timeoutMs) ?? Promise.resolve(true);
        const outcome = await Promise.race([readiness(database.sql), timedOut]);
        if (outcome === 'timeout') {
          database.sql.reset();
          body = { ready: false, error: `the database did not answer within ${timeoutMs} ms` };
        } else if (outcome.ready && !(await pooled)) {
          body = { ...outcome, ready: false, error: `no pooled database connection was free within ${timeoutMs} ms` };
        } else body = outcome;
      } catch {
        body = { ready: false, error: 'the database is unreachable' };
      } finally {
        clearTimeout(timer);
      }
      return new fetchAPI.Response(JSON.stringify(body), {
        status: body.ready ? 200 : 503,
        headers: { 'content-type': 'application/json' },
      });
    },
  });
}
