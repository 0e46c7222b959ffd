// Entry point of `npm start`: configuration, database, migrations, demo data, then the server.
import { buildApp, GRAPHQL_PATH } from './app.ts';
import { AUTHORIZATION } from './auth/authenticate.ts';
import { developmentSecret } from './auth/dev-secret.ts';
import { DEV_TOKEN_TTL_SECONDS, mintDevToken } from './auth/dev-token.ts';
import { ConfigError, loadConfig } from './config.ts';
import { MigrationFailedError, MigrationHistoryError } from './db/migrator.ts';
import { openMigratedDatabase } from './db/prepare.ts';
import { DASHBOARD_PATH } from './http/dashboard.ts';
import { createLogger } from './observability/logger.ts';
import { DEMO_VIEWER, seedDemoTenant } from './services/demo-seed.ts';

async function main(): Promise<void> {
  const config = loadConfig();
  const where = config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${config.dataDir}`;
  console.log(`flowgraph: opening ${where}`);
  const { database, applied } = await openMigratedDatabase(config);
  console.log(applied.length > 0 ? `flowgraph: applied migrations ${applied.join(', ')}` : 'flowgraph: migrations up to date');
  if (config.seed && (await seedDemoTenant(database.prisma))) console.log('flowgraph: seeded the demo tenant');

  // Development mode signs its own tokens (src/auth/dev-secret.ts says with what).
  let devToken: string | undefined;
  if (config.auth.mode === 'dev' && !config.auth.jwksUrl) {
    config.auth.jwtSecret ??= await developmentSecret(config.databaseUrl ? undefined : config.dataDir);
    devToken = await mintDevToken(config.auth, DEMO_VIEWER);
  }

  const logger = createLogger(config.logLevel);
  // The OpenTelemetry SDK is loaded only when traces are exported.
  const tracing = config.tracing ? (await import('./observability/tracing.ts')).startTracing(config.tracing) : undefined;
  if (config.tracing) console.log(`flowgraph: exporting traces over OTLP as ${config.tracing.serviceName}`);
  const app = buildApp(
    {
      ...config,
      // Progress goes to the console like the start-up lines: it is for whoever watches the server.
      onImportProgress: ({ dataImportId, rowsStored }) =>
        console.log(`flowgraph: import ${dataImportId}: ${rowsStored} rows stored, not committed yet`),
    },
    database,
    { logger, devToken, ...(tracing ? { tracing } : {}) },
  );
  const port = await app.start();
  const base = `http://localhost:${port}`;
  console.log(`flowgraph: listening at ${base}${GRAPHQL_PATH} (authentication: ${config.auth.mode === 'dev' ? 'development mode' : 'bearer JWT'})`);
  if (config.graphiql) console.log(`flowgraph: GraphiQL at ${base}${GRAPHQL_PATH}`);
  console.log(`flowgraph: dashboard at ${base}${DASHBOARD_PATH}/`);
  if (devToken) {
    console.log(
      `flowgraph: development mode (FLOWGRAPH_AUTH=dev). Token for the demo tenant, role ${DEMO_VIEWER.roles.join(', ')}, ` +
        `valid ${DEV_TOKEN_TTL_SECONDS / 3_600} h (${config.graphiql ? 'GraphiQL and ' : ''}the dashboard send it):`,
    );
    console.log(`  ${AUTHORIZATION}: Bearer ${devToken}`);
  }
  console.log(`flowgraph: ready (${base}/ready)`);

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) return;
    shuttingDown = true;
    console.log(`flowgraph: ${signal} received, finishing in-flight requests`);
    try {
      await app.stop();
      await tracing?.shutdown();
      await database.close();
      // Logs are written asynchronously; let the last lines out before exiting.
      await new Promise<void>((resolve) => app.logger.flush(() => resolve()));
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
