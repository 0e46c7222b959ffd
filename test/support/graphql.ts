// Runs operations through the whole Yoga pipeline (plugins, context, masking) via its fetch API.
// Tests that depend on real sockets start the server as a process instead (test/support/server-process.ts).
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { print, type ExecutionResult } from 'graphql';
import { buildApp, GRAPHQL_PATH, type App } from '../../src/app.ts';
import type { Viewer } from '../../src/context.ts';
import type { Database } from '../../src/db/database.ts';
import { VIEWER_HEADERS } from '../../src/http/viewer.ts';

export function testApp(database: Database, overrides: Partial<Parameters<typeof buildApp>[0]> = {}): App {
  return buildApp({ port: 0, host: '127.0.0.1', debugSql: true, shutdownGraceMs: 1_000, ...overrides }, database);
}

export function viewerHeaders(viewer: Viewer): Record<string, string> {
  return {
    [VIEWER_HEADERS.clientAccountId]: viewer.clientAccountId,
    [VIEWER_HEADERS.engagementId]: viewer.engagementId,
    [VIEWER_HEADERS.userId]: viewer.userId,
  };
}

export interface GraphQLResponse<TData> extends ExecutionResult<TData> {
  extensions?: { sqlStatements?: number } & Record<string, unknown>;
}

export async function execute<TData, TVariables>(
  app: App,
  viewer: Viewer | null,
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
  viewer: Viewer,
  document: TypedDocumentNode<TData, TVariables> | string,
  variables?: TVariables,
): Promise<TData> {
  const result = await execute(app, viewer, document, variables);
  if (result.errors?.length || !result.data) {
    throw new Error(`GraphQL errors: ${JSON.stringify(result.errors ?? 'no data')}`);
  }
  return result.data;
}
