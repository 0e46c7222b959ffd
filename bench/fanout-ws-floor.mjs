// The floor under bench/flow-events-fanout.ts: a bare `ws` server (no GraphQL, no graphql-ws, no promises)
// sending one text frame of a flow event's size to each of N sockets, RATE times a second, in a synchronous
// loop, to clients in a second process that parse every message. Its CPU per delivery is what one socket per
// subscriber and one write per message cost on the machine, whatever the server does on top. Each message
// carries the time it was sent; the clients report the latency from that send to their receipt, which is
// the best latency any server can offer on the machine at that load (the benchmark's own clients included).
//
//   node bench/fanout-ws-floor.mjs   (N=1000 RATE=50 SECONDS=10 by default; MODE=cb passes a write callback
//   per send, as graphql-ws/use/ws does; Linux only: /proc)
import { WebSocketServer, WebSocket } from 'ws';
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
const N = Number(process.env.N ?? 1000), RATE = Number(process.env.RATE ?? 50), SECONDS = Number(process.env.SECONDS ?? 10);
const MODE = process.env.MODE ?? 'send';
function cpuTimes(pid) { const s = readFileSync(`/proc/${pid}/stat`, 'utf8'); const f = s.slice(s.lastIndexOf(')') + 2).split(' '); return { total: (Number(f[11]) + Number(f[12])) / 100, system: Number(f[12]) / 100 }; }
if (process.argv[2] === 'client') {
  const port = Number(process.argv[3]); let got = 0; const socks = [];
  const latencies = new Float64Array(N * RATE * SECONDS);
  const now = () => performance.timeOrigin + performance.now();
  for (let i = 0; i < N; i++) { const ws = new WebSocket(`ws://127.0.0.1:${port}/`); ws.on('message', (d) => { const message = JSON.parse(String(d)); if (got < latencies.length) latencies[got] = now() - message.payload.sentAt; got++; }); socks.push(ws); }
  setInterval(() => {
    if (got < latencies.length) return process.send({ got });
    const sorted = latencies.sort(); const at = (p) => Number(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))].toFixed(1));
    process.send({ got, latencyMs: { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: Number(sorted.at(-1).toFixed(1)) } });
  }, 500);
} else {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  const client = fork(new URL(import.meta.url).pathname, ['client', String(wss.address().port)]);
  let got = 0; let latencyMs; client.on('message', (m) => { got = m.got; latencyMs = m.latencyMs; });
  while (wss.clients.size < N) await new Promise((r) => setTimeout(r, 100));
  const payloadOf = (sentAt) => JSON.stringify({ sentAt, data: { flowEvents: { __typename: 'FlowEvent', cursor: 'ZmU6MTIzNDU2', kind: 'MASTER_FLOW_STATUS_CHANGED', time: new Date().toISOString(), actor: 'bench-user-0000', flowId: '0d7c1b9e-7a4e-4a52-9a7f-2f1c8b8e1a11', payload: { from: 'running', to: 'paused', version: 12 } } } });
  const bytes = payloadOf(performance.timeOrigin + performance.now()).length;
  const c0 = cpuTimes(process.pid); const t0 = Date.now(); let n = 0;
  const timer = setInterval(() => {
    let i = 0;
    const payload = payloadOf(performance.timeOrigin + performance.now());
    for (const ws of wss.clients) { const msg = `{"id":"${(i++).toString(16).padStart(8,'0')}-aaaa-4bbb-8ccc-dddddddddddd","type":"next","payload":${payload}}`; if (MODE === 'cb') ws.send(msg, () => {}); else ws.send(msg); }
    if (++n >= RATE * SECONDS) clearInterval(timer);
  }, 1000 / RATE);
  while ((got < N * RATE * SECONDS || !latencyMs) && Date.now() - t0 < (SECONDS + 30) * 1000) await new Promise((r) => setTimeout(r, 100));
  const c1 = cpuTimes(process.pid), secs = c1.total - c0.total, cl = cpuTimes(client.pid);
  console.log(JSON.stringify({ N, RATE, SECONDS, delivered: got, wall: (Date.now() - t0) / 1000, serverCpu: secs, serverSystemCpu: c1.system - c0.system, usPerDelivery: (secs * 1e6) / got, clientCpuTotal: cl.total, clientSystemCpu: cl.system, bytes, latencyMs, load: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ') }));
  client.kill(); process.exit(0);
}
