// The read benchmark: flowgraph versus PostGraphile versus a raw-SQL floor, on the same PostgreSQL database, on
// the same machine, in the same run. See bench/README.md ("Reads") for what it measures and how.
//
//   npm run bench:reads                 # the full run recorded in bench/RESULTS.md (about 10 minutes)
//   npm run bench:reads:smoke           # tiny sizes, seconds: checks that the harness runs and bodies are right
//
// Options: --sizes 1,10,100,1000 (statement counts)  --load-size 1000  --runs 5  --duration 10  --warmup 3
//          --connections 8  --queries a,b,c  --out FILE.json  --write-results (updates bench/RESULTS.md)
// Environment: BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres); databases fg_bench_reads_*.
import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { databaseUrl, dropDatabase, ensureFixture, type FixtureOptions, type FixtureSummary } from './reads-fixture.ts';
import { BodyChecker, runLoad, type LoadResult } from './reads-load.ts';
import {
  benchRequest,
  expectedAnswer,
  QUERY_NAMES,
  QUERY_TITLES,
  type Canonical,
  type QueryContext,
  type QueryName,
  type ServerName,
} from './reads-queries.ts';
import { benchToken, cpuBetween, ensurePeersInstalled, ROOT, sampleCpu, startServer, type RunningServer } from './reads-servers.ts';

const SERVERS: ServerName[] = ['flowgraph', 'postgraphile', 'floor'];
const SERVER_TITLES: Record<ServerName, string> = { flowgraph: 'flowgraph', postgraphile: 'PostGraphile', floor: 'floor (raw SQL)' };

const { values: args } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    sizes: { type: 'string' },
    'load-size': { type: 'string' },
    runs: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    connections: { type: 'string' },
    queries: { type: 'string' },
    out: { type: 'string' },
    /** Render the report of an earlier run (its JSON file) instead of measuring. */
    from: { type: 'string' },
    'write-results': { type: 'boolean', default: false },
  },
});

const smoke = args.smoke;
const config = {
  sizes: (args.sizes ?? (smoke ? '1,3' : '1,10,100,1000')).split(',').map(Number),
  loadSize: Number(args['load-size'] ?? (smoke ? 3 : 1000)),
  runs: Number(args.runs ?? (smoke ? 1 : 5)),
  duration: Number(args.duration ?? 10),
  warmup: Number(args.warmup ?? (smoke ? 0 : 3)),
  connections: Number(args.connections ?? (smoke ? 2 : 8)),
  queries: (args.queries ?? 'a,b,c').split(',') as QueryName[],
};
const baseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function log(line: string): void {
  console.log(`[reads ${new Date().toISOString().slice(11, 19)}] ${line}`);
}

function fixtureOptions(flows: number): FixtureOptions {
  // The smoke run keeps imports small; the subject flow keeps 3 x 250 records so (c) still has a full page.
  return smoke ? { flows, recordsPerImport: { min: 5, max: 15 } } : { flows };
}

function databaseName(flows: number): string {
  return smoke ? `fg_bench_reads_smoke_${flows}` : `fg_bench_reads_${flows}`;
}

async function startAll(url: string, debugSql: boolean): Promise<Record<ServerName, RunningServer>> {
  const started = await Promise.allSettled(SERVERS.map((name) => startServer(name, { databaseUrl: url, debugSql })));
  const failure = started.find((result) => result.status === 'rejected');
  if (failure) {
    await Promise.all(started.map((result) => (result.status === 'fulfilled' ? result.value.stop() : undefined)));
    throw (failure as PromiseRejectedResult).reason;
  }
  return Object.fromEntries(started.map((result, index) => [SERVERS[index], (result as PromiseFulfilledResult<RunningServer>).value])) as Record<
    ServerName,
    RunningServer
  >;
}

async function stopAll(servers: Record<ServerName, RunningServer>): Promise<void> {
  await Promise.all(Object.values(servers).map((server) => server.stop()));
}

async function post(server: RunningServer, name: ServerName, query: QueryName, context: QueryContext): Promise<string> {
  const request = benchRequest(name, query, context);
  const response = await fetch(`${server.url}${request.path}`, { method: 'POST', headers: request.headers, body: request.body });
  const body = await response.text();
  if (!response.ok) throw new Error(`${name} (${query}) answered ${response.status}: ${body.slice(0, 500)}`);
  return body;
}

