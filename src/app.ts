// buildApp(): the GraphQL server (Yoga over HTTP, graphql-ws over WebSocket, one port, one schema, one
// set of plugins and one context), with no side effects until start().
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { getOperationAST, type ExecutionArgs } from 'graphql';
import { createYoga, isAsyncIterable, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { AUTHORIZATION, createAuthenticator, type Principal } from './auth/authenticate.ts';
import type { Config } from './config.ts';
import type { GraphQLContext, SubscriptionOutlet } from './context.ts';
import type { Database } from './db/database.ts';
import { countStatements } from './db/statement-counter.ts';
import { flowEventCursors } from './domain/flow-event-cursor.ts';
import { useCompiledReads } from './graphql/compiled-reads/compiled-reads-plugin.ts';
import { useCredentialExpiry } from './graphql/credential-expiry.ts';
import { createErrorMasker, maskResultErrors, MASKED_ERROR_MESSAGE } from './graphql/error-masking.ts';
import { useIntrospection } from './graphql/introspection.ts';
import { useOperationLimits } from './graphql/operation-limits.ts';
import { pageSizeErrors } from './graphql/page-size-limit.ts';
import { useSharedSubscriptionExecution } from './graphql/shared-subscription-execution.ts';
import { useRequestDeadline } from './graphql/request-deadline.ts';
import { dashboardHandler } from './http/dashboard.ts';
import { useStreamingMultipart } from './http/multipart-upload.ts';
import { useRequestBodyLimit } from './http/request-body-limit.ts';
import { useRequestParsingErrors } from './http/request-parsing.ts';
import { attachGraphQLWs } from './http/graphql-ws-server.ts';
import { useDatabaseReadiness } from './http/readiness.ts';
import { VIEWER_HEADERS } from './http/viewer.ts';
import { createLogger, type Logger } from './observability/logger.ts';
import { createMetrics, useMetricsEndpoint, type Metrics } from './observability/metrics.ts';
import { requestIdOf, useRequestLogging } from './observability/request-logging.ts';
import { schema as flowgraphSchema } from './schema/index.ts';
import { DEFAULT_IMPORT_SETTINGS } from './domain/import-settings.ts';
import { DEMO_VIEWER } from './services/demo-seed.ts';
import { startEventPruning, type PruningJob } from './services/event-retention.ts';
import { FlowEventHub, type HubLogger } from './services/flow-event-hub.ts';
import type { ImportProgress } from './services/store-import.ts';
import { ImportTracker } from './services/import-progress.ts';

export const GRAPHQL_PATH = '/graphql';

const EXAMPLE_QUERY = readFileSync(new URL('./graphql/operations/flow-graph.graphql', import.meta.url), 'utf8');

export type AppConfig = Pick<
  Config,
  'port' | 'host' | 'debugSql' | 'shutdownGraceMs' | 'auth' | 'limits' | 'introspection' | 'graphiql' | 'metrics' | 'logLevel'
> &
  Partial<Pick<Config, 'eventRetentionMs' | 'eventPruneIntervalMs' | 'subscriptionBufferSize' | 'compiledReads' | 'cursorKey'>> & {
    /** Import limits; the defaults of src/domain/import-settings.ts when absent. */
    imports?: Partial<Config['imports']>;
    onImportProgress?: (progress: ImportProgress) => void;
    /** Where the event listener reports lost and restored connections (the structured log by default). */
    logger?: HubLogger;
  };

export interface AppOptions {
  /** Where structured logs go (default: stdout at config.logLevel). */
  logger?: Logger;
  /** Development mode's token for the demo tenant: GraphiQL and the dashboard send it by default. */
  devToken?: string;
  /** Another schema to serve (tests of transport behaviour that the flow graph schema cannot show). */
  schema?: typeof flowgraphSchema;
}

export interface App {
  yoga: YogaServerInstance<Record<string, unknown>, GraphQLContext>;
  server: Server;
  /** This process's fan-out of the flow event log; runs between start() and stop(). */
  hub: FlowEventHub;
  metrics: Metrics;
  logger: Logger;
  /** Listens; resolves with the bound port. */
  start(): Promise<number>;
  /** Stops accepting, lets in-flight requests finish (up to the grace period), closes sockets. */
  stop(): Promise<void>;
}

interface InitialContext {
  request?: Request;
  /** Set by graphql-ws, which authenticates once per socket at connection_init. */
  principal?: Principal;
  requestId?: string;
  /** Set by graphql-ws for each operation: pushed subscription results go to its socket through it. */
  outlet?: SubscriptionOutlet;
}

/** Counts SQL statements per operation and, when asked, reports them in the response's extensions. */
function useStatementCounting(reportInExtensions: boolean): Plugin<GraphQLContext> {
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const tally = args.contextValue.statements;
      setExecuteFn((executionArgs) => countStatements(tally, () => executeFn(executionArgs)));
      if (!reportInExtensions) return;
      return {
        onExecuteDone({ result, setResult }) {
          if (isAsyncIterable(result)) return;
          setResult({ ...result, extensions: { ...result.extensions, sqlStatements: tally.statements } });
        },
      };
    },
    onSubscribe({ args, subscribeFn, setSubscribeFn }) {
      const tally = args.contextValue.statements;
      setSubscribeFn((subscribeArgs) => countStatements(tally, () => subscribeFn(subscribeArgs)));
    },
  };
}

