// buildApp(): the GraphQL server (Yoga over HTTP, graphql-ws over WebSocket, one port, one schema, one
// set of plugins and one context), with no side effects until start().
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { ExecutionArgs } from 'graphql';
import { createYoga, isAsyncIterable, useReadinessCheck, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import type { Config } from './config.ts';
import type { GraphQLContext } from './context.ts';
import type { Database } from './db/database.ts';
import { countStatements } from './db/statement-counter.ts';
import { MAX_PAGE_SIZE } from './domain/page-size.ts';
import { pageSizeErrors } from './graphql/page-size-limit.ts';
import { useSharedSubscriptionExecution } from './graphql/shared-subscription-execution.ts';
import { dashboardHandler } from './http/dashboard.ts';
import { VIEWER_HEADERS, viewerFrom } from './http/viewer.ts';
import { schema } from './schema/index.ts';
import { DEFAULT_IMPORT_SETTINGS } from './domain/import-settings.ts';
import { useStreamingMultipart } from './http/multipart-upload.ts';
import { useRequestBodyLimit } from './http/request-body-limit.ts';
import { DEMO_VIEWER } from './services/demo-seed.ts';
import { readiness } from './services/readiness.ts';
import type { ImportProgress } from './services/store-import.ts';
import { startEventPruning, type PruningJob } from './services/event-retention.ts';
import { FlowEventHub, type HubLogger } from './services/flow-event-hub.ts';

export const GRAPHQL_PATH = '/graphql';

const EXAMPLE_QUERY = readFileSync(new URL('./graphql/operations/flow-graph.graphql', import.meta.url), 'utf8');

export type AppConfig = Pick<Config, 'port' | 'host' | 'debugSql' | 'shutdownGraceMs'> &
  Partial<Pick<Config, 'eventRetentionMs' | 'eventPruneIntervalMs' | 'subscriptionBufferSize'>> & {
    /** Import limits; the defaults of src/domain/import-settings.ts when absent. */
    imports?: Partial<Config['imports']>;
    onImportProgress?: (progress: ImportProgress) => void;
    /** Where the event listener reports lost and restored connections (console by default). */
    logger?: HubLogger;
  };

const consoleLogger: HubLogger = {
  info: (message) => console.log(`flowgraph: ${message}`),
  error: (message, error) => console.error(`flowgraph: ${message}`, error instanceof Error ? error.message : (error ?? '')),
};

export interface App {
  yoga: YogaServerInstance<Record<string, unknown>, GraphQLContext>;
  server: Server;
  /** This process's fan-out of the flow event log; runs between start() and stop(). */
  hub: FlowEventHub;
  /** Listens; resolves with the bound port. */
  start(): Promise<number>;
  /** Stops accepting, lets in-flight requests finish (up to the grace period), closes sockets. */
  stop(): Promise<void>;
}

interface InitialContext {
  request?: Request;
  connectionParams?: Record<string, unknown>;
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

function usePageSizeLimit(): Plugin<GraphQLContext> {
  const check = (args: ExecutionArgs) => pageSizeErrors(args.schema, args.document, args.variableValues, MAX_PAGE_SIZE);
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

export function buildApp(config: AppConfig, database: Database): App {
  const demoHeaders = {
    [VIEWER_HEADERS.clientAccountId]: DEMO_VIEWER.clientAccountId,
    [VIEWER_HEADERS.engagementId]: DEMO_VIEWER.engagementId,
    [VIEWER_HEADERS.userId]: DEMO_VIEWER.userId,
  };
  const imports = { ...DEFAULT_IMPORT_SETTINGS, ...config.imports };
  const logger = config.logger ?? consoleLogger;
  const hub = new FlowEventHub(database, { logger });
  const events = { hub, bufferSize: config.subscriptionBufferSize ?? 1_000 };
  let pruning: PruningJob | undefined;

  const yoga = createYoga<Record<string, unknown>, GraphQLContext>({
    schema,
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
    graphiql: {
      title: 'flowgraph',
      defaultQuery: EXAMPLE_QUERY,
      headers: JSON.stringify(demoHeaders, null, 2),
      subscriptionsProtocol: 'WS',
    },
    context: (initial: InitialContext) => {
      const viewer = initial.connectionParams
        ? viewerFrom((name) => initial.connectionParams?.[name])
        : viewerFrom((name) => initial.request?.headers.get(name));
      return {
        viewer,
        prisma: database.prisma,
        statements: { statements: 0 },
        imports,
        events,
        ...(config.onImportProgress ? { onImportProgress: config.onImportProgress } : {}),
      };
    },
    plugins: [
      // Before statement counting: the plugins after it wrap its subscribe function.
      useSharedSubscriptionExecution<GraphQLContext & Record<string, unknown>>((context) =>
        JSON.stringify([context.viewer.clientAccountId, context.viewer.engagementId, context.viewer.userId]),
      ),
      useStreamingMultipart(),
      // Inline rows count against the upload limit; the rest of a JSON request is small.
      useRequestBodyLimit(imports.maxFileBytes + 1024 * 1024),
      useStatementCounting(config.debugSql),
      usePageSizeLimit(),
      useReadinessCheck({
        endpoint: '/ready',
        // 200 when the database is reachable and migrated, 503 otherwise; the body adds the integrity summary.
        check: async ({ fetchAPI }) => {
          const body = await readiness(database.sql);
          return new fetchAPI.Response(JSON.stringify(body), {
            status: body.ready ? 200 : 503,
            headers: { 'content-type': 'application/json' },
          });
        },
      }),
    ],
  });

  const dashboard = dashboardHandler(() => ({ headers: demoHeaders, label: `demo tenant · ${DEMO_VIEWER.userId}` }));
  // Sockets carrying an SSE subscription, to cut on shutdown: they never become idle by themselves, and a
  // cut stream (unlike a completed one) tells the client to reconnect and resume with its cursor.
  const eventStreamSockets = new Set<Socket>();
  const server = createServer((request, response) => {
    if (dashboard(request, response)) return;
    if (request.headers.accept?.includes('text/event-stream')) {
      const socket = request.socket;
      eventStreamSockets.add(socket);
      response.once('close', () => eventStreamSockets.delete(socket));
    }
    void yoga(request, response);
  });
  const webSockets = new WebSocketServer({ server, path: GRAPHQL_PATH });

  // graphql-ws runs every operation through Yoga's envelop, so plugins, context and masking are the
  // same as over HTTP (Yoga's graphql-ws recipe).
  const wsServer = useServer<Record<string, unknown>>(
    {
      execute: (args) => (args.rootValue as { execute: typeof import('graphql').execute }).execute(args),
      subscribe: (args) => (args.rootValue as { subscribe: typeof import('graphql').subscribe }).subscribe(args),
      onConnect: (ctx) => {
        try {
          viewerFrom((name) => ctx.connectionParams?.[name]);
          return true;
        } catch {
          return false;
        }
      },
      onSubscribe: async (ctx, _id, params) => {
        const { schema: envelopedSchema, execute, subscribe, contextFactory, parse, validate } = yoga.getEnveloped({
          ...ctx,
          req: ctx.extra.request,
          socket: ctx.extra.socket,
          params,
          connectionParams: ctx.connectionParams ?? {},
        });
        const args = {
          schema: envelopedSchema,
          operationName: params.operationName,
          document: parse(params.query),
          variableValues: params.variables,
          contextValue: await contextFactory(),
          rootValue: { execute, subscribe },
        };
        const errors = validate(args.schema, args.document);
        if (errors.length > 0) return errors;
        return args;
      },
    },
    webSockets,
  );

  let stopping: Promise<void> | undefined;

  return {
    yoga,
    server,
    hub,
    async start() {
      await hub.start();
      pruning = startEventPruning(database.prisma, {
        retentionMs: config.eventRetentionMs ?? 7 * 24 * 3_600_000,
        intervalMs: config.eventPruneIntervalMs ?? 3_600_000,
        logger,
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
