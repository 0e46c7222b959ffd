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
import { repairText } from './report-text.ts';

const USAGE =
  'usage: npm run repair -- (--database-url postgres://… | --data-dir DIR) [--apply] [--json] [--map-status table.column:from=to …]';

async function main(): Promise<number> {
  let parsed;
  let mappings: OperatorMapping[];
  try {
    parsed = parseArgs({
      options: {
        'database-url': { type: 'string' },
        'data-dir': { type: 'string' },
        apply: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        'map-status': { type: 'string', multiple: true, default: [] },
        help: { type: 'boolean', default: false },
      },
      strict: true,
    }).values;
    mappings = (parsed['map-status'] ?? []).map(parseOperatorMapping);
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return EXIT.cannotInspect;
  }
  if (parsed.help) {
    console.log(USAGE);
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
