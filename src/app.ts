// buildApp(): the GraphQL server (Yoga over HTTP, graphql-ws over WebSocket, one port, one schema, one
// set of plugins and one context), with no side effects until start().
import { readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { getOperationAST, type DocumentNode, type ExecutionArgs } from 'graphql';
import { createYoga, isAsyncIterable, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { AUTHORIZATION, createAuthenticator, type Principal } from './auth/authenticate.ts';
import type { Config, LimitsConfig } from './config.ts';
import type { GraphQLContext, SubscriptionOutlet } from './context.ts';
import type { Database } from './db/database.ts';
import { countStatements } from './db/statement-counter.ts';
import { flowEventCursors } from './domain/flow-event-cursor.ts';
import { useCompiledReads } from './graphql/compiled-reads/compiled-reads-plugin.ts';
import { useCredentialExpiry } from './graphql/credential-expiry.ts';
import { createErrorMasker, maskResultErrors, MASKED_ERROR_MESSAGE } from './graphql/error-masking.ts';
import { useIntrospection } from './graphql/introspection.ts';
import { useOperationLimits } from './graphql/operation-limits.ts';
import { useReservedAliases } from './graphql/reserved-aliases.ts';
import { pageSizeErrors } from './graphql/page-size-limit.ts';
import { useListArgumentLimit } from './graphql/list-argument-limit.ts';
import { useResponseSizeLimit } from './graphql/response-size-limit.ts';
import { documentCaches } from './graphql/document-cache.ts';
import { useSharedSubscriptionExecution } from './graphql/shared-subscription-execution.ts';
import { loadTrustedDocuments, resolveTrustedQuery, useTrustedDocuments } from './graphql/trusted-documents.ts';
import { useRequestDeadline } from './graphql/request-deadline.ts';
import { corsPolicy, hostAllowed } from './http/cors.ts';
import { dashboardHandler } from './http/dashboard.ts';
import { useStreamingMultipart } from './http/multipart-upload.ts';
import { useRequestBodyLimit } from './http/request-body-limit.ts';
import { useRequestParsingErrors } from './http/request-parsing.ts';
import { requestAdmission } from './http/request-admission.ts';
import { useGraphQLSseProtocol } from './http/graphql-sse.ts';
import { attachGraphQLWs } from './http/graphql-ws-server.ts';
import { Drain, refuseWhileDraining, settleWindowMs } from './http/drain.ts';
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
  Partial<Pick<Config, 'eventRetentionMs' | 'eventPruneIntervalMs' | 'subscriptionBufferSize' | 'compiledReads' | 'cursorKey' | 'metricsToken' | 'corsOrigins' | 'trustedDocuments'>> & {
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
  /**
   * The HTTP server to serve on (createHttpServer), when it must exist before the app: the server binds its
   * port before migrations run. start() listens only if it is not listening yet.
   */
  server?: Server;
  /** OpenTelemetry tracing (src/observability/tracing.ts), when it is on. */
  tracing?: { plugin: Plugin };
}

/**
 * The HTTP server of an app, without a request handler. Slow senders cannot hold a connection open forever:
 * headers must arrive within a minute and a whole request within the receive timeout, checked every second
 * (Node's default is every 30 s).
 */
export function createHttpServer(limits: Pick<LimitsConfig, 'httpReceiveTimeoutMs'>): Server {
  return createServer({
    requestTimeout: limits.httpReceiveTimeoutMs,
    headersTimeout: Math.min(limits.httpReceiveTimeoutMs, 60_000),
    connectionsCheckingInterval: 1_000,
  });
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
  /**
   * Stops accepting, lets in-flight operations finish (up to the grace period; src/http/drain.ts says how),
   * closes sockets. Resolves as soon as nothing is in flight.
   */
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
  // On the embedded database an import holds its only session: uploads are received before it opens.
  const imports = { ...DEFAULT_IMPORT_SETTINGS, spoolUploads: database.kind === 'pglite', ...config.imports };
  const admission = requestAdmission(authenticator, limits);
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
  const drain = new Drain();
  // The dashboard's documents always resolve by hash; with manifests configured, nothing else runs.
  const trustedDocuments = loadTrustedDocuments(config.trustedDocuments ?? []);
  const yoga = createYoga<Record<string, unknown>, GraphQLContext>({
    schema: options.schema ?? flowgraphSchema,
    graphqlEndpoint: GRAPHQL_PATH,
    healthCheckEndpoint: '/health',
    // No CORS but for the listed origins (src/http/cors.ts): Yoga's default reflects every origin.
    cors: corsPolicy(config.corsOrigins ?? []),
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
          // GraphiQL's graphql-ws client opens the socket with an empty connection_init (it cannot pass the
          // Headers tab as connectionParams); over SSE (GET /graphql, accept: text/event-stream) the request
          // carries the Headers tab, so subscriptions are authenticated like queries.
          subscriptionsProtocol: 'SSE',
        }
      : false,
    batching: limits.maxBatch > 0 ? { limit: limits.maxBatch } : false,
    // Bounded in bytes, not only in entries (src/graphql/document-cache.ts).
    parserAndValidationCache: { ...documentCaches<DocumentNode, unknown>(limits.documentCacheBytes), validationCache: true },
    maskedErrors: { maskError, errorMessage: MASKED_ERROR_MESSAGE, isDev: false },
    logging: {
      // Yoga's own messages go through pino too, at the configured level.
      debug: (...args) => logger.debug({ yoga: args.map(String).join(' ') }),
      info: (...args) => logger.info({ yoga: args.map(String).join(' ') }),
      warn: (...args) => logger.warn({ yoga: args.map(String).join(' ') }),
      error: (...args) => logger.error({ yoga: args.map(String).join(' ') }),
    },
    context: async (initial: InitialContext): Promise<GraphQLContext> => {
      const principal =
        initial.principal ??
        admission.principalOf(initial.request) ??
        (await authenticator.authenticate((name) => initial.request?.headers.get(name)));
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
      // Trusted documents over HTTP and Yoga's SSE; graphql-ws and /graphql/stream resolve them themselves.
      useTrustedDocuments(trustedDocuments),
      // Before statement counting: the plugins after it wrap its subscribe function.
      useSharedSubscriptionExecution<GraphQLContext & Record<string, unknown>>({
        sharingKey: (context) => JSON.stringify([context.viewer.clientAccountId, context.viewer.engagementId, context.viewer.userId]),
        outletOf: (context) => context.outlet,
        // What Yoga's error masking does to the results that pass through it, done once per pushed result.
        finishPushed: (result) => maskResultErrors(result, maskError),
      }),
      useStreamingMultipart(),
      // Authenticates, and takes its slots, before a byte of the body is read (after the multipart parser it
      // wraps, before the body limit: a caller without credentials hears 401).
      admission.plugin,
      // Inline import rows count against this limit; uploads are limited part by part instead.
      useRequestBodyLimit(limits.maxBodyBytes),
      // GraphQL over SSE in both modes at /graphql/stream (POST /graphql with text/event-stream stays too).
      useGraphQLSseProtocol({
        authenticator,
        maxBodyBytes: limits.maxBodyBytes,
        logger,
        resolveQuery: (params) => resolveTrustedQuery(trustedDocuments, params),
      }),
      ...(config.metrics ? [useMetricsEndpoint(metrics, config.metricsToken)] : []),
      useDatabaseReadiness(database, limits.readyTimeoutMs),
      useIntrospection(config.introspection),
      ...useOperationLimits(limits, { blockFieldSuggestions: !config.introspection }),
      useReservedAliases(),
      // Queries run as code compiled once per document (graphql-jit) instead of graphql-js' interpreter: the
      // flow graph resolves thousands of fields per page (bench/RESULTS.md, reads). Mutations and
      // subscriptions keep the reference executor. Before statement counting, which wraps its execute.
      useGraphQlJit({}, { enableIf: isQuery }),
      // After the JIT executor, which it falls back to for what it does not compile.
      ...(config.compiledReads === false
        ? []
        : [useCompiledReads(database, metrics, { maxResponseBytes: limits.maxResponseBytes, cacheBytes: limits.readCacheBytes })]),
      useResponseSizeLimit(limits.maxResponseBytes),
      // Counts executions for the shutdown and gives their writes the signal to roll back at its deadline.
      // After the plugins that replace the executor (graphql-jit, compiled reads), so that it wraps theirs.
      drain.plugin(),
      useStatementCounting(config.debugSql),
      // After the executors and statement counting, whose execute functions it wraps: the operation's span is
      // the active one while it executes, so its SQL statements' spans are its children.
      ...(options.tracing ? [options.tracing.plugin] : []),
      usePageSizeLimit(limits.maxPageSize),
      useListArgumentLimit(limits.maxListLength),
      useRequestDeadline(limits.requestTimeoutMs),
      useCredentialExpiry(),
    ],
  });

  // Development mode trusts the development headers without proof: a page that reaches a loopback server
  // through DNS rebinding could send them (src/http/cors.ts, hostAllowed). Bearer tokens need no such guard.
  const devHostGuard = config.auth.mode === 'dev';
  const dashboard = dashboardHandler(() =>
    devHeaders ? { headers: devHeaders, label: `demo tenant · ${DEMO_VIEWER.userId} (development mode)` } : null,
  );
  // Sockets carrying an SSE subscription, to cut on shutdown: they never become idle by themselves, and a
  // cut stream (unlike a completed one) tells the client to reconnect and resume with its cursor.
  const eventStreamSockets = new Set<Socket>();
  // Responses being prepared: they get `Connection: close` when shutdown begins.
  const responses = new Set<ServerResponse>();
  const server = options.server ?? createHttpServer(limits);
  server.on('request', (request, response) => {
    if (drain.draining) {
      refuseWhileDraining(response, new URL(request.url ?? '/', 'http://localhost').pathname);
      return;
    }
    if (devHostGuard && !hostAllowed(request.headers.host, config.host)) {
      response.writeHead(403, { 'content-type': 'text/plain' }).end('This server answers requests addressed to this machine only (see HOST).');
      return;
    }
    if (dashboard(request, response)) return;
    if (request.headers.accept?.includes('text/event-stream')) {
      const socket = request.socket;
      eventStreamSockets.add(socket);
      response.once('close', () => eventStreamSockets.delete(socket));
    } else {
      responses.add(response);
      response.once('close', () => {
        responses.delete(response);
        // A response whose headers had gone out when shutdown began left its connection kept alive.
        if (drain.draining) setImmediate(() => server.closeIdleConnections());
      });
    }
    void yoga(request, response);
  });
  const wsServer = attachGraphQLWs(server, {
    path: GRAPHQL_PATH,
    yoga,
    authenticator,
    limits,
    logger,
    drain,
    corsOrigins: config.corsOrigins ?? [],
    ...(devHostGuard ? { boundHost: config.host } : {}),
    resolveQuery: (params) => resolveTrustedQuery(trustedDocuments, params),
  });

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
      if (server.listening) return (server.address() as AddressInfo).port;
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
        drain.begin();
        // Resolves once every connection has ended: the listener closes now, kept-alive connections after
        // the response in flight on them (sent with `Connection: close`).
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        for (const response of responses) if (!response.headersSent) response.setHeader('connection', 'close');
        // Cut, not completed: the client reconnects (to another instance) and resumes with its cursor.
        for (const socket of eventStreamSockets) socket.destroy();
        // Sockets close with 1001 (going away) once their queries and mutations are answered: graphql-ws
        // clients reconnect and resume.
        wsServer.drain();
        const giveUp = setTimeout(() => drain.abort(), config.shutdownGraceMs - settleWindowMs(config.shutdownGraceMs));
        let graceOver!: () => void;
        const graceEnded = new Promise<void>((resolve) => (graceOver = resolve));
        const grace = setTimeout(() => {
          server.closeAllConnections();
          wsServer.terminate();
          graceOver();
        }, config.shutdownGraceMs);
        // The executions too: a query answered at the deadline may still be reading.
        await Promise.race([Promise.all([closed, drain.idle()]), graceEnded]);
        clearTimeout(giveUp);
        clearTimeout(grace);
        await wsServer.dispose();
        await pruning?.stop();
        await hub.stop();
        await yoga.dispose();
      })();
      return stopping;
    },
  };
}
