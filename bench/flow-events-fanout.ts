// Fan-out benchmark of live flow events (issue 4): N graphql-ws subscribers on one server process, a
// writer committing status changes at a fixed rate, for a fixed time. Measures, per delivered event, the
// latency from the writer's commit to the subscriber's receipt, counts events delivered against events
// expected × subscribers, and samples the server process's CPU time and RSS from /proc.
//
//   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/flowgraph_bench_events npx tsx bench/flow-events-fanout.ts
//
// Knobs (environment):
// - BENCH_SUBSCRIBERS (1000), BENCH_RATE (50 changes/s), BENCH_SECONDS (60), BENCH_FLOWS (50 master flows the
//   changes rotate over), BENCH_WRITE_CONCURRENCY (4 changes in flight at most);
// - BENCH_DRAIN_SECONDS (30): how long to wait for the last deliveries after the writer is done;
// - BENCH_WARM_UP_SECONDS (5): changes at the same rate before the measured ones, so that the figures are of a
//   server whose code the JIT has compiled, not of its first seconds; 0 to measure from a cold start;
// - BENCH_WRITER: `sql` (each change is one round trip of plain SQL naming flowgraph's actor), `sql-platform`
//   (the same without an actor, as the platform's workers write: the database's triggers append the events
//   either way) or `prisma` (the same change as test/support/flow-changes.ts, a Prisma interactive
//   transaction: five times the writer's CPU);
// - BENCH_MASTER_FLOW=1 to also select the `masterFlow` node in every event (one extra query per event and
//   shared execution);
// - BENCH_SERVER_NODE_OPTIONS (for example `--cpu-prof --cpu-prof-dir=/tmp/prof`) for the server process, and
//   BENCH_SERVER_NODE: the node binary it runs on (default: the benchmark's own);
// The database named by BENCH_DATABASE_URL is dropped and recreated. Linux only (/proc).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import pg from 'pg';
import { openDatabase } from '../src/db/database.ts';
import { applyMigrations } from '../src/db/migrator.ts';
import { decodeFlowEventCursor } from '../src/domain/flow-event-cursor.ts';
import { VIEWER_HEADERS } from '../src/http/viewer.ts';
import { createFlowGraph, newTenant } from '../test/support/factories.ts';
import { changeFlowStatus, changeStatusSql } from '../test/support/flow-changes.ts';
import { recreateDatabase } from '../test/support/postgres-databases.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/flowgraph_bench_events';
const subscribers = Number(process.env.BENCH_SUBSCRIBERS ?? 1000);
const rate = Number(process.env.BENCH_RATE ?? 50);
const seconds = Number(process.env.BENCH_SECONDS ?? 60);
const flowCount = Number(process.env.BENCH_FLOWS ?? 50);
const writeConcurrency = Number(process.env.BENCH_WRITE_CONCURRENCY ?? 4);
const drainSeconds = Number(process.env.BENCH_DRAIN_SECONDS ?? 30);
const warmUpSeconds = Number(process.env.BENCH_WARM_UP_SECONDS ?? 5);
const writerKind = process.env.BENCH_WRITER ?? 'sql';
const selectMasterFlow = process.env.BENCH_MASTER_FLOW === '1';
const now = () => performance.timeOrigin + performance.now();
const progress = (message: string) => console.error(`[bench] ${message}`);

const QUERY = `subscription Bench($after: String) {
  flowEvents(after: $after) {
    __typename
    ... on FlowEvent { cursor kind time actor flowId payload ${selectMasterFlow ? 'masterFlow { flowStatus version }' : ''} }
    ... on FlowEventsOverflowError { lastCursor }
  }
}`;

function procStat(pid: number): { cpuSeconds: number; systemSeconds: number; rssMiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (100/s on Linux)
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuSeconds: ticks / 100, systemSeconds: Number(fields[12]) / 100, rssMiB: rssKiB / 1024 };
}

/** CPU seconds (user + system) of every PostgreSQL process now running: the server's backends included. */
function postgresCpuSeconds(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!readFileSync(`/proc/${entry}/comm`, 'utf8').startsWith('postgres')) continue;
      total += procStat(Number(entry)).cpuSeconds;
    } catch {
      // The process ended while being read.
    }
  }
  return total;
}