async function statementsSoFar(server: RunningServer): Promise<number> {
  const response = await fetch(`${server.url}/__bench/statements`);
  return ((await response.json()) as { statements: number }).statements;
}

/** SQL statements one request costs, per server and query, on one fixture size (bodies checked too). */
async function countStatements(
  fixture: FixtureSummary,
  context: QueryContext,
  servers: Record<ServerName, RunningServer>,
): Promise<Record<ServerName, Record<QueryName, number>>> {
  const url = databaseUrl(baseUrl, fixture.database);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const counts = {} as Record<ServerName, Record<QueryName, number>>;
    for (const name of SERVERS) {
      counts[name] = {} as Record<QueryName, number>;
      for (const query of config.queries) {
        const checker = new BodyChecker(name, query, await expectedAnswer(client, query, context));
        checker.check(await post(servers[name], name, query, context)); // warm: connections, prepared statements
        if (name === 'flowgraph') {
          const body = await post(servers[name], name, query, context);
          checker.check(body);
          const reported = (JSON.parse(body) as { extensions?: { sqlStatements?: number } }).extensions?.sqlStatements;
          if (typeof reported !== 'number') throw new Error('flowgraph did not report extensions.sqlStatements');
          counts[name][query] = reported;
        } else {
          const before = await statementsSoFar(servers[name]);
          checker.check(await post(servers[name], name, query, context));
          counts[name][query] = (await statementsSoFar(servers[name])) - before;
        }
      }
    }
    return counts;
  } finally {
    await client.end();
  }
}

