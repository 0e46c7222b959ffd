// A server process as `npm start` runs it in production (bearer tokens; a 256 MiB V8 old space, as
// FLOWGRAPH_HEAP_MB gives it), on PGlite in a fresh data directory or on this worker's PostgreSQL database,
// with a watch that asks it a health query every 200 ms and records every answer that failed or took too
// long: the tests of issue 16 require that no client can take such a server down for the others. Too long is
// a second on PostgreSQL; on PGlite, whose statements run on the server's own thread (WebAssembly), a large
// read or import holds every request for as long as it runs, so there it is 5 s.
export const HEALTH_BOUND_MS = onPostgres ? 1_000 : 5_000;
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Viewer } from '../../src/context.ts';
import { authHeaders } from './auth.ts';
import { newTenant } from './factories.ts';
import { workerDatabaseUrl } from './postgres-databases.ts';
import { startServer, type ServerProcess } from './server-process.ts';
import { onPostgres } from './test-database.ts';

export const HEAP_MB = 256;

/** heap_size_limit of a process with HEAP_MB of old space (what the server derives its defaults from), in MiB. */
export function serverHeapLimitMiB(): number {
  const probe = spawnSync(process.execPath, [`--max-old-space-size=${HEAP_MB}`, '-p', 'require("v8").getHeapStatistics().heap_size_limit']);
  return Math.floor(Number(probe.stdout.toString()) / 1024 / 1024);
}

export interface BudgetServer extends ServerProcess {
  /** Health answers that failed or took 1 s or more since the last `problems()` call. */
  problems(): string[];
  /** The slowest health answer so far, in ms. */
  slowest(): number;
  dispose(): Promise<void>;
}

/** The bearer token /metrics of a budget server wants. */
export const BUDGET_METRICS_TOKEN = 'budget-tests-metrics-token';

export async function startBudgetServer(env: Record<string, string> = {}): Promise<BudgetServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flowgraph-budget-'));
  const database = onPostgres
    ? { DATABASE_URL: workerDatabaseUrl(process.env.TEST_DATABASE_URL!, process.env.VITEST_POOL_ID ?? '1') }
    : { DATABASE_URL: '', FLOWGRAPH_DATA_DIR: dataDir };
  const server = await startServer({
    NODE_OPTIONS: `--max-old-space-size=${HEAP_MB}`,
    NODE_ENV: 'production',
    // Production refuses unprotected metrics (issue 15); the tests read them with this token.
    FLOWGRAPH_METRICS_TOKEN: BUDGET_METRICS_TOKEN,
    FLOWGRAPH_LOG_LEVEL: 'warn',
    ...database,
    ...env,
  });
  const watcher: Viewer = newTenant('health-watch');
  let found: string[] = [];
  let slowest = 0;
  let stopped = false;
  const watch = (async () => {
    while (!stopped) {
      const started = Date.now();
      try {
        const [health, query] = await Promise.all([
          fetch(`${server.url}/health`, { signal: AbortSignal.timeout(5_000) }),
          // A GET: no body, so it takes none of the caps on bodies the tests drive to their edge.
          fetch(`${server.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, {
            headers: { accept: 'application/json', ...authHeaders(watcher) },
            signal: AbortSignal.timeout(5_000),
          }),
        ]);
        const answer = (await query.json()) as { data?: { __typename?: string } };
        const took = Date.now() - started;
        slowest = Math.max(slowest, took);
        if (health.status !== 200 || answer.data?.__typename !== 'Query') found.push(`health ${health.status}, query ${JSON.stringify(answer)}`);
        else if (took >= HEALTH_BOUND_MS) found.push(`health answered in ${took} ms`);
      } catch (error) {
        found.push(`health failed after ${Date.now() - started} ms: ${(error as Error).message}`);
        if (server.child.exitCode !== null || server.child.signalCode !== null) return;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  return {
    ...server,
    problems() {
      const alive = server.child.exitCode === null && server.child.signalCode === null;
      const result = alive ? found : [...found, `the server exited:\n${server.output().slice(-3_000)}`];
      found = [];
      return result;
    },
    slowest: () => slowest,
    async dispose() {
      stopped = true;
      await watch;
      await server.stop('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A POST of a GraphQL request, as JSON, on a connection of its own (closed afterwards). The answer counts even
 * when the server refuses the body before it has all been sent (it answers, then closes).
 */
export function postGraphQL(
  url: string,
  viewer: Viewer | null,
  body: unknown,
): Promise<{ status: number; headers: Headers; json: { data?: Record<string, unknown> | null; errors?: { message: string; extensions?: Record<string, unknown> }[] } }> {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const request = http.request(`${url}/graphql`, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...(viewer ? authHeaders(viewer) : {}) },
    });
    let answered = false;
    request.on('response', (response) => {
      answered = true;
      let received = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (received += chunk));
      response.on('end', () => {
        const headers = new Headers();
        for (const [name, value] of Object.entries(response.headers)) if (typeof value === 'string') headers.set(name, value);
        try {
          resolve({ status: response.statusCode!, headers, json: received ? JSON.parse(received) : {} });
        } catch (error) {
          reject(new Error(`not JSON (${response.statusCode}): ${received.slice(0, 200)}`, { cause: error }));
        }
      });
    });
    request.on('error', (error) => {
      if (!answered) reject(error);
    });
    request.end(text);
  });
}
