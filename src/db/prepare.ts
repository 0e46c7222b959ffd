// What every entry point does before serving: open the database and bring its schema up to date.
import type { Config, LimitsConfig } from '../config.ts';
import { openDatabase, type Database } from './database.ts';
import { applyMigrations } from './migrator.ts';

export async function openMigratedDatabase(
  config: Pick<Config, 'databaseUrl' | 'dataDir'> &
    Partial<Pick<Config, 'preparedReads'>> & {
      limits?: Pick<LimitsConfig, 'dbConnectTimeoutMs' | 'statementTimeoutMs'> & Partial<Pick<LimitsConfig, 'maxResponseBytes'>>;
    },
  /** Who opens the database (named when a second process is refused an embedded data directory). */
  command = 'flowgraph',
): Promise<{
  database: Database;
  applied: string[];
}> {
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: config.dataDir,
    connectTimeoutMs: config.limits?.dbConnectTimeoutMs,
    statementTimeoutMs: config.limits?.statementTimeoutMs,
    prepareReads: config.preparedReads,
    command,
    maxResultBytes: config.limits?.maxResponseBytes,
  });
  try {
    const applied = await applyMigrations(database.sql);
    return { database, applied };
  } catch (error) {
    await database.close();
    throw error;
  }
}
