// A subscriber that reads slower than events arrive: the server queues a bounded number of events for it,
// then ends its subscription with the cursor it has everything up to; resuming from there loses nothing.
// The slow reader is real: the client's TCP socket is paused, so the server's writes block once the
// kernel buffers are full. Over both transports: graphql-ws, and SSE read by a plain node:http client.
import { request, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.ts';
import type { Database } from '../src/db/database.ts';
import { readLogBounds } from '../src/services/event-log.ts';
import { createFlowGraph, newTenant } from './support/factories.ts';
import { changeFlowStatus } from './support/flow-changes.ts';
import { testApp, viewerHeaders } from './support/graphql.ts';
import { until } from './support/polling.ts';
import { readSseBody } from './support/sse.ts';
import { connectWs, sequenceOf, subscribeSse, subscribeWs } from './support/subscriptions.ts';
import { resetDatabase, testDatabase } from './support/test-database.ts';
import { FlowEventsWithConfigurationDocument } from './generated/graphql.ts';

const BUFFER = 3;
let database: Database;
let app: App;
let url: string;

beforeAll(async () => {
  database = await testDatabase();
  await resetDatabase(database);
  app = testApp(database, { subscriptionBufferSize: BUFFER });
  url = `http://127.0.0.1:${await app.start()}/graphql`;
});
afterAll(async () => app?.stop());

/** Changes the flow until the server gives up on its one subscriber (its hub registration goes away), then five more. */
async function changeUntilOverflow(tenant: ReturnType<typeof newTenant>, flowId: string): Promise<number[]> {
  const written: number[] = [];
  while (app.hub.subscriberCount > 0) {
    if (written.length >= 400) throw new Error('the slow subscriber never overflowed');
    written.push(Number((await changeFlowStatus(database.prisma, tenant, flowId)).sequence));
  }
  // A few more after the overflow: the resumed subscription must bring them too.
  for (let index = 0; index < 5; index += 1) written.push(Number((await changeFlowStatus(database.prisma, tenant, flowId)).sequence));
  return written;
}

function untilSubscribed(): Promise<void> {
  return until(() => app.hub.subscriberCount >= 1, 'the subscription to start');
}

/** A flow whose every event is big (it carries the flow's 256 KiB configuration): socket buffers fill quickly. */
async function bigFlow(tenant: ReturnType<typeof newTenant>): Promise<string> {
  const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
  await database.prisma.masterFlow.update({ where: { flowId }, data: { flowConfiguration: { blob: 'x'.repeat(256 * 1024) } } });
  // The fixture's own events (its creation, the configuration's flow_updated) are read by the hub before a test
  // subscribes "from now on", so the subscription's first event is the test's first change.
  const { lastSequence } = await readLogBounds(database.prisma);
  await until(() => app.hub.lastSequence === lastSequence, "the hub to read the fixture's events");
  return flowId;
}

describe('a slow subscriber', () => {
  it('is ended with the last delivered cursor when its queue overflows, and resumes from it without gap', async () => {
    const tenant = newTenant();
    const flowId = await bigFlow(tenant);

    const connection = connectWs(url, tenant);
    const slow = subscribeWs(connection, FlowEventsWithConfigurationDocument, {});
    await untilSubscribed();
    const tcp = (connection.socket() as unknown as { _socket: Socket })._socket;
    tcp.pause();

    const written = await changeUntilOverflow(tenant, flowId);

    tcp.resume();
    await slow.ended();
    const items = slow.data.map((data) => data.flowEvents);
    const last = items.at(-1);
    if (last?.__typename !== 'FlowEventsOverflowError') throw new Error(`expected an overflow, got ${JSON.stringify(last)?.slice(0, 200)}`);
    expect(last.message).toMatch(/after: lastCursor/);
    const delivered = items.flatMap((item) => (item.__typename === 'FlowEvent' ? [item] : []));
    expect(delivered.length).toBeGreaterThan(0);
    expect(delivered.length).toBeLessThan(written.length);
    expect(delivered.every((item) => (item.masterFlow?.flowConfiguration as { blob: string }).blob.length === 256 * 1024)).toBe(true);
    expect(delivered.map((item) => sequenceOf(item.cursor))).toEqual(written.slice(0, delivered.length));
    expect(last.lastCursor).toBe(delivered.at(-1)!.cursor);

    // Resume from the cursor the error carried: exactly the rest, in order.
    const resumed = subscribeWs(connection, FlowEventsWithConfigurationDocument, { after: last.lastCursor });
    const rest = written.slice(delivered.length);
    await resumed.until((received) => received.results.length >= rest.length, `${rest.length} events`);
    expect(resumed.data.map((data) => (data.flowEvents.__typename === 'FlowEvent' ? sequenceOf(data.flowEvents.cursor) : data.flowEvents.__typename))).toEqual(rest);
    await resumed.dispose();
    await connection.dispose();
  });

  it('over SSE, is ended the same way, and resumes from the cursor without gap', async () => {
    const tenant = newTenant();
    const flowId = await bigFlow(tenant);

    // A real SSE client that stops reading: node:http, its response and TCP socket paused.
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const outgoing = request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...viewerHeaders(tenant) },
      });
      outgoing.once('response', resolve).once('error', reject);
      outgoing.end(JSON.stringify({ query: print(FlowEventsWithConfigurationDocument), variables: {} }));
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/event-stream/);
    response.pause();
    response.socket.pause();
    await untilSubscribed();

    const written = await changeUntilOverflow(tenant, flowId);

    response.socket.resume();
    const events = await readSseBody(response);
    expect(events.at(-1)?.event).toBe('complete');
    type Item = { __typename: string; cursor?: string; lastCursor?: string; message?: string; masterFlow?: { flowConfiguration: { blob: string } } };
    const items = events.filter((event) => event.event === 'next').map((event) => (event.data as { data: { flowEvents: Item } }).data.flowEvents);
    const last = items.at(-1);
    if (last?.__typename !== 'FlowEventsOverflowError') throw new Error(`expected an overflow, got ${JSON.stringify(last)?.slice(0, 200)}`);
    expect(last.message).toMatch(/after: lastCursor/);
    const delivered = items.filter((item) => item.__typename === 'FlowEvent');
    expect(delivered.length).toBeGreaterThan(0);
    expect(delivered.length).toBeLessThan(written.length);
    expect(delivered.every((item) => item.masterFlow?.flowConfiguration.blob.length === 256 * 1024)).toBe(true);
    expect(delivered.map((item) => sequenceOf(item.cursor!))).toEqual(written.slice(0, delivered.length));
    expect(last.lastCursor).toBe(delivered.at(-1)!.cursor);

    // Resume over SSE from the cursor the error carried: exactly the rest, in order.
    const resumed = subscribeSse(url, tenant, FlowEventsWithConfigurationDocument, { after: last.lastCursor! });
    const rest = written.slice(delivered.length);
    await resumed.until((received) => received.results.length >= rest.length, `${rest.length} events`);
    expect(resumed.data.map((data) => (data.flowEvents.__typename === 'FlowEvent' ? sequenceOf(data.flowEvents.cursor) : data.flowEvents.__typename))).toEqual(rest);
    await resumed.dispose();
  });
});
