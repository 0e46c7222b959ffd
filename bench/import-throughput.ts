// Rows per second of storeImport for a 100,000-row CSV (multipart upload over HTTP into a running flowgraph
// on PostgreSQL, until the committed response), against PostgreSQL COPY of the same rows into the same
// table, on the same server in the same run. storeImport runs twice per round, interleaved: with the event-log
// triggers of the flow tables (as always) and with them disabled, which is what the triggers cost an import
// (migration 20261202000000_flow_event_triggers; the target is at most 5 %).
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres npx tsx bench/import-throughput.ts [rows] [runs]
//
// DATABASE_URL names the server (any database on it); the benchmark creates and drops flowgraph_bench.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import os from 'node:os';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { loadConfig } from '../src/config.ts';
import { buildApp } from '../src/app.ts';
import { openDatabase } from '../src/db/database.ts';
import { csvRows, dropScratchDatabase, median, scratchDatabase, uploadCsv, VIEWER } from './support.ts';

const ROWS = Number(process.argv[2] ?? 100_000);
const RUNS = Number(process.argv[3] ?? 3);
const base = process.env.DATABASE_URL;
if (!base) throw new Error('Set DATABASE_URL to a PostgreSQL server (see the comment at the top).');

// A name of its own: other benchmarks may run against the same server at the same time.
const benchDatabase = `flowgraph_bench_${process.pid}`;
const url = await scratchDatabase(base, benchDatabase);
const lines = csvRows(ROWS);
const header = lines[0]!.split(',');
const csv = new Blob([lines.join('\n'), '\n']);

// --- COPY: the same rows, as the jsonb objects storeImport stores, into raw_import_records -----------
const client = new pg.Client({ connectionString: url });
await client.connect();
const copyTimes: number[] = [];
for (let run = 0; run < RUNS; run += 1) {
  const flowId = randomUUID();
  const dataImportId = randomUUID();
  await client.query('BEGIN');
  await client.query(
    `INSERT INTO crewai_flow_state_extensions (flow_id, client_account_id, engagement_id, user_id, flow_type)
     VALUES ($1, $2, $3, 'bench', 'discovery')`,
    [flowId, VIEWER.clientAccountId, VIEWER.engagementId],
  );
  await client.query(
    `INSERT INTO data_imports (id, client_account_id, engagement_id, master_flow_id, import_name, import_type, filename, imported_by)
     VALUES ($1, $2, $3, $4, 'copy', 'servers', 'copy.csv', 'bench')`,
    [dataImportId, VIEWER.clientAccountId, VIEWER.engagementId, flowId],
  );
  // The COPY payload is built before the clock starts: COPY is timed on the database's work alone.
  const prefix = `${dataImportId}\t${VIEWER.clientAccountId}\t${VIEWER.engagementId}\t${flowId}\t`;
  const payload: string[] = [];
  for (let index = 1; index < lines.length; index += 1) {
    const fields = lines[index]!.split(',');
    const json = JSON.stringify(Object.fromEntries(header.map((name, column) => [name, fields[column]])));
    // COPY text format: backslashes are escapes.
    payload.push(`${prefix}${index}\t${json.replaceAll('\\', '\\\\')}\tt\n`);
  }
  const chunks: string[] = [];
  for (let index = 0; index < payload.length; index += 2_000) chunks.push(payload.slice(index, index + 2_000).join(''));
  const started = performance.now();
  const stream = client.query(
    copyFrom(
      'COPY raw_import_records (data_import_id, client_account_id, engagement_id, master_flow_id, row_number, raw_data, is_valid) FROM STDIN',
    ),
  );
  await pipeline(Readable.from(chunks), stream);
  await client.query('COMMIT');
  copyTimes.push(performance.now() - started);
}
await client.end();

// --- storeImport over HTTP -----------------------------------------------------------------------------
const database = await openDatabase({ databaseUrl: url });
// The benchmark identifies its tenant with the development headers.
const app = buildApp({ ...loadConfig({ FLOWGRAPH_AUTH: 'dev', PORT: '0', HOST: '127.0.0.1', FLOWGRAPH_LOG_LEVEL: 'warn' }), debugSql: false }, database);
const appUrl = `http://127.0.0.1:${await app.start()}`;
const EVENT_TRIGGERS: Record<string, string[]> = {
  crewai_flow_state_extensions: ['master_flows_version', 'master_flows_events_on_insert', 'master_flows_events_on_update', 'master_flows_events_on_delete'],
  data_imports: ['data_imports_events_on_insert', 'data_imports_events_on_update', 'data_imports_events_on_delete'],
  discovery_flows: ['discovery_flows_events_on_insert', 'discovery_flows_events_on_update', 'discovery_flows_events_on_delete'],
};
async function setEventTriggers(enabled: boolean): Promise<void> {
  for (const [table, triggers] of Object.entries(EVENT_TRIGGERS)) {
    for (const trigger of triggers) await database.sql.exec(`ALTER TABLE ${table} ${enabled ? 'ENABLE' : 'DISABLE'} TRIGGER ${trigger}`);
  }
}
const importTimes: number[] = [];
const withoutTriggerTimes: number[] = [];
for (let run = 0; run < RUNS; run += 1) {
  for (const triggers of run % 2 === 0 ? [true, false] : [false, true]) {
    await setEventTriggers(triggers);
    const eventsBefore = Number((await database.sql.query<{ n: string }>('SELECT count(*)::text AS n FROM flow_events'))[0]!.n);
    const started = performance.now();
    const result = await uploadCsv(appUrl, csv, `bench-${run}-${triggers}.csv`);
    (triggers ? importTimes : withoutTriggerTimes).push(performance.now() - started);
    if (result.rawRecordCount !== ROWS) throw new Error(`imported ${result.rawRecordCount} rows, expected ${ROWS}`);
    const eventsAfter = Number((await database.sql.query<{ n: string }>('SELECT count(*)::text AS n FROM flow_events'))[0]!.n);
    if (eventsAfter - eventsBefore !== (triggers ? 2 : 0)) throw new Error(`the import appended ${eventsAfter - eventsBefore} events`);
  }
}
await setEventTriggers(true);
await app.stop();
await database.close();

const copyRate = ROWS / (median(copyTimes) / 1000);
const importRate = ROWS / (median(importTimes) / 1000);
const withoutTriggersRate = ROWS / (median(withoutTriggerTimes) / 1000);
const [version] = (await (async () => {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  const rows = (await c.query<{ server_version: string }>('SHOW server_version')).rows;
  await c.end();
  return rows;
})());
await dropScratchDatabase(base, benchDatabase);

const ms = (values: number[]) => values.map((value) => value.toFixed(0)).join(', ');
console.log(`rows: ${ROWS}, runs: ${RUNS} (median reported)`);
console.log(`COPY:        ${copyRate.toFixed(0)} rows/s  (runs in ms: ${ms(copyTimes)})`);
console.log(`storeImport: ${importRate.toFixed(0)} rows/s  (runs in ms: ${ms(importTimes)})`);
console.log(`storeImport without the event triggers: ${withoutTriggersRate.toFixed(0)} rows/s  (runs in ms: ${ms(withoutTriggerTimes)})`);
console.log(`ratio:       ${(importRate / copyRate).toFixed(2)} of COPY (target: at least 0.33)`);
console.log(`event triggers cost: ${((1 - importRate / withoutTriggersRate) * 100).toFixed(1)} % of the import rate (target: at most 5 %)`);
console.log(
  `machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB; load average ${os
    .loadavg()
    .map((load) => load.toFixed(1))
    .join(' ')}; node ${process.version}; PostgreSQL ${version?.server_version}`,
);
