// Node-side CPU per request of flowgraph for one benchmark query, measured in-process (Yoga's fetch, no
// sockets on the HTTP side) as the best of several batches, which is far less noisy on a shared machine than
// a load run. For comparing changes to the read path quickly:
//
//   npm run bench:reads:cpu -- --query b --flows 1000
//
// The fixture must exist (npm run bench:reads creates fg_bench_reads_<flows>).
import { parseArgs } from 'node:util';
import pg from 'pg';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/database.ts';
import { databaseUrl } from './reads-fixture.ts';
import { BodyChecker } from './reads-load.ts';
import { benchRequest, expectedAnswer, type QueryName } from './reads-queries.ts';
import { benchToken, FLOWGRAPH_BENCH_ENV } from './reads-servers.ts';

const { values: args } = parseArgs({
  options: {
    query: { type: 'string', default: 'b' },
    flows: { type: 'string', default: '1000' },
    batches: { type: 'string', default: '10' },
    batch: { type: 'string', default: '80' },
    concurrency: { type: 'string', default: '8' },
    'debug-sql': { type: 'boolean', default: false },
  },
});
const query = args.query as QueryName;
const url = databaseUrl(process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres', `fg_bench_reads_${args.flows}`);

const client = new pg.Client({ connectionString: url });
await client.connect();
const { rows } = await client.query('SELECT client_account_id, engagement_id, flow_id FROM crewai_flow_state_extensions ORDER BY created_at LIMIT 1');
const tenant = { clientAccountId: rows[0].client_account_id, engagementId: rows[0].engagement_id, userId: 'bench-user' };
const context = { tenant, subjectFlowId: rows[0].flow_id, token: await benchToken(tenant) };
const checker = new BodyChecker('flowgraph', query, await expectedAnswer(client, query, context));
await client.end();

const database = await openDatabase({ databaseUrl: url, poolSize: 10 });
const app = buildApp({ ...loadConfig({ ...FLOWGRAPH_BENCH_ENV, DATABASE_URL: url }), debugSql: args['debug-sql'] }, database);
const request = benchRequest('flowgraph', query, context);
const send = async () => {
  const response = await app.yoga.fetch(`http://bench${request.path}`, { method: 'POST', headers: request.headers, body: request.body });
  checker.check(await response.text());
};

const size = Number(args.batch);
const concurrency = Number(args.concurrency);
async function batch(): Promise<number> {
  let next = 0;
  const before = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < size) {
      next += 1;
      await send();
    }
  }));
  const used = process.cpuUsage(before);
  return (used.user + used.system) / 1000 / size;
}

for (let i = 0; i < 3; i += 1) await batch(); // warm-up
const results: number[] = [];
for (let i = 0; i < Number(args.batches); i += 1) results.push(await batch());
results.sort((a, b) => a - b);
console.log(`(${query}) flowgraph CPU per request: best ${results[0]!.toFixed(2)} ms, median ${results[Math.floor(results.length / 2)]!.toFixed(2)} ms (${args.batches} batches of ${size}, concurrency ${concurrency})`);
await database.close();
process.exit(0);
