// `npm run doctor -- --database-url URL [--json]` (or --data-dir DIR for embedded PGlite): read-only
// integrity report. Exit 0 when clean, 1 when it found problems, 2 when it could not inspect.
import { parseArgs } from 'node:util';
import { integrityReport } from '../services/integrity-report.ts';
import { EXIT, withTargetSession } from './cli-database.ts';
import { DATABASE_OPTIONS, HELP_OPTION, helpText, parseArgsOptions, type CliHelp, type CliOptions } from './cli-options.ts';
import { integrityText } from './report-text.ts';

const USAGE = `usage: npm run doctor -- (--database-url postgres://… | --data-dir DIR) [--json] [--structure-only]`;

const OPTIONS = {
  ...DATABASE_OPTIONS,
  json: { type: 'boolean', description: 'Print the report as JSON, for scripts, instead of text.' },
  'structure-only': {
    type: 'boolean',
    description: 'Check the structure only and skip the table scans: fast on a large database, but row problems are not counted.',
  },
  ...HELP_OPTION,
} as const satisfies CliOptions;

const HELP: CliHelp = {
  usage: USAGE,
  summary:
    'Read-only integrity report of a flowgraph database or a legacy discovery database: the structure (foreign keys ' +
    'to flow_id with ON DELETE CASCADE, NOT NULL master flow and tenant columns, indexes, CHECK constraints, tenant ' +
    'triggers) and the rows (NULL or dangling master_flow_id, children in another tenant than their master flow, ' +
    'values the CHECKs refuse, duplicate row numbers), with counts and sample ids. It never writes.',
  options: OPTIONS,
  examples: [
    { command: 'npm run doctor -- --database-url postgres://user:password@host:5432/discovery', does: 'Report on a PostgreSQL database.' },
    { command: 'npm run doctor -- --data-dir ./.flowgraph/pglite --structure-only', does: 'Check only the structure of the embedded database.' },
    { command: 'DATABASE_URL=postgres://… npm run doctor -- --json > report.json', does: 'The database from DATABASE_URL, the report as JSON.' },
  ],
  exitCodes: [
    { code: EXIT.ok, means: 'clean: nothing to repair' },
    { code: EXIT.problems, means: 'problems found (the report lists them; `npm run repair` fixes what evidence allows)' },
    { code: EXIT.cannotInspect, means: 'could not inspect: wrong arguments, database unreachable, or a shape it does not recognise' },
  ],
};

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      options: parseArgsOptions(OPTIONS),
      strict: true,
    }).values;
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return EXIT.cannotInspect;
  }
  if (parsed.help) {
    console.log(helpText(HELP));
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
