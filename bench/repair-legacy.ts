// Benchmark: `npm run repair -- --apply` on a legacy database of 10,000 master flows and 1,000,000 raw
// import records (by default), on PostgreSQL. Builds the database with set-based SQL, then runs the doctor,
// the dry run and the repair as the real CLI processes under /usr/bin/time, and prints wall time and peak
// resident memory of each. See bench/README.md; results go to bench/RESULTS.md.
//
//   npx tsx bench/repair-legacy.ts [--database-url postgres://postgres@127.0.0.1:5432/fg_issue5_bench]
//                                  [--masters 10000] [--records-per-import 100] [--keep]
//
// The generated evidence mix, per master flow i (one data import each, `--records-per-import` raw records
// each, tenant columns of imports and raw records mostly NULL, as in production):
//   i % 10 in 0..3  master named 'Discovery Import <import id>'   (0 also has a discovery flow naming the import)
//   i % 10 in 4..6  flow_configuration.data_import_id            (4 also has a discovery flow naming the import)
//   i % 10 in 7..8  only a discovery flow: flow_id = master's, data_import_id = the import
//   i % 10 = 9      no evidence: the import (tenant set) and its records are adopted
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { LEGACY_SCHEMA } from '../test/support/legacy-fixtures.ts';
import { recreateDatabase, dropDatabase } from '../test/support/postgres-databases.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

const { values } = parseArgs({
  options: {
    'database-url': { type: 'string', default: 'postgres://postgres@127.0.0.1:5432/fg_issue5_bench' },
    masters: { type: 'string', default: '10000' },
    'records-per-import': { type: 'string', default: '100' },
    tenants: { type: 'string', default: '50' },
    keep: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});
const url = values['database-url']!;
const masters = Number(values.masters);
const perImport = Number(values['records-per-import']);
const tenants = Number(values.tenants);

async function build(): Promise<number> {
  const started = performance.now();
  await recreateDatabase(url);
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(LEGACY_SCHEMA);
    // Deterministic ids: md5 of a label, read as a uuid.
    await client.query(
      `INSERT INTO crewai_flow_state_extensions (id, flow_id, client_account_id, engagement_id, user_id, flow_type, flow_name, flow_status,
                                                 flow_configuration, created_at)
       SELECT md5('master' || i)::uuid, md5('flow' || i)::uuid, md5('client' || i % $2)::uuid, md5('engagement' || i % $2)::uuid,
              'bench', 'discovery',
              CASE WHEN i % 10 < 4 THEN 'Discovery Import ' || md5('import' || i)::uuid ELSE 'Flow ' || i END,
              (ARRAY['running', 'paused', 'completed', 'in_progress'])[1 + i % 4],
              CASE WHEN i % 10 BETWEEN 4 AND 6 THEN jsonb_build_object('data_import_id', md5('import' || i)::uuid) ELSE '{}'::jsonb END,
              timestamptz '2025-01-01' + i * interval '1 minute'
         FROM generate_series(1, $1) i`,
      [masters, tenants],
    );
    await client.query(
      `INSERT INTO data_imports (id, client_account_id, engagement_id, import_name, import_type, filename, status, total_records,
                                 imported_by, created_at)
       SELECT md5('import' || i)::uuid,
              CASE WHEN i % 10 = 9 OR i % 3 = 0 THEN md5('client' || i % $2)::uuid END,
              CASE WHEN i % 10 = 9 OR i % 3 = 0 THEN md5('engagement' || i % $2)::uuid END,
              'servers ' || i, 'servers', 'servers-' || i || '.csv', 'completed', $3, 'bench',
              timestamptz '2025-01-01' + i * interval '1 minute' + interval '5 seconds'
         FROM generate_series(1, $1) i`,
      [masters, tenants, perImport],
    );
    await client.query(
      `INSERT INTO discovery_flows (flow_id, client_account_id, engagement_id, user_id, data_import_id, status, current_phase,
                                    progress_percentage, data_import_completed, created_at)
       SELECT md5('flow' || i)::uuid, md5('client' || i % $2)::uuid, md5('engagement' || i % $2)::uuid, 'bench',
              md5('import' || i)::uuid, 'active', 'data_validation', 20, true,
              timestamptz '2025-01-01' + i * interval '1 minute' + interval '10 seconds'
         FROM generate_series(1, $1) i WHERE i % 10 IN (0, 4, 7, 8)`,
      [masters, tenants],
    );
    await client.query(
      `INSERT INTO raw_import_records (data_import_id, row_number, raw_data, is_valid)
       SELECT md5('import' || i)::uuid, r, jsonb_build_object('hostname', 'host-' || i || '-' || r, 'cores', r % 16), r % 10 <> 0
         FROM generate_series(1, $1) i, generate_series(1, $2) r`,
      [masters, perImport],
    );
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
  return performance.now() - started;
}

interface Run {
  step: string;
  exitCode: number | null;
  wallSeconds: number;
  peakRssMiB: number;
  /** The repair's own stage durations (from its --json report). */
  stagesMs?: Record<string, number>;
}

/** Runs a CLI of the project under /usr/bin/time (GNU time: elapsed seconds and max RSS in KiB). */
function run(step: string, script: string, args: string[]): Run {
  if (!existsSync('/usr/bin/time')) throw new Error('this benchmark needs GNU time at /usr/bin/time (apt-get install time)');
  const result = spawnSync('/usr/bin/time', ['-f', 'FLOWGRAPH_TIME %e %M', process.execPath, '--import', 'tsx', script, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 512 * 1024 * 1024,
    env: { ...process.env, DATABASE_URL: '' },
  });
  const match = /FLOWGRAPH_TIME ([\d.]+) (\d+)/.exec(result.stderr);
  if (!match) throw new Error(`${step}: no timing in output:\n${result.stderr}`);
  if (step === 'repair --apply' && result.status !== 0) throw new Error(`${step} failed:\n${result.stdout}\n${result.stderr}`);
  const stagesMs = args.includes('--json') ? (JSON.parse(result.stdout) as { durationsMs: Record<string, number> }).durationsMs : undefined;
  return { step, exitCode: result.status, wallSeconds: Number(match[1]), peakRssMiB: Math.round(Number(match[2]) / 1024), ...(stagesMs ? { stagesMs } : {}) };
}

interface Counts {
  masters: number;
  imports: number;
  raw_records: number;
  discovery_flows: number;
  adopted: number;
}

async function counts(): Promise<Counts> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<Record<string, string>>(
      `SELECT (SELECT count(*) FROM crewai_flow_state_extensions) AS masters, (SELECT count(*) FROM data_imports) AS imports,
              (SELECT count(*) FROM raw_import_records) AS raw_records, (SELECT count(*) FROM discovery_flows) AS discovery_flows,
              (SELECT count(*) FROM crewai_flow_state_extensions WHERE flow_configuration ->> 'recovered' = 'true') AS adopted`,
    );
    return Object.fromEntries(Object.entries(rows[0]!).map(([key, value]) => [key, Number(value)])) as unknown as Counts;
  } finally {
    await client.end();
  }
}

