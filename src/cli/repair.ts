// `npm run repair -- --database-url URL [--apply] [--json] [--map-status table.column:from=to ...]`
// (or --data-dir DIR for embedded PGlite). Without --apply it is a dry run: it prints exactly what it
// would change and changes nothing.
// Exit 0: planned (dry run), applied, finished, or nothing to do. 1: refused (problems only a person can
// decide; nothing changed) or failed (the message says what state the database is in). 2: could not
// open the database, the arguments are wrong, or the database's shape is not recognised (nothing changed).
import { parseArgs } from 'node:util';
import { MigrationFailedError, MigrationHistoryError } from '../db/migrator.ts';
import { parseOperatorMapping, StatusMappingError, type OperatorMapping } from '../domain/legacy-values.ts';
import { RepairFailedError, repairDatabase, UnrecognisedDatabaseError } from '../services/legacy-repair.ts';
import { EXIT, withTargetSession } from './cli-database.ts';
import { DATABASE_OPTIONS, HELP_OPTION, helpText, parseArgsOptions, type CliHelp, type CliOptions } from './cli-options.ts';
import { repairText } from './report-text.ts';

const USAGE =
  'usage: npm run repair -- (--database-url postgres://… | --data-dir DIR) [--apply] [--json] [--map-status table.column:from=to …]';

const OPTIONS = {
  ...DATABASE_OPTIONS,
  apply: {
    type: 'boolean',
    description:
      'Make the changes. Without it the repair is a dry run: it prints every change and SQL statement it would make ' +
      'and changes nothing. With it, everything is re-read under exclusive locks and changed in one transaction; ' +
      'running it again after an interruption finishes the repair.',
  },
  json: { type: 'boolean', description: 'Print the report as JSON, for scripts, instead of text.' },
  'map-status': {
    type: 'string',
    value: 'table.column:from=to',
    multiple: true,
    description:
      'What a status value the CHECK constraints refuse becomes, where the built-in rules (letter case, a few ' +
      'synonyms) do not decide it: table.column names the status column (crewai_flow_state_extensions.flow_status, ' +
      'data_imports.status, discovery_flows.status), from the stored value, to an allowed one. Without a mapping such ' +
      'a value stops the repair (exit 1) with the values, counts and ids.',
  },
  ...HELP_OPTION,
} as const satisfies CliOptions;

const HELP: CliHelp = {
  usage: USAGE,
  summary:
    'Repairs a legacy discovery database into a flowgraph database: links every child row to its master flow from ' +
    'evidence only (never from time proximity), adopts the rows it cannot link into new master flows of their own ' +
    'tenant, maps refused status values, then adds the constraints and records the migrations. Nothing is deleted ' +
    'and no row changes tenant. Run `npm run doctor` before and after.',
  options: OPTIONS,
  examples: [
    { command: 'npm run repair -- --database-url postgres://user:password@host:5432/discovery', does: 'Dry run: print what the repair would change.' },
    { command: 'npm run repair -- --database-url postgres://user:password@host:5432/discovery --apply', does: 'Repair.' },
    {
      command: 'npm run repair -- --data-dir ./.flowgraph/pglite --map-status data_imports.status:validated=completed --apply',
      does: 'Repair an embedded database, turning the import status "validated" into "completed".',
    },
  ],
  exitCodes: [
    { code: EXIT.ok, means: 'planned (dry run), applied, finished, or nothing to do' },
    { code: EXIT.problems, means: 'refused (data only a person can decide; nothing changed) or failed (the message says what state the database is in)' },
    { code: EXIT.cannotInspect, means: 'wrong arguments, database unreachable, or a shape it does not recognise (nothing changed)' },
  ],
};

async function main(): Promise<number> {
  let parsed;
  let mappings: OperatorMapping[];
  try {
    parsed = parseArgs({
      options: parseArgsOptions(OPTIONS),
      strict: true,
    }).values;
    mappings = (parsed['map-status'] ?? []).map(parseOperatorMapping);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return EXIT.cannotInspect;
  }
  if (parsed.help) {
    console.log(helpText(HELP));
    return EXIT.ok;
  }
  return withTargetSession('repair', USAGE, parsed, async (session, where) => {
    try {
      const report = await repairDatabase(session, { apply: parsed.apply, statusMappings: mappings });
      console.log(parsed.json ? JSON.stringify(report, null, 2) : repairText(report, where));
      return report.outcome === 'refused' ? EXIT.problems : EXIT.ok;
    } catch (error) {
      if (error instanceof UnrecognisedDatabaseError) {
        console.error(`flowgraph repair: ${where}\n${error.message}`);
        return EXIT.cannotInspect;
      }
      if (error instanceof MigrationFailedError || error instanceof MigrationHistoryError) {
        console.error(`flowgraph repair: the repair is complete, but applying the later migrations failed.\n${error.message}`);
        return EXIT.problems;
      }
      if (error instanceof RepairFailedError || error instanceof StatusMappingError) {
        console.error(`flowgraph repair: ${error.message}`);
        return EXIT.problems;
      }
      console.error('flowgraph repair: unexpected error; the link stage is all or nothing, run doctor to see the state.', error);
      return EXIT.problems;
    }
  });
}

process.exitCode = await main();
