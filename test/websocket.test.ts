// graphql-ws on the same port and path as HTTP, with the same schema, plugins, context and tenant rules.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { print } from 'graphql';
import type { App } from '../src/app.ts';
import type { Viewer } from '../src/context.ts';
import type { Database } from '../src/db/database.ts';
import { MasterFlowsPageDocument } from './generated/graphql.ts';
import { createFlowGraph, newTenant } from './support/factories.ts';
import { testApp, viewerHeaders } from './support/graphql.ts';
import { resetDatabase, testDatabase } from './support/test-database.ts';

let database: Database;
let app: App;
let url: string;
const tenant: Viewer = newTenant();

beforeAll(async () => {
  database = await testDatabase();
  await resetDatabase(database);
  await createFlowGraph(database.prisma, tenant, { flowName: 'over websocket' });
  await createFlowGraph(database.prisma, newTenant(), { flowName: 'someone else' });
  app = testApp(database);
  url = `ws://127.0.0.1:${await app.start()}/graphql`;
});
afterAll(async () => app.stop());

function client(connectionParams: Record<string, string>): Client {
  return createClient({ url, webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
}

function runOnce<T>(socket: Client, query: string, variables: Record<string, unknown> = {}): Promise<{ data?: T; errors?: unknown[] }> {
  return new Promise((resolve, reject) => {
    let result: { data?: T; errors?: unknown[] } = {};
    socket.subscribe<T>({ query, variables }, {
      next: (value) => (result = value as typeof result),
      error: reject,
      complete: () => resolve(result),
    });
  });
}

describe('graphql-ws', () => {
  it('runs queries with the viewer from connectionParams, scoped to its tenant, with statement counts', async () => {
    const socket = client(viewerHeaders(tenant));
    const result = await runOnce<{ masterFlows: { totalCount: number; edges: { node: { flowName: string } }[] } }>(
      socket,
      print(MasterFlowsPageDocument),
    );
    expect(result.errors).toBeUndefined();
    expect(result.data?.masterFlows.totalCount).toBe(1);
    expect(result.data?.masterFlows.edges[0]?.node.flowName).toBe('over websocket');
    await socket.dispose();
  });

  it('applies the same page-size limit as HTTP', async () => {
    const socket = client(viewerHeaders(tenant));
    const result = await runOnce(socket, '{ masterFlows(first: 9999) { totalCount } }');
    expect(JSON.stringify(result.errors)).toMatch(/PAGE_SIZE_OUT_OF_RANGE/);
    await socket.dispose();
  });

  it('closes a connection without a viewer with 4403', async () => {
    const socket = client({});
    const closed = new Promise<number>((resolve) => socket.on('closed', (event) => resolve((event as { code: number }).code)));
    await expect(runOnce(socket, '{ masterFlows { totalCount } }')).rejects.toBeDefined();
    expect(await closed).toBe(4403);
    await socket.dispose();
  });
});