interface RunSample extends LoadResult {
  run: number;
  server: ServerName;
  query: QueryName;
  /** CPU seconds of the server's Node process and of its PostgreSQL backends during the run. */
  nodeCpuSeconds: number;
  postgresCpuSeconds: number;
  /** CPU seconds of this process (the load generator) during the run. */
  clientCpuSeconds: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function measureLoad(
  fixture: FixtureSummary,
  context: QueryContext,
  servers: Record<ServerName, RunningServer>,
): Promise<{ samples: RunSample[]; versions: Record<ServerName, string> }> {
  const url = databaseUrl(baseUrl, fixture.database);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const samples: RunSample[] = [];
  try {
    const checkers = {} as Record<ServerName, Record<QueryName, BodyChecker>>;
    const expected = {} as Record<QueryName, Canonical>;
    for (const query of config.queries) expected[query] = await expectedAnswer(client, query, context);
    for (const name of SERVERS) {
      checkers[name] = {} as Record<QueryName, BodyChecker>;
      for (const query of config.queries) {
        checkers[name][query] = new BodyChecker(name, query, expected[query]);
        checkers[name][query].check(await post(servers[name], name, query, context));
      }
    }
    if (config.warmup > 0) {
      log(`warm-up: ${config.warmup} s per server and query`);
      for (const query of config.queries) {
        for (const name of SERVERS) {
          await runLoad(servers[name].url, benchRequest(name, query, context), checkers[name][query], {
            connections: config.connections,
            duration: config.warmup,
          });
        }
      }
    }
    for (let run = 1; run <= config.runs; run += 1) {
      // Interleaved: every server runs every query in each round, and the order rotates from round to round.
      const order = SERVERS.map((_unused, index) => SERVERS[(index + run - 1) % SERVERS.length]!);
      for (const query of config.queries) {
        for (const name of order) {
          const server = servers[name];
          const before = await sampleCpu(client, server);
          const clientBefore = process.cpuUsage();
          const result = await runLoad(server.url, benchRequest(name, query, context), checkers[name][query], {
            connections: config.connections,
            ...(smoke ? { amount: 30 } : { duration: config.duration }),
          });
          const clientCpu = process.cpuUsage(clientBefore);
          const cpu = cpuBetween(before, await sampleCpu(client, server));
          samples.push({
            ...result,
            run,
            server: name,
            query,
            nodeCpuSeconds: cpu.node,
            postgresCpuSeconds: cpu.postgres,
            clientCpuSeconds: (clientCpu.user + clientCpu.system) / 1e6,
          });
          log(
            `run ${run} (${query}) ${name.padEnd(12)} ${result.requestsPerSecond.toFixed(1).padStart(8)} req/s  ` +
              `p50 ${result.p50} ms  p99 ${result.p99} ms  node ${((cpu.node / result.requests) * 1000).toFixed(2)} ms/req  ` +
              `pg ${((cpu.postgres / result.requests) * 1000).toFixed(2)} ms/req`,
          );
        }
      }
    }
    return { samples, versions: Object.fromEntries(SERVERS.map((name) => [name, servers[name].version])) as Record<ServerName, string> };
  } finally {
    await client.end();
  }
}

function machine() {
  const load = os.loadavg().map((value) => value.toFixed(2)).join(', ');
  let postgres = '';
  try {
    postgres = execSync(`psql "${baseUrl}" -Atc "show server_version"`, { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  } catch {
    postgres = 'unknown';
  }
  return {
    cpus: `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'unknown'}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    postgres,
    loadAverage: load,
  };
}

interface Summary {
  query: QueryName;
  server: ServerName;
  requestsPerSecond: number;
  p50: number;
  p99: number;
  nodeCpuMsPerRequest: number;
  postgresCpuMsPerRequest: number;
  nodeCpuCores: number;
}

function summarize(samples: RunSample[]): { rows: Summary[]; ratios: Record<QueryName, { postgraphile: number; floor: number; perRun: string[] }> } {
  const rows: Summary[] = [];
  const ratios = {} as Record<QueryName, { postgraphile: number; floor: number; perRun: string[] }>;
  for (const query of config.queries) {
    for (const server of SERVERS) {
      const mine = samples.filter((sample) => sample.query === query && sample.server === server);
      rows.push({
        query,
        server,
        requestsPerSecond: median(mine.map((s) => s.requestsPerSecond)),
        p50: median(mine.map((s) => s.p50)),
        p99: median(mine.map((s) => s.p99)),
        nodeCpuMsPerRequest: median(mine.map((s) => (s.nodeCpuSeconds / s.requests) * 1000)),
        postgresCpuMsPerRequest: median(mine.map((s) => (s.postgresCpuSeconds / s.requests) * 1000)),
        nodeCpuCores: median(mine.map((s) => s.nodeCpuSeconds / s.seconds)),
      });
    }
    const perRun = Array.from({ length: config.runs }, (_unused, index) => {
      const rps = (server: ServerName) =>
        samples.find((s) => s.query === query && s.server === server && s.run === index + 1)!.requestsPerSecond;
      return { postgraphile: rps('flowgraph') / rps('postgraphile'), floor: rps('flowgraph') / rps('floor') };
    });
    ratios[query] = {
      postgraphile: median(perRun.map((r) => r.postgraphile)),
      floor: median(perRun.map((r) => r.floor)),
      perRun: perRun.map((r) => `${r.postgraphile.toFixed(2)}/${r.floor.toFixed(2)}`),
    };
  }
  return { rows, ratios };
}

function markdown(report: Report): string {
  const { rows, ratios } = report.summary;
  const lines: string[] = [];
  const each = smoke ? '30 requests' : `${report.config.duration} s`;
  lines.push(`Measured ${report.date} with \`${report.command}\` (${report.config.runs} interleaved runs of ${each} per server and query, ` +
    `${report.config.connections} connections, closed model, ${report.config.warmup} s warm-up; medians).`);
  lines.push('');
  lines.push(`Machine: ${report.machine.cpus}, ${report.machine.memoryGiB} GiB, ${report.machine.os}; PostgreSQL ${report.machine.postgres} on 127.0.0.1. ` +
    `Load average before the run: ${report.loadBefore}; after: ${report.loadAfter}.`);
  const cores = Number.parseInt(report.machine.cpus, 10) || 1;
  const load = Math.max(...[report.loadBefore, report.loadAfter].map((text) => Number.parseFloat(text)));
  if (load > cores) {
    lines.push('');
    lines.push(`**The machine was busy:** a load average of ${load.toFixed(1)} on ${cores} cores means other processes competed ` +
      'for the CPU during the run, so absolute throughput is low and noisy. The ratios compare servers measured seconds ' +
      'apart in the same rounds; the CPU cost per request (last column of the ratio table) is the steadier comparison.');
  }
  lines.push('');
  lines.push(`Fixture (${report.fixtures.at(-1)?.database}): ${report.loadFixture.flows} master flows, ${report.loadFixture.imports} imports, ` +
    `${report.loadFixture.rawRecords} raw records, ${report.loadFixture.discoveryFlows} discovery flows; seed ${report.seed}.`);
  lines.push('');
  lines.push('Servers: ' + SERVERS.map((name) => `${SERVER_TITLES[name]}: ${report.versions[name]}`).join('; ') + '.');
  lines.push('');
  lines.push('| query | server | req/s | p50 ms | p99 ms | server CPU ms/req | PostgreSQL CPU ms/req |');
  lines.push('|---|---|---:|---:|---:|---:|---:|');
  for (const row of rows) {
    lines.push(
      `| ${row.query} | ${SERVER_TITLES[row.server]} | ${row.requestsPerSecond.toFixed(0)} | ${row.p50} | ${row.p99} | ` +
        `${row.nodeCpuMsPerRequest.toFixed(2)} | ${row.postgresCpuMsPerRequest.toFixed(2)} |`,
    );
  }
  lines.push('');
  lines.push('| query | flowgraph / PostGraphile | flowgraph / floor | per run (PostGraphile/floor) | CPU per request (server + PostgreSQL): flowgraph, PostGraphile, floor |');
  lines.push('|---|---:|---:|---|---|');
  for (const query of report.config.queries) {
    const ratio = ratios[query];
    const cpu = (server: ServerName) => {
      const row = rows.find((r) => r.query === query && r.server === server)!;
      return (row.nodeCpuMsPerRequest + row.postgresCpuMsPerRequest).toFixed(2);
    };
    lines.push(
      `| ${QUERY_TITLES[query]} | ${ratio.postgraphile.toFixed(2)}x | ${ratio.floor.toFixed(2)}x | ${ratio.perRun.join(', ')} | ` +
        `${cpu('flowgraph')}, ${cpu('postgraphile')}, ${cpu('floor')} ms |`,
    );
  }
  lines.push('');
  lines.push(`SQL statements per request, by number of master flows in the database:`);
  lines.push('');
  lines.push(`| query | server | ${report.statementCounts.map((entry) => entry.flows).join(' | ')} |`);
  lines.push(`|---|---|${report.statementCounts.map(() => '---:').join('|')}|`);
  for (const query of report.config.queries) {
    for (const server of SERVERS) {
      lines.push(`| ${query} | ${SERVER_TITLES[server]} | ${report.statementCounts.map((entry) => entry.counts[server][query]).join(' | ')} |`);
    }
  }
  return lines.join('\n');
}

interface Report {
  date: string;
  command: string;
  seed: number;
  config: typeof config;
  machine: ReturnType<typeof machine>;
  loadBefore: string;
  loadAfter: string;
  fixtures: FixtureSummary[];
  loadFixture: FixtureSummary;
  versions: Record<ServerName, string>;
  statementCounts: { flows: number; counts: Record<ServerName, Record<QueryName, number>> }[];
  samples: RunSample[];
  summary: ReturnType<typeof summarize>;
}

function writeResultsSection(text: string): void {
  const file = `${ROOT}bench/RESULTS.md`;
  const begin = '<!-- reads:begin (written by npm run bench:reads -- --write-results) -->';
  const end = '<!-- reads:end -->';
  const current = readFileSync(file, 'utf8');
  const start = current.indexOf(begin);
  const stop = current.indexOf(end);
  if (start < 0 || stop < start) throw new Error(`bench/RESULTS.md has no ${begin} ... ${end} section`);
  writeFileSync(file, `${current.slice(0, start + begin.length)}\n${text}\n${current.slice(stop)}`);
}

async function main(): Promise<void> {
  if (args.from) {
    const report = JSON.parse(readFileSync(args.from, 'utf8')) as Report;
    const text = markdown(report);
    console.log(text);
    if (args['write-results']) writeResultsSection(text);
    return;
  }
  const loadBefore = os.loadavg().map((value) => value.toFixed(2)).join(', ');
  ensurePeersInstalled(log);
  const sizes = [...new Set([...config.sizes, config.loadSize])].sort((a, b) => a - b);
  const fixtures: FixtureSummary[] = [];
  for (const flows of sizes) {
    const fixture = await ensureFixture(baseUrl, databaseName(flows), fixtureOptions(flows));
    log(`fixture ${fixture.database}: ${fixture.flows} flows, ${fixture.imports} imports, ${fixture.rawRecords} raw records` +
      (fixture.loadedMs === null ? ' (reused)' : ` (loaded in ${fixture.loadedMs} ms)`));
    fixtures.push(fixture);
  }
  const contexts = new Map<number, QueryContext>();
  for (const fixture of fixtures) {
    contexts.set(fixture.flows, { tenant: fixture.tenant, subjectFlowId: fixture.subjectFlowId, token: await benchToken(fixture.tenant) });
  }
  const contextOf = (fixture: FixtureSummary): QueryContext => contexts.get(fixture.flows)!;

  // The smoke run loads the servers it counted with (flowgraph reporting its statements), to stay short; the
  // full run measures load on servers started for it, configured as in production.
  let reusable: Record<ServerName, RunningServer> | undefined;
  const statementCounts: Report['statementCounts'] = [];
  for (const flows of config.sizes) {
    const fixture = fixtures.find((f) => f.flows === flows)!;
    const servers = await startAll(databaseUrl(baseUrl, fixture.database), true);
    try {
      const counts = await countStatements(fixture, contextOf(fixture), servers);
      statementCounts.push({ flows, counts });
      log(`statements at ${flows} flows: ` + SERVERS.map((name) => `${name} ${config.queries.map((q) => `${q}=${counts[name][q]}`).join(' ')}`).join('; '));
    } finally {
      if (smoke && flows === config.loadSize) reusable = servers;
      else await stopAll(servers);
    }
  }

  const loadFixture = fixtures.find((f) => f.flows === config.loadSize)!;
  log(`load on ${loadFixture.database}: ${config.runs} runs x ${config.queries.length} queries x ${SERVERS.length} servers`);
  const loadServers = reusable ?? (await startAll(databaseUrl(baseUrl, loadFixture.database), false));
  let measured: Awaited<ReturnType<typeof measureLoad>>;
  try {
    measured = await measureLoad(loadFixture, contextOf(loadFixture), loadServers);
  } finally {
    await stopAll(loadServers);
  }
  const { samples, versions } = measured;

  const report: Report = {
    date: new Date().toISOString(),
    command: `npm run bench:reads${smoke ? ':smoke' : ''}${process.argv.length > 2 ? ` -- ${process.argv.slice(2).filter((a) => a !== '--smoke').join(' ')}` : ''}`.replace(/ -- $/, ''),
    seed: 7,
    config,
    machine: machine(),
    loadBefore,
    loadAfter: os.loadavg().map((value) => value.toFixed(2)).join(', '),
    fixtures,
    loadFixture,
    versions,
    statementCounts,
    samples,
    summary: summarize(samples),
  };
  const text = markdown(report);
  console.log(`\n${text}\n`);

  const flowgraphCounts = statementCounts.map((entry) => entry.counts.flowgraph);
  for (const query of config.queries) {
    const distinct = new Set(flowgraphCounts.map((counts) => counts[query]));
    if (distinct.size > 1) throw new Error(`flowgraph's statement count for (${query}) changes with the fixture size: ${[...distinct].join(', ')}`);
  }

  if (smoke) {
    for (const flows of sizes) await dropDatabase(baseUrl, databaseName(flows));
    log('smoke run passed: every server answered every query correctly, under load too');
    return;
  }
  const out = args.out ?? `${ROOT}bench/results/reads-${report.date.slice(0, 19).replace(/[:T]/g, '-')}.json`;
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
  writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  log(`wrote ${out}`);
  if (args['write-results']) {
    writeResultsSection(text);
    log('updated bench/RESULTS.md');
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
