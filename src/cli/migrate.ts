// `npm run db:migrate`: applies pending migrations to DATABASE_URL (or the embedded database) and exits.
import { ConfigError, loadConfig } from '../config.ts';
import { DataDirLockedError } from '../db/data-dir-lock.ts';
import { MigrationFailedError, MigrationHistoryError } from '../db/migrator.ts';
import { openMigratedDatabase } from '../db/prepare.ts';

try {
  const config = loadConfig();
  const { database, applied } = await openMigratedDatabase(config, 'db:migrate');
  console.log(applied.length > 0 ? `applied: ${applied.join(', ')}` : 'no pending migrations');
  await database.close();
} catch (error) {
  const known =
    error instanceof ConfigError ||
    error instanceof DataDirLockedError ||
    error instanceof MigrationFailedError ||
    error instanceof MigrationHistoryError;
  console.error(known ? `flowgraph db:migrate: ${(error as Error).message}` : error);
  process.exitCode = 1;
}
