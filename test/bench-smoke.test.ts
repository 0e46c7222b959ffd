// bench/repair-legacy.ts and bench/flow-events-fanout.ts at a tiny size, so the benchmarks keep working
// (they need PostgreSQL). Asserts what they measured on, never how fast.
import { describe, expect, it } from 'vitest';
import { onPostgres } from './support/test-database.ts';
import { workerDatabaseUrl } from './support/postgres-databases.ts';
import { runScript } from './support/server-process.ts';

describe.runIf(onPostgres)('bench/repair-legacy.ts (tiny size)', () => {
  it('builds a legacy database, repairs it through the CLIs and reports each step', async () => {
    const url = workerDatabaseUrl(process.env.TEST_DATABASE_URL!, `bench_${process.env.VITEST_POOL_ID ?? '1'}`);
    const result = await runScript('bench/repair-legacy.ts', ['--database-url', url, '--masters', '40', '--records-per-import', '5', '--json']);
    expect(result.code, result.output).toBe(0);
    const report = JSON.parse(result.output.slice(result.output.indexOf('{'))) as {
      before: { masters: number; raw_records: number };
      after: { masters: number; raw_records: number; adopted: number };
      runs: { step: string; exitCode: number; wallSeconds: number; peakRssMiB: number; stagesMs?: Record<string, number> }[];
    };
    expect(report.before).toMatchObject({ masters: 40, raw_records: 200 });
    expect(report.after).toMatchObject({ masters: 44, raw_records: 200, adopted: 4 });
    expect(report.runs.map((run) => [run.step, run.exitCode])).toEqual([
      ['doctor (legacy)', 1],
      ['repair (dry run)', 0],
      ['repair --apply', 0],
      ['doctor (repaired)', 0],
    ]);
    expect(Object.keys(report.runs[2]!.stagesMs ?? {})).toEqual(expect.arrayContaining(['plan', 'link', 'validate', 'finish']));
    expect(report.runs.every((run) => run.peakRssMiB > 0)).toBe(true);
  });
});

describe.runIf(onPostgres)('bench/flow-events-fanout.ts (tiny size)', () => {
  for (const writer of ['sql', 'sql-platform', 'prisma']) {
    it(`delivers every change to every subscriber and reports it (${writer} writer)`, async () => {
      const url = workerDatabaseUrl(process.env.TEST_DATABASE_URL!, `bench_events_${process.env.VITEST_POOL_ID ?? '1'}`);
      const result = await runScript('bench/flow-events-fanout.ts', [], {
        BENCH_DATABASE_URL: url,
        BENCH_WRITER: writer,
        BENCH_SUBSCRIBERS: '5',
        BENCH_RATE: '10',
        BENCH_SECONDS: '2',
        BENCH_WARM_UP_SECONDS: '1',
        BENCH_FLOWS: '3',
      });
      expect(result.code, result.output).toBe(0);
      const report = JSON.parse(result.output.slice(result.output.indexOf('{'))) as Record<string, unknown>;
      expect(report).toMatchObject({ subscribers: 5, writer, eventsWritten: 20, expectedDeliveries: 100, deliveredEvents: 100, lost: 0, overflows: 0, errors: 0 });
      expect((report.worstLatencyMsBySecondOfCommit as unknown[]).length).toBeGreaterThan(0);
      expect(report).toHaveProperty('writerCpuSeconds', expect.any(Number));
    });
  }
});

describe.runIf(onPostgres)('bench/lifecycle-mutations.ts (one short round, no baseline)', () => {
  it('runs pause/resume mutations against a server process and checks every answer and event', async () => {
    // The server's own database: the benchmark creates scratch databases of its own beside it.
    const server = new URL(process.env.TEST_DATABASE_URL!);
    server.pathname = '/postgres';
    const result = await runScript('bench/lifecycle-mutations.ts', [], {
      BENCH_DATABASE_URL: server.toString(),
      BENCH_SECONDS: '1',
      BENCH_ROUNDS: '1',
      BENCH_CONCURRENCY: '2',
      BENCH_FLOWS: '4',
    });
    expect(result.code, result.output).toBe(0);
    expect(result.output).toMatch(/current: +\d+ mutations\/s/);
  });
});
