// The graphql-ws transport's fan-out path (src/http/graphql-ws-server.ts): a result shared by several
// subscribers is serialized once and spliced into each subscriber's `next` message under its own operation
// id. Raw WebSocket clients speaking graphql-transport-ws, so that the ids can be anything the protocol
// allows, including text that looks like the message around it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { App } from '../src/app.ts';
import type { Database } from '../src/db/database.ts';
import { createFlowGraph, newTenant } from './support/factories.ts';
import { changeFlowStatus } from './support/flow-changes.ts';
import { testApp, viewerHeaders } from './support/graphql.ts';
import { sequenceOf } from './support/subscriptions.ts';
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
async function connect(params: Record<string, string>): Promise<{ socket: WebSocket; received: { text: string; message: Message }[] }> {
  const socket = new WebSocket(url, 'graphql-transport-ws');
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

async function until(predicate: () => boolean, what: string): Promise<void> {
  for (let attempt = 0; !predicate(); attempt += 1) {
    if (attempt > 1_000) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
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
});
