// Entry point of `npm start`: configuration, database, migrations, demo data, then the server.
import { buildApp, GRAPHQL_PATH } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { MigrationFailedError, MigrationHistoryError } from './db/migrator.ts';
import { openMigratedDatabase } from './db/prepare.ts';
import { DASHBOARD_PATH } from './http/dashboard.ts';
import { VIEWER_HEADERS } from './http/viewer.ts';
import { DEMO_VIEWER, seedDemoTenant } from './services/demo-seed.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  const where = config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${config.dataDir}`;
  console.log(`flowgraph: opening ${where}`);
  const { database, applied } = await openMigratedDatabase(config);
  console.log(applied.length > 0 ? `flowgraph: applied migrations ${applied.join(', ')}` : 'flowgraph: migrations up to date');
  if (config.seed && (await seedDemoTenant(database.prisma))) console.log('flowgraph: seeded the demo tenant');

  const app = buildApp(
    {
      ...config,
      onImportProgress: ({ dataImportId, rowsStored }) =>
        console.log(`flowgraph: import ${dataImportId}: ${rowsStored} rows stored, not committed yet`),
    },
    database,
  );
  const port = await app.start();
  const base = `http://localhost:${port}`;
  console.log(`flowgraph: GraphiQL at ${base}${GRAPHQL_PATH}`);
  console.log(`flowgraph: dashboard at ${base}${DASHBOARD_PATH}/`);
  console.log(`flowgraph: demo tenant headers (GraphiQL has them prefilled):`);
  console.log(`  ${VIEWER_HEADERS.clientAccountId}: ${DEMO_VIEWER.clientAccountId}`);
  console.log(`  ${VIEWER_HEADERS.engagementId}: ${DEMO_VIEWER.engagementId}`);
  console.log(`  ${VIEWER_HEADERS.userId}: ${DEMO_VIEWER.userId}`);
  console.log(`flowgraph: ready (${base}/ready)`);

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    console.log(`flowgraph: ${signal} received, finishing in-flight requests`);
    try {
      await app.stop();
      await database.close();
      console.log('flowgraph: stopped');
      process.exit(0);
    } catch (error) {
      console.error('flowgraph: unclean shutdown', error);
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof MigrationFailedError || error instanceof MigrationHistoryError) {
    console.error(`flowgraph: cannot start. ${error.message}`);
  } else {
    console.error('flowgraph: cannot start.', error);
  }
  process.exit(1);
});
