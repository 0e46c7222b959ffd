// Lifecycle mutations per second (pauseMasterFlow / resumeMasterFlow over HTTP, each with the version the last
// answer gave) against a flowgraph server process on PostgreSQL, and, with BENCH_BASELINE_DIR, against the server
// of another checkout (for example the commit before a change) in the same run: rounds alternate between them,
// each on a scratch database of its own, with the same load.
//
//   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres BENCH_BASELINE_DIR=/tmp/flowgraph-before \
//     npx tsx bench/lifecycle-mutations.ts
//
// - BENCH_SECONDS (10): length of one round; BENCH_ROUNDS (3) rounds per server; BENCH_CONCURRENCY (8) requests
//   in flight, each worker on flows of its own (BENCH_FLOWS, 64, spread over them);
// - BENCH_BASELINE_DIR: a checkout with its dependencies installed (npm ci), started the same way.
// Every answer must be the flow at its next version, and the log must hold one status_changed event per
// mutation answered: the benchmark fails otherwise.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { dropScratchDatabase, median, scratchDatabase, VIEWER } from './support.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const base = process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL;
if (!base) throw new Error('Set BENCH_DATABASE_URL to a PostgreSQL server (see the comment at the top).');
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8);
const flowCount = Math.max(concurrency, Number(process.env.BENCH_FLOWS ?? 64));
const baselineDir = process.env.BENCH_BASELINE_DIR ? path.resolve(process.env.BENCH_BASELINE_DIR) : undefined;

const HEADERS = {
  'content-type': 'application/json',
  'x-client-account-id': VIEWER.clientAccountId,
  'x-engagement-id': VIEWER.engagementId,
  'x-user-id': VIEWER.userId,
  'x-roles': 'operator',
};

interface Target {
  name: string;
  dir: string;
  database: string;
  url: string;
  child: ChildProcess;
  flows: { flowId: string; version: number; paused: boolean }[];
  rates: number[];
}

async function startTarget(name: string, dir: string): Promise<Target> {
  const database = `flowgraph_bench_lifecycle_${name}_${process.pid}`;
  // An empty database: each server applies its own checkout's migrations at start.
  const databaseUrl = await scratchDatabase(base!, database, { migrate: false });
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: dir,
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: '0', HOST: '127.0.0.1', FLOWGRAPH_AUTH: 'dev', FLOWGRAPH_SEED: '0', FLOWGRAPH_LOG_LEVEL: 'warn', NODE_ENV: 'development' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const poll = setInterval(() => {
      const match = /flowgraph: ready \(http:\/\/localhost:(\d+)\/ready\)/.exec(output);
      if (match) {
        clearInterval(poll);
        resolve(Number(match[1]));
      }
    }, 50);
    child.once('exit', () => {
      clearInterval(poll);
      reject(new Error(`the ${name} server exited:\n${output}`));
    });
  });
  const url = `http://127.0.0.1:${port}/graphql`;
  const flows: Target['flows'] = [];
  for (let index = 0; index < flowCount; index += 1) {
    const body = await post(url, 'mutation ($input: StoreImportInput!) { storeImport(input: $input) { __typename ... on MasterFlow { flowId version } } }', {
      input: { filename: `flow-${index}.json`, importType: 'servers', rows: [{ hostname: `host-${index}` }] },
    });
    const flow = body.storeImport as { __typename: string; flowId: string; version: number };
    if (flow.__typename !== 'MasterFlow') throw new Error(`storeImport gave ${JSON.stringify(flow)}`);
    flows.push({ flowId: flow.flowId, version: flow.version, paused: false });
  }
  return { name, dir, database, url, child, flows, rates: [] };
}

async function post(url: string, query: string, variables: Record<string, unknown>): Promise<Record<string, unknown>> {
  const response = await fetch(url, { method: 'POST', headers: HEADERS, body: JSON.stringify({ query, variables }) });
  const body = (await response.json()) as { data?: Record<string, unknown>; errors?: unknown };
  if (!body.data || body.errors) throw new Error(`request failed: ${JSON.stringify(body)}`);
  return body.data;
}

/** One round of load on `target`; returns mutations per second. */
async function round(target: Target, length = seconds): Promise<number> {
  const deadline = performance.now() + length * 1000;
  let done = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_unused, worker) => {
      const mine = target.flows.filter((_flow, index) => index % concurrency === worker);
      for (let turn = 0; performance.now() < deadline; turn += 1) {
        const flow = mine[turn % mine.length]!;
        const verb = flow.paused ? 'resumeMasterFlow' : 'pauseMasterFlow';
        const data = await post(
          target.url,
          `mutation ($flowId: UUID!, $version: Int!) { result: ${verb}(flowId: $flowId, version: $version) { __typename ... on MasterFlow { version } } }`,
          { flowId: flow.flowId, version: flow.version },
        );
        const result = data.result as { __typename: string; version: number };
        if (result.__typename !== 'MasterFlow' || result.version !== flow.version + 1) throw new Error(`${verb} gave ${JSON.stringify(result)}`);
        flow.version = result.version;
        flow.paused = !flow.paused;
        done += 1;
      }
    }),
  );
  return done / ((performance.now() - started) / 1000);
}

const targets = [await startTarget('current', ROOT)];
if (baselineDir) targets.push(await startTarget('baseline', baselineDir));
try {
  // Warm-up, not counted: the first seconds of a server measure its JIT, not its code.
  for (const target of targets) await round(target, Math.min(3, seconds));
  for (let index = 0; index < rounds; index += 1) {
    for (const target of index % 2 === 0 ? targets : [...targets].reverse()) target.rates.push(await round(target));
  }
  for (const target of targets) {
    const versions = target.flows.reduce((sum, flow) => sum + flow.version - 1, 0);
    const client = new pg.Client({ connectionString: new URL(`/${target.database}`, base).toString() });
    await client.connect();
    const { rows } = await client.query<{ n: string }>(`SELECT count(*)::text AS n FROM flow_events WHERE kind = 'status_changed'`);
    await client.end();
    if (Number(rows[0]!.n) !== versions) throw new Error(`${target.name}: ${rows[0]!.n} status_changed events for ${versions} mutations`);
  }
} finally {
  for (const target of targets) {
    target.child.kill('SIGKILL');
    await once(target.child, 'exit').catch(() => {});
    await dropScratchDatabase(base, target.database);
  }
}

const [current, baseline] = targets;
const format = (rates: number[]) => rates.map((rate) => rate.toFixed(0)).join(', ');
console.log(`rounds: ${rounds} × ${seconds} s per server, ${concurrency} in flight, ${flowCount} flows (median reported)`);
console.log(`current:  ${median(current!.rates).toFixed(0)} mutations/s  (rounds: ${format(current!.rates)})`);
if (baseline) {
  console.log(`baseline: ${median(baseline.rates).toFixed(0)} mutations/s  (rounds: ${format(baseline.rates)}; ${baselineDir})`);
  console.log(`current / baseline: ${(median(current!.rates) / median(baseline.rates)).toFixed(3)} (target: at least 0.90)`);
}
console.log(
  `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; load average ${os
    .loadavg()
    .map((load) => load.toFixed(1))
    .join(' ')}; node ${process.version}`,
);
