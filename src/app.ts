// buildApp(): the GraphQL server (Yoga over HTTP, graphql-ws over WebSocket, one port, one schema, one
// set of plugins and one context), with no side effects until start().
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getOperationAST, type ExecutionArgs } from 'graphql';
import { createYoga, isAsyncIterable, useReadinessCheck, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { renderGraphiQL } from '@graphql-yoga/render-graphiql';
import { useServer } from 'graphql-ws/use/ws';
import { useGraphQlJit } from '@envelop/graphql-jit';
import { WebSocketServer } from 'ws';
import type { Config } from './config.ts';
import type { GraphQLContext } from './context.ts';
import type { Database } from './db/database.ts';
import { migrationStatus } from './db/migrator.ts';
import { countStatements } from './db/statement-counter.ts';
import { MAX_PAGE_SIZE } from './domain/page-size.ts';
import { pageSizeErrors } from './graphql/page-size-limit.ts';
import { dashboardHandler } from './http/dashboard.ts';
import { VIEWER_HEADERS, viewerFrom } from './http/viewer.ts';
import { schema } from './schema/index.ts';
import { DEMO_VIEWER } from './services/demo-seed.ts';

export const GRAPHQL_PATH = '/graphql';

const EXAMPLE_QUERY = readFileSync(new URL('./graphql/operations/flow-graph.graphql', import.meta.url), 'utf8');

export type AppConfig = Pick<Config, 'port' | 'host' | 'debugSql' | 'shutdownGraceMs'>;

export interface App {
  yoga: YogaServerInstance<Record<string, unknown>, GraphQLContext>;
  server: Server;
  /** Listens; resolves with the bound port. */
  start(): Promise<number>;
  /** Stops accepting, lets in-flight requests finish (up to the grace period), closes sockets. */
  stop(): Promise<void>;
}

interface InitialContext {
  request?: Request;
  connectionParams?: Record<string, unknown>;
}

/** Counts SQL statements per operation and reports them in the response's extensions. */
function useStatementCounting(): Plugin<GraphQLContext> {
  return {
    onExecute({ args, executeFn, setExecuteFn }) {
      const tally = args.contextValue.statements;
      setExecuteFn((executionArgs) => countStatements(tally, () => executeFn(executionArgs)));
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
  const yoga = createYoga<Record<string, unknown>, GraphQLContext>({
    schema,
    graphqlEndpoint: GRAPHQL_PATH,
    healthCheckEndpoint: '/health',
    landingPage: false,
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
      return { viewer, prisma: database.prisma, statements: { statements: 0 } };
    },
    plugins: [
      // Queries run as code compiled once per document (graphql-jit) instead of graphql-js' interpreter: the
      // flow graph resolves thousands of fields per page (bench/RESULTS.md, reads). Mutations and
      // subscriptions keep the reference executor.
      useGraphQlJit({}, { enableIf: isQuery }),
      // Counting runs every operation inside an AsyncLocalStorage context, which puts async hooks on every
      // promise of the process; pay for that only when the counts are reported (bench/RESULTS.md, reads).
      ...(config.debugSql ? [useStatementCounting()] : []),
      usePageSizeLimit(),
      useReadinessCheck({
        endpoint: '/ready',
        check: async () => {
          try {
            const status = await migrationStatus(database.sql);
            return status.pending.length === 0;
          } catch {
            return false;
          }
        },
      }),
    ],
  });

  const dashboard = dashboardHandler(() => ({ headers: demoHeaders, label: `demo tenant · ${DEMO_VIEWER.userId}` }));
  const server = createServer((request, response) => {
    if (!dashboard(request, response)) void yoga(request, response);
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
    start() {
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
        await wsServer.dispose();
        const grace = setTimeout(() => server.closeAllConnections(), config.shutdownGraceMs);
        await closed;
        clearTimeout(grace);
        await yoga.dispose();
      })();
      return stopping;
    },
  };
}
