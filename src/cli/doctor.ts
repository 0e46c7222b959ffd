// `npm run doctor -- --database-url URL [--json]` (or --data-dir DIR for embedded PGlite): read-only
// integrity report. Exit 0 when clean, 1 when it found problems, 2 when it could not inspect.
import { parseArgs } from 'node:util';
import { integrityReport } from '../services/integrity-report.ts';
import { describeTarget, EXIT, openSession, resolveTarget, UsageError } from './cli-database.ts';
import { integrityText } from './report-text.ts';

const USAGE = `usage: npm run doctor -- (--database-url postgres://… | --data-dir DIR) [--json] [--structure-only]`;

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        'database-url': { type: 'string' },
        'data-dir': { type: 'string' },
        json: { type: 'boolean', default: false },
        'structure-only': { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return EXIT.cannotInspect;
  }
  if (parsed.help) {
    console.log(USAGE);
    return EXIT.ok;
  }
  let session;
  let where = '';
  try {
    const target = resolveTarget(parsed, process.env);
    where = describeTarget(target);
    session = await openSession(target);
  } catch (error) {
    console.error(`flowgraph doctor: could not open the database: ${(error as Error).message}${error instanceof UsageError ? `\n${USAGE}` : ''}`);
    return EXIT.cannotInspect;
  }
  try {
    const report = await integrityReport(session, { data: !parsed['structure-only'] });
    console.log(parsed.json ? JSON.stringify(report, null, 2) : integrityText(report, where));
    if (report.shape === 'unrecognised') return EXIT.cannotInspect;
    return report.clean ? EXIT.ok : EXIT.problems;
  } catch (error) {
    console.error(`flowgraph doctor: could not inspect the database: ${(error as Error).message}`);
    return EXIT.cannotInspect;
  } finally {
    await session.close().catch(() => {});
  }
}

process.exitCode = await main();
