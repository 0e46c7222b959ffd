// The graphql-ws transport's fan-out path (src/http/graphql-ws-server.ts): a result shared by several
// subscribers is serialized once and spliced into each subscriber's `next` message under its own operation
// id, and live events are pushed to the socket outside the iterator chain (src/graphql/
// shared-subscription-execution.ts). Raw WebSocket clients speaking graphql-transport-ws, so that the ids
// can be anything the protocol allows, including text that looks like the message around it.
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import { GraphQLObjectType, GraphQLSchema, GraphQLString, parse, print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { App } from '../src/app.ts';
import type { GraphQLContext } from '../src/context.ts';
import type { Database } from '../src/db/database.ts';
import type { FlowEvent } from '../src/generated/prisma/client.ts';
import { flowEventStream } from '../src/services/flow-event-stream.ts';
import { createFlowGraph, newTenant } from './support/factories.ts';
import { changeFlowStatus } from './support/flow-changes.ts';
import { executeOk, testApp, viewerHeaders } from './support/graphql.ts';
import { FlowEventCursorDocument } from './generated/graphql.ts';
import { until } from './support/polling.ts';
import { sequenceOf, subscribeSse } from './support/subscriptions.ts';
import { resetDatabase, testDatabase } from './support/test-database.ts';

let database: Database;
let app: App;
let url: string;

beforeAll(async () => {
  database = await testDatabase();
  await resetDatabase(database);
  app = testApp(database);
  url = `ws://127.0.0.1:${await app.start()}/graphql`;
});
afterAll(async () => app?.stop());

interface Message {
  id?: string;
  type: string;
  payload?: unknown;
}

/** A graphql-transport-ws connection that keeps every message it receives, as text and parsed. */
async function connect(
  params: Record<string, string>,
  to = url,
): Promise<{ socket: WebSocket; received: { text: string; message: Message }[] }> {
  const socket = new WebSocket(to, 'graphql-transport-ws');
  const received: { text: string; message: Message }[] = [];
  socket.on('message', (data) => {
    const text = String(data);
    received.push({ text, message: JSON.parse(text) as Message });
  });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  socket.send(JSON.stringify({ type: 'connection_init', payload: params }));
  await until(() => received.some((item) => item.message.type === 'connection_ack'), 'connection_ack');
  return { socket, received };
}

const QUERY = 'subscription { flowEvents { __typename ... on FlowEvent { cursor kind flowId payload } } }';

describe('graphql-ws fan-out', () => {
  it('sends each subscriber the shared result under its own operation id, whatever the id holds', async () => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
    const params = viewerHeaders(tenant);
    const first = await connect(params);
    const second = await connect(params);
    // Quotes, backslashes, non-ASCII, and the very text that follows a placeholder in a message.
    const awkward = ['plain', 'quote"and\\backslash', 'ünïcödé ✓', ',"type":"next","payload":{}}'];
    const before = app.hub.subscriberCount;
    for (const id of awkward) first.socket.send(JSON.stringify({ id, type: 'subscribe', payload: { query: QUERY } }));
    second.socket.send(JSON.stringify({ id: 'plain', type: 'subscribe', payload: { query: QUERY } }));
    await until(() => app.hub.subscriberCount === before + awkward.length + 1, 'every subscription to start');

    const changes = [await changeFlowStatus(database.prisma, tenant, flowId), await changeFlowStatus(database.prisma, tenant, flowId)];
    const nexts = (received: { text: string; message: Message }[]) => received.filter((item) => item.message.type === 'next');
    await until(() => nexts(first.received).length === 2 * awkward.length && nexts(second.received).length === 2, 'two events for every subscription');

    const deliveries = [...nexts(first.received), ...nexts(second.received)];
    // Every message is exactly what graphql-ws would have sent: its id, type next, and the result.
    for (const { text, message } of deliveries) expect(text).toBe(JSON.stringify({ id: message.id, type: 'next', payload: message.payload }));
    const byId = new Map<string, unknown[]>();
    for (const { message } of nexts(first.received)) byId.set(message.id!, [...(byId.get(message.id!) ?? []), message.payload]);
    expect([...byId.keys()].sort()).toEqual([...awkward].sort());
    const expected = nexts(second.received).map((item) => item.message.payload);
    expect(expected).toHaveLength(2);
    const events = (expected as { data: { flowEvents: { flowId: string; cursor: string } } }[]).map((payload) => payload.data.flowEvents);
    expect(events.map((event) => event.flowId)).toEqual([flowId, flowId]);
    expect(events.map((event) => sequenceOf(event.cursor))).toEqual(changes.map((change) => Number(change.sequence)));
    // The same two results, in order, for every subscription on either socket.
    for (const id of awkward) expect(byId.get(id)).toEqual(expected);

    first.socket.close();
    second.socket.close();
    await until(() => app.hub.subscriberCount === before, 'the subscriptions to end with their sockets');
  });

  it('replays missed events through the iterator chain, then pushes live ones, in order, and counts both', async () => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
    const after = (await executeOk(app, tenant, FlowEventCursorDocument)).flowEventCursor;
    const missed = [await changeFlowStatus(database.prisma, tenant, flowId), await changeFlowStatus(database.prisma, tenant, flowId)];
    const delivered = async (delivery: 'pushed' | 'iterated') =>
      (await app.metrics.eventsDelivered.get()).values.find((value) => value.labels.delivery === delivery)?.value ?? 0;
    const [pushedBefore, iteratedBefore] = [await delivered('pushed'), await delivered('iterated')];

    const query = 'subscription($after: String) { flowEvents(after: $after) { ... on FlowEvent { cursor } } }';
    const clients = [await connect(viewerHeaders(tenant)), await connect(viewerHeaders(tenant))];
    for (const client of clients) client.socket.send(JSON.stringify({ id: 'events', type: 'subscribe', payload: { query, variables: { after } } }));
    const cursors = (client: (typeof clients)[number]) =>
      client.received.filter((item) => item.message.type === 'next').map((item) => sequenceOf((item.message.payload as { data: { flowEvents: { cursor: string } } }).data.flowEvents.cursor));
    await until(() => clients.every((client) => cursors(client).length === 2), 'the missed events');
    const live = [];
    for (let change = 0; change < 3; change += 1) live.push(await changeFlowStatus(database.prisma, tenant, flowId));
    await until(() => clients.every((client) => cursors(client).length === 5), 'the live events');

    const expected = [...missed, ...live].map((change) => Number(change.sequence));
    for (const client of clients) expect(cursors(client)).toEqual(expected);
    expect((await delivered('iterated')) - iteratedBefore).toBe(2 * clients.length);
    expect((await delivered('pushed')) - pushedBefore).toBe(3 * clients.length);
    for (const client of clients) client.socket.close();
  });

  it('masks an unexpected error in a pushed result exactly as in an iterated one, and goes on', async () => {
    // The flow event stream (it can push) with a resolver that fails on some events, as a broken resolver
    // or a lost database would: the client must see the same masked error over graphql-ws (pushed) as over
    // SSE (iterated through Yoga's masking), and nothing of the original.
    const secret = 'relation "secret_internal_table" does not exist';
    const failing = new GraphQLSchema({
      query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString, resolve: () => 'ok' } } }),
      subscription: new GraphQLObjectType({
        name: 'Subscription',
        fields: {
          status: {
            type: GraphQLString,
            subscribe: (_root, _args, ctx: GraphQLContext) =>
              flowEventStream({ prisma: ctx.prisma, hub: ctx.events.hub, bufferSize: 100, cursors: ctx.events.cursors }, ctx.viewer, {}, null),
            resolve: (event: FlowEvent) => {
              const after = (event.payload as { after: string }).after;
              if (after === 'paused') throw new Error(secret);
              return after;
            },
          },
        },
      }),
    });
    const failingApp = testApp(database, {}, { schema: failing });
    const base = `127.0.0.1:${await failingApp.start()}`;
    try {
      const tenant = newTenant();
      const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
      const overSocket = await connect(viewerHeaders(tenant), `ws://${base}/graphql`);
      const document: TypedDocumentNode<{ status: string | null }, Record<string, never>> = parse('subscription { status }');
      overSocket.socket.send(JSON.stringify({ id: 'status', type: 'subscribe', payload: { query: print(document) } }));
      const overSse = subscribeSse(`http://${base}/graphql`, tenant, document, {});
      await until(() => failingApp.hub.subscriberCount === 2, 'both subscriptions to start');
      await changeFlowStatus(database.prisma, tenant, flowId); // running → paused: the resolver fails
      await changeFlowStatus(database.prisma, tenant, flowId); // paused → running
      const nexts = () => overSocket.received.filter((item) => item.message.type === 'next');
      await until(() => nexts().length === 2 && overSse.results.length === 2, 'both events on both transports');

      const pushed = nexts().map((item) => item.message.payload);
      expect(pushed).toEqual([
        {
          data: { status: null },
          errors: [{ message: 'Unexpected error.', locations: [{ line: 2, column: 3 }], path: ['status'], extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
        },
        { data: { status: 'running' } },
      ]);
      expect(overSse.results).toEqual(pushed);
      expect(nexts().map((item) => item.text).join('')).not.toContain('secret');
      expect((await (await fetch(`http://${base}/metrics`)).text())).toMatch(/^flowgraph_subscription_events_delivered_total\{delivery="pushed"\} 2$/m);
      overSocket.socket.close();
      await overSse.dispose();
    } finally {
      await failingApp.stop();
    }
  });
});