const buildMs = await build();
const before = await counts();
const runs = [
  run('doctor (legacy)', 'src/cli/doctor.ts', ['--database-url', url]),
  run('repair (dry run)', 'src/cli/repair.ts', ['--database-url', url, '--json']),
  run('repair --apply', 'src/cli/repair.ts', ['--database-url', url, '--apply', '--json']),
  run('doctor (repaired)', 'src/cli/doctor.ts', ['--database-url', url]),
];
const after = await counts();
if (!values.keep) await dropDatabase(url);

const result = {
  date: new Date().toISOString(),
  machine: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, load ${os.loadavg().map((load) => load.toFixed(2)).join(' ')}`,
  node: process.version,
  database: url.replace(/\/\/[^@]*@/, '//…@'),
  size: { masters, recordsPerImport: perImport, tenants },
  buildSeconds: Math.round(buildMs / 100) / 10,
  before,
  after,
  runs,
};
if (values.json) console.log(JSON.stringify(result, null, 2));
else {
  console.log(`legacy database: ${before.masters} master flows, ${before.imports} imports, ${before.raw_records} raw records, ${before.discovery_flows} discovery flows (built in ${result.buildSeconds} s)`);
  for (const step of runs) {
    const stages = step.stagesMs ? `  (${Object.entries(step.stagesMs).map(([stage, ms]) => `${stage} ${(ms / 1000).toFixed(1)} s`).join(', ')})` : '';
    console.log(`${step.step.padEnd(20)} exit ${step.exitCode}  ${step.wallSeconds.toFixed(2)} s  peak RSS ${step.peakRssMiB} MiB${stages}`);
  }
  console.log(`after: ${after.masters} master flows (${after.adopted} adopted), ${after.raw_records} raw records`);
  console.log(`machine: ${result.machine}; node ${result.node}`);
}
if (after.raw_records !== before.raw_records || after.imports !== before.imports || after.masters !== before.masters + after.adopted) {
  console.error('row counts changed unexpectedly');
  process.exitCode = 1;
}
