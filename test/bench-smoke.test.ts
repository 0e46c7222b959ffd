// bench/repair-legacy.ts at a tiny size, so the benchmark keeps working (it needs PostgreSQL). Asserts what
// it measured on, never how fast.
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
