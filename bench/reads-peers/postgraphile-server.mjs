// PostGraphile v5 over the benchmark database, as the read benchmark's peer (bench/reads-run.ts starts it
// under the Node 22 binary installed next to it). Plain JavaScript because it runs from this bench-local
// package (PostGraphile is not one of flowgraph's dependencies, so the project's typecheck cannot see it).
//
// Configuration: the recommended base preset (Amber), production mode, no GraphiQL, no explain, no
// watch; the same pool size as flowgraph (10). Tenant scoping uses `condition:` arguments in the queries
// (bench/reads-queries.ts), not row-level security, so PostGraphile pays no per-request transaction.
//
// Environment: DATABASE_URL, PORT (0 = any), POOL_SIZE. Prints `listening on <port>` when ready.
// GET /__bench/statements returns how many SQL statements its connections have sent so far.
import { createServer } from 'node:http';
import pg from 'pg';
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.POOL_SIZE ?? 10) });
let statements = 0;
pool.on('connect', (client) => {
  const query = client.query;
  client.query = function countedQuery(...args) {
    statements += 1;
    return query.apply(this, args);
  };
});
pool.on('error', (error) => console.error('pool error', error));

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [makePgService({ pool, schemas: ['public'] })],
  grafserv: { graphqlPath: '/graphql', graphiql: false, watch: false },
  grafast: { explain: false },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const handler = serv.createHandler();
const server = createServer((req, res) => {
  if (req.url === '/__bench/statements') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ statements }));
    return;
  }
  handler(req, res, () => {
    res.writeHead(404);
    res.end();
  });
});

if (process.argv.includes('--print-schema')) {
  const { printSchema } = await import('postgraphile/graphql');
  console.log(printSchema(await pgl.getSchema()));
  await pgl.release();
  await pool.end();
  process.exit(0);
}

await pgl.getSchema();
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});

const stop = async () => {
  server.close();
  server.closeAllConnections();
  await pgl.release();
  await pool.end();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
