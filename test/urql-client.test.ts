// urql (@urql/core 6), configured as the README's "Clients" section shows it, against a real server process:
// a query, a mutation with a typed result, and a subscription over graphql-ws that sees the mutation's event.
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, fetchExchange, gql, subscriptionExchange } from '@urql/core';
import { createClient as createWsClient } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { authHeaders } from './support/auth.ts';
import { newTenant } from './support/factories.ts';
import { startServer, type ServerProcess } from './support/server-process.ts';

describe('urql against a server process', () => {
  let server: ServerProcess;
  const viewer = newTenant('urql-user');

  beforeAll(async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'flowgraph-urql-'));
    server = await startServer({ FLOWGRAPH_DATA_DIR: dataDir, DATABASE_URL: '' });
  });
  afterAll(async () => {
    await server?.stop('SIGKILL');
  });

  it('queries, mutates and subscribes with the README configuration', async () => {
    // The README's configuration, with this test's server and token (and `ws` in place of the browser's WebSocket).
    const headers = authHeaders(viewer);
    const ws = createWsClient({ url: `${server.url.replace(/^http/, 'ws')}/graphql`, connectionParams: headers, webSocketImpl: WebSocket });
    const client = new Client({
      url: `${server.url}/graphql`,
      fetchOptions: () => ({ headers }),
      exchanges: [
        fetchExchange,
        subscriptionExchange({
          forwardSubscription: (request) => ({ subscribe: (sink) => ({ unsubscribe: ws.subscribe({ ...request, query: request.query ?? '' }, sink) }) }),
        }),
      ],
    });
    try {
      const before = await client.query(gql`{ masterFlows { totalCount } flowEventCursor }`, {}).toPromise();
      expect(before.error).toBeUndefined();
      expect(before.data.masterFlows.totalCount).toBe(0);

      const events: { kind: string; flowId: string }[] = [];
      const subscription = client
        .subscription(gql`subscription ($after: String) { flowEvents(after: $after) { __typename ... on FlowEvent { kind flowId } } }`, {
          after: before.data.flowEventCursor,
        })
        .subscribe((result) => {
          if (result.data?.flowEvents.__typename === 'FlowEvent') events.push(result.data.flowEvents);
        });
      try {
        const stored = await client
          .mutation(
            gql`mutation ($input: StoreImportInput!) { storeImport(input: $input) { __typename ... on MasterFlow { flowId } ... on Error { message } } }`,
            { input: { filename: 'urql.json', importType: 'servers', rows: [{ hostname: 'a' }, { hostname: 'b' }] } },
          )
          .toPromise();
        expect(stored.error).toBeUndefined();
        expect(stored.data.storeImport.__typename).toBe('MasterFlow');
        const flowId = stored.data.storeImport.flowId as string;
        for (let attempt = 0; events.length < 2; attempt += 1) {
          if (attempt > 1_000) throw new Error(`the subscription saw ${JSON.stringify(events)}`);
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
        expect(events).toEqual([
          { __typename: 'FlowEvent', kind: 'MASTER_FLOW_CREATED', flowId },
          { __typename: 'FlowEvent', kind: 'IMPORT_STORED', flowId },
        ]);

        const refused = await client.mutation(gql`mutation ($flowId: UUID!) { pauseMasterFlow(flowId: $flowId, version: 0) { __typename ... on Error { message } } }`, { flowId }).toPromise();
        expect(refused.data.pauseMasterFlow).toMatchObject({ __typename: 'StaleFlow', message: expect.any(String) });
      } finally {
        subscription.unsubscribe();
      }
    } finally {
      await ws.dispose();
    }
  });
});
