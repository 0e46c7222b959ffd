// Entry point of `npm start`: configuration, the port, database, migrations, demo data, then the server.
// The port is bound first, so that a port in use stops the start-up before anything touches the database;
// until the server is ready it answers 503 (and /health 200: the process is alive, a long migration runs).
// A start-up failure is one line that says what to fix, never a stack.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { buildApp, createHttpServer, GRAPHQL_PATH } from './app.ts';
import { AUTHORIZATION } from './auth/authenticate.ts';
import { developmentSecret } from './auth/dev-secret.ts';
import { DEV_TOKEN_TTL_SECONDS, mintDevToken } from './auth/dev-token.ts';
import { ConfigError, loadConfig } from './config.ts';
import { DataDirLockedError } from './db/data-dir-lock.ts';
import { classifyDatabaseError } from './db/database-errors.ts';
import { MigrationFailedError, MigrationHistoryError } from './db/migrator.ts';
import { openMigratedDatabase } from './db/prepare.ts';
import { DASHBOARD_PATH } from './http/dashboard.ts';
import { createLogger } from './observability/logger.ts';
import { DEMO_VIEWER, seedDemoTenant } from './services/demo-seed.ts';

/** A start-up failure whose message says it all. */
class StartupError extends Error {
  override name = 'StartupError';
}

/** The database named for a person: PostgreSQL's URL without its password. */
function describeDatabase(databaseUrl: string | undefined, dataDir: string): string {
  if (!databaseUrl) return `embedded PGlite in ${dataDir}`;
  try {
    const url = new URL(databaseUrl);
    if (url.password) url.password = '***';
    return `PostgreSQL at ${url.toString()}`;
  } catch {
    return 'PostgreSQL (DATABASE_URL)';
  }
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => {
      const where = `port ${port} on ${host}`;
      if (error.code === 'EADDRINUSE') reject(new StartupError(`${where} is already in use (PORT, HOST): stop what listens there or choose another port`));
      else if (error.code === 'EACCES') reject(new StartupError(`${where} may not be bound by this user (PORT, HOST)`));
      else if (error.code === 'EADDRNOTAVAIL') reject(new StartupError(`${host} is not an address of this machine (HOST)`));
      else reject(new StartupError(`cannot listen on ${where}: ${error.message}`));
    };
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** What the server answers while it opens the database and migrates. */
function answerWhileStarting(request: import('node:http').IncomingMessage, response: import('node:http').ServerResponse): void {
  const path = new URL(request.url ?? '/', 'http://localhost').pathname;
  if (path === '/health') {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ message: 'alive', starting: true }));
    return;
  }
  const body =
    path === '/ready'
      ? { ready: false, error: 'the server is starting (database, migrations)' }
      : { errors: [{ message: 'The server is starting; try again shortly.', extensions: { code: 'STARTING', retryable: true } }] };
  response.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' }).end(JSON.stringify(body));
}

async function main(): Promise<void> {
  const config = loadConfig();
  const where = describeDatabase(config.databaseUrl, config.dataDir);
  const server = createHttpServer(config.limits);
  server.on('request', answerWhileStarting);
  const port = await listen(server, config.port, config.host);
  console.log(`flowgraph: port ${port} bound; opening ${where}`);
  let opened;
  try {
    opened = await openMigratedDatabase(config, 'server');
  } catch (error) {
    if (config.databaseUrl && classifyDatabaseError(error) === 'unavailable') {
      throw new StartupError(`${where} is unreachable (${reason(error)}): check DATABASE_URL and that the server runs`);
    }
    // Refused by PostgreSQL itself (authentication, permissions): its message says why.
    const sqlState = (error as { code?: unknown }).code;
    if (config.databaseUrl && typeof sqlState === 'string' && /^(28|42501)/.test(sqlState)) {
      throw new StartupError(`${where} refused the connection: ${reason(error)}`);
    }
    throw error;
  }
  const { database, applied } = opened;
  console.log(applied.length > 0 ? `flowgraph: applied migrations ${applied.join(', ')}` : 'flowgraph: migrations up to date');
  if (config.seed && (await seedDemoTenant(database.prisma))) console.log('flowgraph: seeded the demo tenant');

  // Development mode signs its own tokens (src/auth/dev-secret.ts says with what).
  let devToken: string | undefined;
  if (config.auth.mode === 'dev' && !config.auth.jwksUrl) {
    config.auth.jwtSecret ??= await developmentSecret(config.databaseUrl ? undefined : config.dataDir);
    devToken = await mintDevToken(config.auth, DEMO_VIEWER);
  }

  const logger = createLogger(config.logLevel);
  // Synchronously, so that no request falls between the two handlers.
  server.off('request', answerWhileStarting);
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
    { logger, devToken, server, ...(tracing ? { tracing } : {}) },
  );
  await app.start();
  const base = `http://localhost:${port}`;
  console.log(
    `flowgraph: listening at ${base}${GRAPHQL_PATH} on ${config.host} (authentication: ${config.auth.mode === 'dev' ? 'development mode' : 'bearer JWT'})`,
  );
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
    const started = performance.now();
    console.log(`flowgraph: ${signal} received, finishing in-flight operations (at most ${config.shutdownGraceMs} ms)`);
    try {
      // Resolves once nothing is in flight; only then is the database closed.
      await app.stop();
      await tracing?.shutdown();
      await database.close();
      // Logs are written asynchronously; let the last lines out before exiting.
      await new Promise<void>((resolve) => app.logger.flush(() => resolve()));
      console.log(`flowgraph: stopped (${Math.round(performance.now() - started)} ms)`);
      process.exit(0);
    } catch (error) {
      console.error(`flowgraph: unclean shutdown. ${reason(error)}`);
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

/** One line about an error: its message (the first line), or its code when it has no message. */
function reason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as NodeJS.ErrnoException).code;
  const message = (error.message || code || error.name).split('\n')[0]!.trim();
  // AggregateError (a host with several addresses) keeps its reasons inside.
  if (!message && error instanceof AggregateError) return reason(error.errors[0]);
  return message;
}

main().catch((error: unknown) => {
  const known =
    error instanceof ConfigError ||
    error instanceof StartupError ||
    error instanceof DataDirLockedError ||
    error instanceof MigrationFailedError ||
    error instanceof MigrationHistoryError;
  // Migration failures quote PostgreSQL's message, which may span lines; everything else is one line.
  console.error(`flowgraph: cannot start. ${known ? (error as Error).message : `unexpected ${(error as Error)?.name ?? 'error'}: ${reason(error)}`}`);
  // The stack only when asked for: it helps a developer, not an operator.
  if (!known && /^(debug|trace)$/.test(process.env.FLOWGRAPH_LOG_LEVEL ?? '')) console.error(error);
  process.exit(1);
});
