#!/usr/bin/env bash
# The production install as the README's "Deploying" section describes it, on a fresh clone of the committed
# code: `npm ci --omit=dev` (no development dependency, no engine warning), then the server (what `npm start` runs) with
# NODE_ENV=production on PostgreSQL; /ready, one authenticated query (an empty database: production seeds
# nothing), /metrics behind its token, SIGTERM. Run by .ci/run; needs PostgreSQL on 127.0.0.1:5432.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
db="flowgraph_production_check_$$"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid" 2>/dev/null || true; fi
  psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "production install check: $1" >&2; [ -f "$work/server.log" ] && sed 's/^/  server: /' "$work/server.log" >&2; exit 1; }

git clone --quiet "$repo" "$work/flowgraph"
cd "$work/flowgraph"
npm ci --omit=dev --no-audit --no-fund 2>&1 | tee "$work/npm-ci.log"
if grep -q EBADENGINE "$work/npm-ci.log"; then fail "npm ci printed engine warnings"; fi
[ ! -e node_modules/vitest ] || fail "a development dependency was installed"
[ -f dashboard/dist/index.html ] || fail "the dashboard was not built"

psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $db"
port="$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')"
secret="$(node -e 'console.log(require("crypto").randomBytes(32).toString("hex"))')"
metrics_token="$(node -e 'console.log(require("crypto").randomBytes(24).toString("hex"))')"
export NODE_ENV=production DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db" PORT="$port" HOST=127.0.0.1 \
  FLOWGRAPH_JWT_SECRET="$secret" FLOWGRAPH_JWT_ISSUER=https://issuer.example/ FLOWGRAPH_JWT_AUDIENCE=flowgraph \
  FLOWGRAPH_METRICS_TOKEN="$metrics_token"
# What `npm start` runs, started directly as a process manager should (npm does not pass SIGTERM on).
node --max-old-space-size=256 --import tsx src/server.ts >"$work/server.log" 2>&1 &
server_pid=$!

# Everything below talks HTTP through Node's fetch, and signs the token with the installed jose.
node --input-type=module - <<'EOF' || fail "the production server did not answer as expected"
import { SignJWT } from 'jose';
const base = `http://127.0.0.1:${process.env.PORT}`;
const deadline = Date.now() + 120_000;
for (;;) {
  const status = await fetch(`${base}/ready`).then((response) => response.status, () => 0);
  if (status === 200) break;
  if (Date.now() > deadline) throw new Error(`/ready did not answer 200 within 120 s (last: ${status})`);
  await new Promise((resolve) => setTimeout(resolve, 250));
}
const token = await new SignJWT({ client_account_id: crypto.randomUUID(), engagement_id: crypto.randomUUID(), roles: ['viewer'] })
  .setProtectedHeader({ alg: 'HS256' })
  .setSubject('production-check')
  .setIssuer(process.env.FLOWGRAPH_JWT_ISSUER)
  .setAudience(process.env.FLOWGRAPH_JWT_AUDIENCE)
  .setIssuedAt()
  .setExpirationTime('5m')
  .sign(new TextEncoder().encode(process.env.FLOWGRAPH_JWT_SECRET));
const query = (authorization) =>
  fetch(`${base}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
    body: JSON.stringify({ query: '{ masterFlows { totalCount } }' }),
  });
const anonymous = await query();
if (anonymous.status !== 401) throw new Error(`a query without a token got ${anonymous.status}, not 401`);
const answer = await (await query(`Bearer ${token}`)).json();
if (JSON.stringify(answer) !== '{"data":{"masterFlows":{"totalCount":0}}}') throw new Error(`unexpected answer ${JSON.stringify(answer)}`);
if ((await fetch(`${base}/metrics`)).status !== 401) throw new Error('/metrics answered without its token');
const metrics = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${process.env.FLOWGRAPH_METRICS_TOKEN}` } });
if (metrics.status !== 200) throw new Error(`/metrics with its token got ${metrics.status}`);
if ((await fetch(`${base}/graphql`, { headers: { accept: 'text/html' } })).status === 200) throw new Error('GraphiQL is served in production');
const dashboard = await fetch(`${base}/dashboard/`);
if (dashboard.status !== 200) throw new Error(`the dashboard got ${dashboard.status}`);
console.log(`production server on port ${process.env.PORT}: ready, query answered, metrics protected, dashboard served`);
EOF

kill -TERM "$server_pid"
code=0
wait "$server_pid" || code=$?
server_pid=""
[ "$code" -eq 0 ] || fail "the server exited with $code after SIGTERM"
grep -q 'flowgraph: stopped' "$work/server.log" || fail "the server did not report a clean stop"
if grep -q 'seeded the demo tenant' "$work/server.log"; then fail "production seeded the demo tenant"; fi
echo "production install check: passed"