/** Busy and total CPU time of the whole machine (all cores), in clock ticks, from /proc/stat. */
function machineTicks(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  const idle = fields[3]! + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface WriterJob {
  concurrency: number;
  tenant: ReturnType<typeof newTenant>;
  flows: string[];
  rate: number;
  count: number;
}

interface WriterResult {
  committed: [number, number][];
  late: number;
  seconds: number;
}

/**
 * The writer runs in a process of its own, so that the subscribers' work (in this process) cannot delay
 * the commits it measures from. Both processes stamp times with performance.timeOrigin + now(), which
 * is the wall clock of the same machine.
 */
/** Makes one status change and returns its event's sequence (see BENCH_WRITER). */
type ChangeWriter = (tenant: WriterJob['tenant'], flowId: string) => Promise<bigint>;

async function changeWriter(kind: string): Promise<{ change: ChangeWriter; close(): Promise<void> }> {
  if (kind === 'prisma') {
    const database = await openDatabase({ databaseUrl, poolSize: flowCount + 5 });
    return {
      // Generous transaction limits: on a saturated machine a commit can wait seconds for the counter row.
      change: async (tenant, flowId) => (await changeFlowStatus(database.prisma, tenant, flowId, { timeoutMs: 60_000, numberNow: true })).sequence,
      close: () => database.close(),
    };
  }
  // sql: one round trip that names its actor, as flowgraph's writes do; sql-platform: the same without naming
  // one, as the platform's own workers write (the events record application_name and role).
  if (kind !== 'sql' && kind !== 'sql-platform') throw new Error(`BENCH_WRITER is sql, sql-platform or prisma, not ${kind}`);
  const pool = new pg.Pool({ connectionString: databaseUrl, max: writeConcurrency, application_name: 'platform-worker' });
  return {
    change: async (tenant, flowId) => {
      const sql = changeStatusSql({ flowId, ...tenant }, tenant.userId, kind === 'sql' ? tenant.userId : undefined);
      const results = (await pool.query(sql)) as unknown as { command: string; rowCount: number | null; rows: { sequence?: string }[] }[];
      const update = results.find((result) => result.command === 'UPDATE');
      if (update?.rowCount !== 1) throw new Error(`flow ${flowId} was not changed`);
      const sequence = results.find((result) => result.rows[0]?.sequence !== undefined)?.rows[0]?.sequence;
      return BigInt(sequence!);
    },
    close: () => pool.end(),
  };
}

async function writer(change: ChangeWriter, job: WriterJob): Promise<WriterResult> {
  const committed: [number, number][] = [];
  const busy = new Map<number, Promise<void>>();
  let late = 0;
  const writes: Promise<void>[] = [];
  const began = now();
  for (let index = 0; index < job.count; index += 1) {
    const due = began + (index * 1_000) / job.rate;
    const wait = due - now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    else late += 1;
    // At most `concurrency` changes in flight, never two on one flow: event writers queue on the counter
    // row, and piling up more only lengthens that queue. A write that cannot start on time counts as late.
    while (busy.size >= Math.min(job.concurrency, job.flows.length)) await Promise.race([...busy.values()]);
    let flow = index % job.flows.length;
    while (busy.has(flow)) flow = (flow + 1) % job.flows.length;
    const write = change(job.tenant, job.flows[flow]!).then((sequence) => {
      committed.push([Number(sequence), now()]);
      busy.delete(flow);
    });
    busy.set(flow, write);
    writes.push(write);
  }
  await Promise.all(writes);
  const seconds = (now() - began) / 1_000;
  return { committed, late, seconds };
}

/**
 * Starts the writer process and waits until it is connected, before anything is measured: its start-up
 * (compiling TypeScript, connecting) would otherwise take CPU from the server in the first seconds.
 */
async function startWriter(): Promise<{ pid: number; run(job: WriterJob): Promise<WriterResult>; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    cwd: ROOT,
    env: { ...process.env, BENCH_ROLE: 'writer' },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await once(child, 'message');
  return {
    pid: child.pid!,
    async run(job) {
      child.send(job);
      const [result] = (await once(child, 'message')) as [WriterResult];
      return result;
    },
    async stop() {
      child.send('stop');
      await once(child, 'exit');
    },
  };
}

async function main(): Promise<void> {
  progress(`database ${databaseUrl}`);
  await recreateDatabase(databaseUrl);
  const database = await openDatabase({ databaseUrl, poolSize: 8 });
  await applyMigrations(database.sql);
  const tenant = newTenant('bench');
  const flows = [];
  for (let index = 0; index < flowCount; index += 1) flows.push((await createFlowGraph(database.prisma, tenant, { flowStatus: 'running', recordsPerImport: 1 })).flowId);

  const server = spawn(process.env.BENCH_SERVER_NODE || process.execPath, [...(process.env.BENCH_SERVER_NODE_OPTIONS?.split(' ').filter(Boolean) ?? []), '--import', 'tsx', 'src/server.ts'], {
    cwd: ROOT,
    // Plain cursors: the subscribers read each event's position from its cursor.
    // One user holds every subscriber: lift the per-user caps (20 sockets, 100 operations) for the benchmark.
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: '0',
      HOST: '127.0.0.1',
      FLOWGRAPH_SEED: '0',
      FLOWGRAPH_AUTH: 'dev',
      FLOWGRAPH_CURSOR_KEY: '',
      FLOWGRAPH_WS_MAX_SOCKETS_PER_USER: '1000000',
      FLOWGRAPH_MAX_SUBSCRIPTIONS_PER_USER: '1000000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  server.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  server.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    const poll = setInterval(() => {
      const match = /GraphiQL at http:\/\/localhost:(\d+)\//.exec(output);
      if (match) {
        clearInterval(poll);
        resolve(Number(match[1]));
      }
      if (server.exitCode !== null) reject(new Error(output));
    }, 50);
  });
  const pid = server.pid!;
  progress(`server ${pid} listening on ${port}`);

  // Every subscriber starts from the same cursor, so none misses an event whatever its connection time.
  const cursorResponse = await fetch(`http://127.0.0.1:${port}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      [VIEWER_HEADERS.clientAccountId]: tenant.clientAccountId,
      [VIEWER_HEADERS.engagementId]: tenant.engagementId,
      [VIEWER_HEADERS.userId]: tenant.userId,
    },
    body: JSON.stringify({ query: '{ flowEventCursor }' }),
  });
  const after = ((await cursorResponse.json()) as { data: { flowEventCursor: string } }).data.flowEventCursor;
  const start = Number(decodeFlowEventCursor(after));

  // Receipts: receivedAt[subscriber * slots + (sequence - start - 1)]. The first slots are the warm-up's:
  // one event to see every subscription live, then BENCH_WARM_UP_SECONDS at the rate, not measured.
  const warmUp = 1 + rate * warmUpSeconds;
  const expectedEvents = rate * seconds;
  const slots = warmUp + expectedEvents;
  const receivedAt = new Float64Array(subscribers * slots);
  const perSubscriber = new Uint32Array(subscribers);
  let overflows = 0;
  let errors = 0;
  const errorKinds = new Map<string, number>();
  const noteError = (what: string) => {
    errors += 1;
    errorKinds.set(what, (errorKinds.get(what) ?? 0) + 1);
  };
  // Every subscriber receives the same cursor for an event: decoded once, not 1,000 times. The subscribers
  // share the machine with the server, so their own bookkeeping is kept cheap.
  const slotByCursor = new Map<string, number>();
  const slotOf = (cursor: string): number => {
    let slot = slotByCursor.get(cursor);
    if (slot === undefined) slotByCursor.set(cursor, (slot = Number(decodeFlowEventCursor(cursor)) - start - 1));
    return slot;
  };
  const writerProcess = await startWriter();
  const clients: Client[] = [];
  for (let index = 0; index < subscribers; index += 1) {
    const client = createClient({
      url: `ws://127.0.0.1:${port}/graphql`,
      webSocketImpl: WebSocket,
      connectionParams: {
        [VIEWER_HEADERS.clientAccountId]: tenant.clientAccountId,
        [VIEWER_HEADERS.engagementId]: tenant.engagementId,
        [VIEWER_HEADERS.userId]: tenant.userId,
      },
      retryAttempts: 0,
    });
    clients.push(client);
    client.subscribe<{ flowEvents: { __typename: string; cursor?: string } }>(
      { query: QUERY, variables: { after } },
      {
        next: (result) => {
          const at = now();
          const item = result.data?.flowEvents;
          if (item?.__typename !== 'FlowEvent' || !item.cursor) {
            if (item?.__typename === 'FlowEventsOverflowError') overflows += 1;
            else noteError(`result: ${JSON.stringify(result).slice(0, 200)}`);
            return;
          }
          const slot = slotOf(item.cursor);
          if (slot >= 0 && slot < slots) receivedAt[index * slots + slot] = at;
          perSubscriber[index] = perSubscriber[index]! + 1;
        },
        error: (error: unknown) => {
          const close = error as { code?: number; reason?: string; message?: string };
          noteError(close.code !== undefined ? `closed ${close.code} ${close.reason ?? ''}` : `error: ${close.message ?? String(error)}`);
        },
        complete: () => {},
      },
    );
    if (index % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 20));
  }

  progress(`${subscribers} clients subscribing`);
  // Warm-up: one event, and wait until every subscriber has it (all subscriptions are live).
  const committedAt = new Float64Array(slots);
  const warm = await changeFlowStatus(database.prisma, tenant, flows[0]!);
  committedAt[Number(warm.sequence) - start - 1] = now();
  const warmDeadline = Date.now() + 120_000;
  while (perSubscriber.some((count) => count < 1)) {
    if (Date.now() > warmDeadline) throw new Error(`only ${perSubscriber.filter((count) => count > 0).length} subscribers are live`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  if (warmUpSeconds > 0) {
    progress(`all subscribers live; warming up for ${warmUpSeconds} s`);
    await writerProcess.run({ concurrency: writeConcurrency, tenant, flows, rate, count: warmUp - 1 });
    const warmedDeadline = Date.now() + 120_000;
    while (perSubscriber.some((count) => count < warmUp) && Date.now() < warmedDeadline) await new Promise((resolve) => setTimeout(resolve, 100));
  }

  progress('writing');
  const cpuStart = procStat(pid);
  const rssSamples: number[] = [];
  const sampler = setInterval(() => rssSamples.push(procStat(pid).rssMiB), 1_000);
  const clientCpuStart = process.cpuUsage();
  const writerCpuStart = procStat(writerProcess.pid).cpuSeconds;
  const postgresCpuStart = postgresCpuSeconds();
  const machineStart = machineTicks();
  const began = now();

  const written = await writerProcess.run({ concurrency: writeConcurrency, tenant, flows, rate, count: expectedEvents });
  const writerCpu = procStat(writerProcess.pid).cpuSeconds - writerCpuStart;
  // Before the writer disconnects: a backend that has exited no longer counts.
  const postgresCpu = postgresCpuSeconds() - postgresCpuStart;
  await writerProcess.stop();
  for (const [sequence, at] of written.committed) committedAt[sequence - start - 1] = at;
  const late = written.late;
  const writingSeconds = written.seconds;
  progress('written; draining');

  // Drain: wait until every subscriber has every event, or BENCH_DRAIN_SECONDS.
  const total = warmUp + expectedEvents;
  const drainDeadline = Date.now() + drainSeconds * 1_000;
  while (perSubscriber.some((count) => count < total) && Date.now() < drainDeadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  clearInterval(sampler);
  const cpuEnd = procStat(pid);
  const clientCpu = process.cpuUsage(clientCpuStart);
  const machineEnd = machineTicks();
  const elapsed = (now() - began) / 1_000;

  const latencies: number[] = [];
  let delivered = 0;
  // Delivery is in log order, so a subscriber that has event k must have every event before it: a hole
  // below a subscriber's newest event is an event lost. Events after it had not arrived by the deadline.
  let holes = 0;
  for (let subscriber = 0; subscriber < subscribers; subscriber += 1) {
    let newest = -1;
    for (let slot = warmUp; slot < slots; slot += 1) if (receivedAt[subscriber * slots + slot]! !== 0) newest = slot;
    for (let slot = warmUp; slot < slots; slot += 1) {
      const at = receivedAt[subscriber * slots + slot]!;
      if (at === 0) {
        if (slot < newest) holes += 1;
        continue;
      }
      delivered += 1;
      latencies.push(at - committedAt[slot]!);
    }
  }
  const sorted = Float64Array.from(latencies).sort();
  // Where in the run the slow deliveries were: the worst latency of the events committed in each second.
  const worstBySecond: number[] = [];
  for (let slot = warmUp; slot < slots; slot += 1) {
    const second = Math.floor((committedAt[slot]! - began) / 1_000);
    if (!(second >= 0)) continue;
    for (let subscriber = 0; subscriber < subscribers; subscriber += 1) {
      const at = receivedAt[subscriber * slots + slot]!;
      if (at !== 0) worstBySecond[second] = Math.max(worstBySecond[second] ?? 0, Math.round(at - committedAt[slot]!));
    }
  }
  const result = {
    subscribers,
    ratePerSecond: rate,
    seconds,
    selectMasterFlow,
    eventsWritten: expectedEvents,
    warmUpSeconds,
    writer: writerKind,
    serverNode: server.spawnfile === process.execPath ? process.version : process.env.BENCH_SERVER_NODE,
    writingSeconds: Number(writingSeconds.toFixed(1)),
    writesLate: late,
    deliveredEvents: delivered,
    expectedDeliveries: expectedEvents * subscribers,
    lost: holes,
    notYetDeliveredAtDeadline: expectedEvents * subscribers - delivered - holes,
    drainSeconds,
    overflows,
    errors,
    errorKinds: Object.fromEntries(errorKinds),
    latencyMs: {
      p50: Number(percentile(sorted, 50).toFixed(1)),
      p90: Number(percentile(sorted, 90).toFixed(1)),
      p99: Number(percentile(sorted, 99).toFixed(1)),
      max: Number((sorted.at(-1) ?? Number.NaN).toFixed(1)),
    },
    worstLatencyMsBySecondOfCommit: Array.from(worstBySecond, (value) => value ?? null),
    serverCpu: {
      seconds: Number((cpuEnd.cpuSeconds - cpuStart.cpuSeconds).toFixed(1)),
      shareOfOneCore: Number(((cpuEnd.cpuSeconds - cpuStart.cpuSeconds) / elapsed).toFixed(2)),
      // In the kernel: mostly the TCP send path of one write per socket and event.
      systemSeconds: Number((cpuEnd.systemSeconds - cpuStart.systemSeconds).toFixed(1)),
    },
    serverRssMiB: { start: Number(cpuStart.rssMiB.toFixed(0)), max: Number(Math.max(...rssSamples, cpuEnd.rssMiB).toFixed(0)), end: Number(cpuEnd.rssMiB.toFixed(0)) },
    benchClientCpuSeconds: Number(((clientCpu.user + clientCpu.system) / 1e6).toFixed(1)),
    benchClientSystemCpuSeconds: Number((clientCpu.system / 1e6).toFixed(1)),
    // The rest of the machine: the writer and PostgreSQL while the writer wrote, and how busy
    // all cores were together (1.0 = every core busy all the time).
    writerCpuSeconds: Number(writerCpu.toFixed(1)),
    postgresCpuSeconds: Number(postgresCpu.toFixed(1)),
    machineBusy: Number(((machineEnd.busy - machineStart.busy) / (machineEnd.total - machineStart.total)).toFixed(2)),
  };
  console.log(JSON.stringify(result, null, 2));
  // BENCH_SERVER_LOG=file keeps what the server wrote (its logs, or --trace-gc through BENCH_SERVER_NODE_OPTIONS).
  if (process.env.BENCH_SERVER_LOG) writeFileSync(process.env.BENCH_SERVER_LOG, output);

  for (const client of clients) void client.dispose();
  server.kill('SIGTERM');
  await once(server, 'exit');
  await database.close();
  process.exit(result.lost === 0 && result.notYetDeliveredAtDeadline === 0 ? 0 : 1);
}

if (process.env.BENCH_ROLE === 'writer') {
  const fail = (error: unknown) => {
    console.error(error);
    process.exit(1);
  };
  changeWriter(writerKind).then((changes) => {
    process.on('message', (job: WriterJob | 'stop') => {
      if (job === 'stop') void changes.close().then(() => process.exit(0), fail);
      else writer(changes.change, job).then((result) => process.send!(result), fail);
    });
    process.send!('ready');
  }, fail);
} else {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