function isQuery(args: ExecutionArgs): boolean {
  return getOperationAST(args.document, args.operationName)?.operation === 'query';
}

function usePageSizeLimit(maxPageSize: number): Plugin<GraphQLContext> {
  const check = (args: ExecutionArgs) => pageSizeErrors(args.schema, args.document, args.variableValues, maxPageSize);
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const errors = check(args);
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const errors = check(args);
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
  };
}

export function buildApp(config: AppConfig, database: Database, options: AppOptions = {}): App {
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics();
  const authenticator = createAuthenticator(config.auth);
  const { limits } = config;
  const imports = { ...DEFAULT_IMPORT_SETTINGS, ...config.imports };
  const importTracker = new ImportTracker();
  const hubLogger: HubLogger = config.logger ?? {
    info: (message) => logger.info(message),
    error: (message, error) => logger.error({ err: error }, message),
  };
  const hub = new FlowEventHub(database, { logger: hubLogger });
  const events = { hub, bufferSize: config.subscriptionBufferSize ?? 1_000, cursors: flowEventCursors(config.cursorKey) };
  let pruning: PruningJob | undefined;
  const devHeaders = options.devToken ? { [AUTHORIZATION]: `Bearer ${options.devToken}` } : null;

  const maskError = createErrorMasker(logger);
  const yoga = createYoga<Record<string, unknown>, GraphQLContext>({
    schema: options.schema ?? flowgraphSchema,
    graphqlEndpoint: GRAPHQL_PATH,
    healthCheckEndpoint: '/health',
    landingPage: false,
    // Replaced by useStreamingMultipart: the built-in parser buffers whole uploads in memory.
    multipart: false,
    // Replaced by useRequestBodyLimit, which leaves multipart uploads to their own per-part limits.
    maxRequestBodySize: false,
    // GraphiQL's assets are served by flowgraph itself, not fetched from a CDN: it works offline and
    // behind firewalls that only let the API through.
    renderGraphiQL,
    graphiql: config.graphiql
      ? {
          title: 'flowgraph',
          defaultQuery: EXAMPLE_QUERY,
          headers: devHeaders ? JSON.stringify(devHeaders, null, 2) : undefined,
          subscriptionsProtocol: 'WS',
        }
      : false,
    batching: limits.maxBatch > 0 ? { limit: limits.maxBatch } : false,
    maskedErrors: { maskError, errorMessage: MASKED_ERROR_MESSAGE, isDev: false },
    logging: {
      // Yoga's own messages go through pino too, at the configured level.
      debug: (...args) => logger.debug({ yoga: args.map(String).join(' ') }),
      info: (...args) => logger.info({ yoga: args.map(String).join(' ') }),
      warn: (...args) => logger.warn({ yoga: args.map(String).join(' ') }),
      error: (...args) => logger.error({ yoga: args.map(String).join(' ') }),
    },
    context: async (initial: InitialContext): Promise<GraphQLContext> => {
      const principal = initial.principal ?? (await authenticator.authenticate((name) => initial.request?.headers.get(name)));
      const requestId = initial.requestId ?? requestIdOf(initial.request);
      return {
        viewer: principal.viewer,
        prisma: database.prisma,
        statements: { statements: 0 },
        imports,
        importTracker,
        events,
        ...(config.onImportProgress ? { onImportProgress: config.onImportProgress } : {}),
        requestId,
        credentialsExpireAt: principal.expiresAt,
        log: logger.child({ requestId }),
        metrics,
        ...(initial.outlet ? { outlet: initial.outlet } : {}),
      };
    },
    plugins: [
      useRequestLogging(logger, metrics),
      useRequestParsingErrors(),
      // A browser sends these headers only after a CORS preflight, so a request carrying one cannot
      // be a cross-site forgery; multipart and GET requests without any of them are refused.
      useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf', AUTHORIZATION, ...Object.values(VIEWER_HEADERS)] }),
      // Before statement counting: the plugins after it wrap its subscribe function.
      useSharedSubscriptionExecution<GraphQLContext & Record<string, unknown>>({
        sharingKey: (context) => JSON.stringify([context.viewer.clientAccountId, context.viewer.engagementId, context.viewer.userId]),
        outletOf: (context) => context.outlet,
        // What Yoga's error masking does to the results that pass through it, done once per pushed result.
        finishPushed: (result) => maskResultErrors(result, maskError),
      }),
      useStreamingMultipart(),
      // Inline import rows count against this limit; uploads are limited part by part instead.
      useRequestBodyLimit(limits.maxBodyBytes),
      ...(config.metrics ? [useMetricsEndpoint(metrics)] : []),
      useDatabaseReadiness(database, limits.readyTimeoutMs),
      useIntrospection(config.introspection),
      ...useOperationLimits(limits, { blockFieldSuggestions: !config.introspection }),
      // Queries run as code compiled once per document (graphql-jit) instead of graphql-js' interpreter: the
      // flow graph resolves thousands of fields per page (bench/RESULTS.md, reads). Mutations and
      // subscriptions keep the reference executor. Before statement counting, which wraps its execute.
      useGraphQlJit({}, { enableIf: isQuery }),
      // After the JIT executor, which it falls back to for what it does not compile.
      ...(config.compiledReads === false ? [] : [useCompiledReads(database, metrics)]),
      useStatementCounting(config.debugSql),
      usePageSizeLimit(limits.maxPageSize),
      useRequestDeadline(limits.requestTimeoutMs),
      useCredentialExpiry(),
    ],
  });

  const dashboard = dashboardHandler(() =>
    devHeaders ? { headers: devHeaders, label: `demo tenant · ${DEMO_VIEWER.userId} (development mode)` } : null,
  );
  // Sockets carrying an SSE subscription, to cut on shutdown: they never become idle by themselves, and a
  // cut stream (unlike a completed one) tells the client to reconnect and resume with its cursor.
  const eventStreamSockets = new Set<Socket>();
  const server = createServer(
    {
      // Slow senders cannot hold a connection open forever: headers must arrive within a minute and a
      // whole request within the receive timeout, checked every second (Node's default is every 30 s).
      requestTimeout: limits.httpReceiveTimeoutMs,
      headersTimeout: Math.min(limits.httpReceiveTimeoutMs, 60_000),
      connectionsCheckingInterval: 1_000,
    },
    (request, response) => {
      if (dashboard(request, response)) return;
      if (request.headers.accept?.includes('text/event-stream')) {
        const socket = request.socket;
        eventStreamSockets.add(socket);
        response.once('close', () => eventStreamSockets.delete(socket));
      }
      void yoga(request, response);
    },
  );
  const wsServer = attachGraphQLWs(server, { path: GRAPHQL_PATH, yoga, authenticator, limits, logger });

  let stopping: Promise<void> | undefined;

  return {
    yoga,
    server,
    hub,
    metrics,
    logger,
    async start() {
      await hub.start();
      pruning = startEventPruning(database.prisma, {
        retentionMs: config.eventRetentionMs ?? 7 * 24 * 3_600_000,
        intervalMs: config.eventPruneIntervalMs ?? 3_600_000,
        logger: hubLogger,
      });
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          server.off('error', reject);
          resolve((server.address() as AddressInfo).port);
        });
      });
    },
    stop() {
      stopping ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        for (const socket of eventStreamSockets) socket.destroy();
        // Closes every WebSocket with 1001 (going away): graphql-ws clients reconnect and resume.
        await wsServer.dispose();
        const grace = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs);
        await closed;
        clearTimeout(grace);
        await pruning?.stop();
        await hub.stop();
        await yoga.dispose();
      })();
      return stopping;
    },
  };
}
