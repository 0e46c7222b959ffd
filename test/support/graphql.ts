// Runs operations through the whole Yoga pipeline (plugins, context, masking) via its fetch API.
// Tests that depend on real sockets start the app on a port, or the server as a process
// (test/support/server-process.ts).
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type ExecutionResult } from 'graphql';
import { buildApp, GRAPHQL_PATH, type App, type AppConfig, type AppOptions } from '../../src/app.ts';
import { DEFAULT_LIMITS, type LimitsConfig } from '../../src/config.ts';
import type { Database } from '../../src/db/database.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { authHeaders, TEST_AUTH, type TestViewer } from './auth.ts';

export type TestAppConfig = Partial<Omit<AppConfig, 'limits'>> & { limits?: Partial<LimitsConfig> };

export function testAppConfig(overrides: TestAppConfig = {}): AppConfig {
  return {
    port: 0,
    host: '127.0.0.1',
    debugSql: true,
    shutdownGraceMs: 1_000,
    auth: TEST_AUTH,
    introspection: true,
    graphiql: true,
    metrics: true,
    logLevel: 'silent',
    ...overrides,
    limits: { ...DEFAULT_LIMITS, ...overrides.limits },
  };
}

export function testApp(database: Database, overrides: TestAppConfig = {}, options: AppOptions = {}): App {
  const config = testAppConfig(overrides);
  return buildApp(config, database, { logger: createLogger(config.logLevel), ...options });
}

/** Credentials of a viewer (a signed bearer token; admin unless the viewer names its roles). */
export function viewerHeaders(viewer: TestViewer): Record<string, string> {
  return authHeaders(viewer);
}

export interface GraphQLResponse<TData> extends ExecutionResult<TData> {
  extensions?: { sqlStatements?: number } & Record<string, unknown>;
}

export async function execute<TData, TVariables>(
  app: App,
  viewer: TestViewer | null,
  document: TypedDocumentNode<TData, TVariables> | string,
  variables?: TVariables,
): Promise<GraphQLResponse<TData> & { status: number }> {
  const response = await app.yoga.fetch(`http://flowgraph.test${GRAPHQL_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(viewer ? viewerHeaders(viewer) : {}) },
    body: JSON.stringify({ query: typeof document === 'string' ? document : print(document), variables }),
  });
  return { status: response.status, ...((await response.json()) as GraphQLResponse<TData>) };
}

/** Like execute(), but fails the test on any GraphQL error and returns the data. */
export async function executeOk<TData, TVariables>(
  app: App,
  viewer: TestViewer,
  document: TypedDocumentNode<TData, TVariables> | string,
  variables?: TVariables,
): Promise<TData> {
  const result = await execute(app, viewer, document, variables);
  if (result.errors?.length || !result.data) {
    throw new Error(`GraphQL errors: ${JSON.stringify(result.errors ?? 'no data')}`);
  }
  return result.data;
}
