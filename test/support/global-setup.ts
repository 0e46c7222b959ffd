// With TEST_DATABASE_URL set, every worker gets a fresh PostgreSQL database with the migrations applied.
import { applyMigrations } from '../../src/db/migrator.ts';
import { postgresSession } from '../../src/db/sql-session.ts';
import { dropDatabase, recreateDatabase, workerDatabaseUrl } from './postgres-databases.ts';

const WORKERS = 8; // VITEST_POOL_ID stays within maxWorkers; a few spare ids cost nothing

export async function setup(): Promise<() => Promise<void>> {
  const base = process.env.TEST_DATABASE_URL;
  if (!base) return async () => {};
  const urls = Array.from({ length: WORKERS }, (_unused, index) => workerDatabaseUrl(base, index + 1));
  for (const url of urls) {
    await recreateDatabase(url);
    const session = await postgresSession(url);
    try {
      await applyMigrations(session);
    } finally {
      await session.close();
    }
  }
  return async () => {
    for (const url of urls) await dropDatabase(url);
  };
}
