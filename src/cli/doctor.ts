// `npm run doctor -- --database-url URL [--json]` (or --data-dir DIR for embedded PGlite): read-only
// integrity report. Exit 0 when clean, 1 when it found problems, 2 when it could not inspect.
import { parseArgs } from 'node:util';
import { integrityReport } from '../services/integrity-report.ts';
import { EXIT, withTargetSession } from './cli-database.ts';
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
  return withTargetSession('doctor', USAGE, parsed, async (session, where) => {
    try {
      const report = await integrityReport(session, { data: !parsed['structure-only'] });
      console.log(parsed.json ? JSON.stringify(report, null, 2) : integrityText(report, where));
      if (report.shape === 'unrecognised') return EXIT.cannotInspect;
      return report.clean ? EXIT.ok : EXIT.problems;
    } catch (error) {
      console.error(`flowgraph doctor: could not inspect the database: ${(error as Error).message}`);
      return EXIT.cannotInspect;
    }
  });
}

process.exitCode = await main();
