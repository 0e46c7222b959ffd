// Peak resident memory of the flowgraph server process while it imports a 1,000,000-row CSV.
// The server runs as `npm start` does (a separate process); the upload is generated and streamed on the
// fly, so the client holds no file either. The peak is the kernel's high-water mark (VmHWM in
// /proc/<pid>/status), read just before the server is stopped.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/import-memory.ts [rows]   # PostgreSQL
//   npx tsx bench/import-memory.ts [rows]                                                             # embedded PGlite
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CSV_HEADER, csvLine, dropScratchDatabase, scratchDatabase, VIEWER } from './support.ts';

const ROWS = Number(process.argv[2] ?? 1_000_000);
const base = process.env.DATABASE_URL;
const dataDir = base ? undefined : await mkdtemp(path.join(os.tmpdir(), 'flowgraph-bench-'));
const benchDatabase = `flowgraph_bench_memory_${process.pid}`;
const databaseUrl = base ? await scratchDatabase(base, benchDatabase) : '';

// The same command line as `npm start` (package.json), heap limit included.
const heapMb = process.env.FLOWGRAPH_HEAP_MB ?? '256';
const child = spawn(process.execPath, [`--max-old-space-size=${heapMb}`, '--import', 'tsx', 'src/server.ts'], {
  env: {
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    FLOWGRAPH_SEED: '0',
    DATABASE_URL: databaseUrl,
    // The benchmark identifies its tenant with the development headers.
    FLOWGRAPH_AUTH: 'dev',
    ...(dataDir ? { FLOWGRAPH_DATA_DIR: dataDir } : {}),
    FLOWGRAPH_IMPORT_PROGRESS_ROWS: '0',
  },
  stdio: ['ignore', 'pipe', 'inherit'],
});
let output = '';
child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
const port = await new Promise<number>((resolve, reject) => {
  const timer = setInterval(() => {
    const match = /GraphiQL at http:\/\/localhost:(\d+)\//.exec(output);
    if (match) {
      clearInterval(timer);
      resolve(Number(match[1]));
    }
  }, 50);
  child.once('exit', () => reject(new Error(`server exited:\n${output}`)));
});

const status = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) / 1024;
const idle = status('VmRSS');

// The multipart body, produced 10,000 rows at a time as fetch asks for more.
const boundary = 'flowgraph-bench';
const encoder = new TextEncoder();
const query = 'mutation ($input: StoreImportInput!) { storeImport(input: $input) { __typename ... on MasterFlow { rawRecordCount } ... on Error { message } } }';
const head =
  `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n` +
  `${JSON.stringify({ query, variables: { input: { filename: 'million.csv', importType: 'servers' } } })}\r\n` +
  `--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.input.file"]}\r\n` +
  `--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="million.csv"\r\nContent-Type: text/csv\r\n\r\n`;
let next = 0;
let bytes = 0;
const body = new ReadableStream<Uint8Array>({
  pull(controller) {
    if (next === 0) {
      controller.enqueue(encoder.encode(`${head}${CSV_HEADER}\n`));
      next = 1;
    }
    if (next > ROWS) {
      controller.enqueue(encoder.encode(`\r\n--${boundary}--\r\n`));
      controller.close();
      return;
    }
    const count = Math.min(10_000, ROWS + 1 - next);
    const lines = Array.from({ length: count }, (_unused, offset) => csvLine(next + offset));
    const chunk = encoder.encode(`${lines.join('\n')}\n`);
    bytes += chunk.length;
    controller.enqueue(chunk);
    next += count;
  },
});

let sampledPeak = idle;
const sampler = setInterval(() => (sampledPeak = Math.max(sampledPeak, status('VmRSS'))), 100);
const started = performance.now();
const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
  method: 'POST',
  headers: {
    'content-type': `multipart/form-data; boundary=${boundary}`,
    'x-client-account-id': VIEWER.clientAccountId,
    'x-engagement-id': VIEWER.engagementId,
    'x-user-id': VIEWER.userId,
  },
  body,
  duplex: 'half',
} as RequestInit);
const result = (await response.json()) as { data?: { storeImport: { __typename: string; rawRecordCount?: number } } };
const seconds = (performance.now() - started) / 1000;
clearInterval(sampler);
const peak = status('VmHWM');
child.kill('SIGTERM');
await new Promise((resolve) => child.once('exit', resolve));
if (dataDir) await rm(dataDir, { recursive: true, force: true });
if (base) await dropScratchDatabase(base, benchDatabase);

if (result.data?.storeImport.rawRecordCount !== ROWS) throw new Error(`import failed: ${JSON.stringify(result)}`);
console.log(`database: ${base ? 'PostgreSQL' : 'embedded PGlite'}; V8 heap limit ${heapMb} MiB; rows: ${ROWS}; upload: ${(bytes / 2 ** 20).toFixed(1)} MiB in ${seconds.toFixed(1)} s`);
console.log(`server RSS: idle ${idle.toFixed(0)} MiB, peak ${peak.toFixed(0)} MiB (VmHWM; sampled peak ${sampledPeak.toFixed(0)} MiB); target: under 512 MiB`);
console.log(`machine: ${os.cpus().length} CPUs, load average ${os.loadavg().map((load) => load.toFixed(1)).join(' ')}; node ${process.version}`);
