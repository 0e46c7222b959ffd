// One process per embedded data directory, as real processes: while a server runs on a PGlite directory, a
// second server, db:migrate, doctor and repair are refused at once with a message naming the directory and
// the server's pid, and change nothing (the server keeps serving and restarts on its data). A server killed
// with SIGKILL leaves its lock behind, and the next start takes it over at once; two starts at the same
// moment on that stale lock end with exactly one server.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCK_SOCKET } from '../src/db/data-dir-lock.ts';
import { DEMO_VIEWER } from '../src/services/demo-seed.ts';
import { viewerHeaders } from './support/graphql.ts';
import { runScript, startServer as startServerProcess, type ServerProcess } from './support/server-process.ts';
import { onPostgres } from './support/test-database.ts';

const ENV = { DATABASE_URL: '', FLOWGRAPH_SEED: '1' };

// Whatever a failed test left running is killed.
let started: ServerProcess[] = [];
afterEach(async () => {
  for (const server of started) await server.stop('SIGKILL');
  started = [];
});

async function startServer(env: Record<string, string>): Promise<ServerProcess> {
  const server = await startServerProcess(env);
  started.push(server);
  return server;
}

async function masterFlowCount(server: ServerProcess): Promise<number> {
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...viewerHeaders(DEMO_VIEWER) },
    body: JSON.stringify({ query: '{ masterFlows { totalCount } }' }),
  });
  const body = (await response.json()) as { data: { masterFlows: { totalCount: number } } };
  return body.data.masterFlows.totalCount;
}

async function timed<T>(work: Promise<T>): Promise<{ result: T; ms: number }> {
  const started = performance.now();
  const result = await work;
  return { result, ms: performance.now() - started };
}

// Embedded databases only: the PostgreSQL suite would run the same processes again.
describe.runIf(!onPostgres)('a PGlite data directory a server runs on', () => {
  it('refuses a second server, db:migrate, doctor and repair at once, naming the directory and the pid, and changes nothing', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flowgraph-lock-'));
    const env = { ...ENV, FLOWGRAPH_DATA_DIR: dataDir };
    let server = await startServer(env);
    try {
      const pid = server.child.pid!;
      expect(await masterFlowCount(server)).toBe(3);
      const holder = `(server, pid ${pid})`;

      const second = await timed(startServer(env).then(() => 'started', (error: Error) => error.message));
      expect(second.result).toContain(`cannot start. the embedded database ${dataDir} is in use by another flowgraph process ${holder}`);
      expect(second.result).not.toMatch(/\n\s+at /);
      const refusals = await Promise.all([
        timed(runScript('src/cli/migrate.ts', [], env)),
        timed(runScript('src/cli/doctor.ts', ['--data-dir', dataDir])),
        timed(runScript('src/cli/repair.ts', ['--data-dir', dataDir, '--apply'])),
      ]);
      const [migrate, doctor, repair] = refusals.map((refusal) => refusal.result);
      expect(migrate!.code).toBe(1);
      expect(doctor!.code).toBe(2);
      expect(repair!.code).toBe(2);
      for (const { result } of refusals) {
        expect(result.output).toContain(`the embedded database ${dataDir} is in use by another flowgraph process ${holder}`);
        expect(result.output).not.toMatch(/\n\s+at /);
      }
      // "At once": the server holds the lock throughout, so a process that waited for it would never end
      // (the test would time out). The bound only catches a wait that ends some other way; starting a process
      // through tsx takes seconds on a loaded machine.
      for (const { ms } of [second, ...refusals]) expect(ms).toBeLessThan(60_000);

      // The running server is unharmed, stops cleanly, and its data opens again: the refused processes
      // changed nothing.
      expect(await masterFlowCount(server)).toBe(3);
      expect(await server.stop('SIGTERM')).toBe(0);
      expect(existsSync(path.join(dataDir, LOCK_SOCKET))).toBe(false);
      const doctorAfter = await runScript('src/cli/doctor.ts', ['--data-dir', dataDir]);
      expect(doctorAfter.output).toContain('clean: no problem found');
      expect(doctorAfter.code).toBe(0);
      server = await startServer(env);
      expect(server.output()).toContain('migrations up to date');
      expect(await masterFlowCount(server)).toBe(3);
    } finally {
      await server.stop('SIGKILL');
    }
  }, 180_000);

  it('is locked through a short path when its own is too long for a Unix socket', async () => {
    const base = await mkdtemp(path.join(os.tmpdir(), 'flowgraph-lock-'));
    const dataDir = path.join(base, 'a-rather-long-directory-name-'.repeat(4));
    await mkdir(dataDir);
    expect(Buffer.byteLength(path.join(dataDir, LOCK_SOCKET))).toBeGreaterThan(108);
    const server = await startServer({ ...ENV, FLOWGRAPH_DATA_DIR: dataDir });
    try {
      const doctor = await runScript('src/cli/doctor.ts', ['--data-dir', dataDir]);
      expect(doctor.code).toBe(2);
      expect(doctor.output).toContain(`in use by another flowgraph process (server, pid ${server.child.pid})`);
    } finally {
      expect(await server.stop('SIGTERM')).toBe(0);
    }
    expect((await runScript('src/cli/doctor.ts', ['--data-dir', dataDir])).code).toBe(0);
  }, 120_000);
});

describe.runIf(!onPostgres)('the lock of a server killed with SIGKILL', () => {
  it('does not block the next start, and of two starts at the same moment exactly one runs', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flowgraph-lock-'));
    const env = { ...ENV, FLOWGRAPH_DATA_DIR: dataDir };
    const killed = await startServer(env);
    expect(await killed.stop('SIGKILL')).toBeNull();
    // The socket file is left behind: nothing removed it.
    expect(existsSync(path.join(dataDir, LOCK_SOCKET))).toBe(true);

    const next = await startServer(env);
    expect(next.output()).not.toContain('in use');
    expect(await masterFlowCount(next)).toBe(3);
    expect(await next.stop('SIGKILL')).toBeNull();
    expect(existsSync(path.join(dataDir, LOCK_SOCKET))).toBe(true);

    const outcomes = await Promise.allSettled([startServer(env), startServer(env)]);
    const started = outcomes.filter((outcome): outcome is PromiseFulfilledResult<ServerProcess> => outcome.status === 'fulfilled');
    const refused = outcomes.filter((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    try {
      expect(started).toHaveLength(1);
      expect(refused).toHaveLength(1);
      expect(String(refused[0]!.reason)).toContain(`in use by another flowgraph process (server, pid ${started[0]!.value.child.pid})`);
      expect(await masterFlowCount(started[0]!.value)).toBe(3);
    } finally {
      for (const outcome of started) expect(await outcome.value.stop('SIGTERM')).toBe(0);
    }
  }, 180_000);
});
