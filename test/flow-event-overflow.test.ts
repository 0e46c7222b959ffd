// A subscriber that reads slower than events arrive: the server queues a bounded number of events for it,
// then ends its subscription with the cursor it has everything up to; resuming from there loses nothing.
// The slow reader is real: the client's TCP socket is paused, so the server's writes block once the
// kernel buffers are full.
import type { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.ts';
import type { Database } from '../src/db/database.ts';
import { createFlowGraph, newTenant } from './support/factories.ts';
import { changeFlowStatus } from './support/flow-changes.ts';
import { testApp } from './support/graphql.ts';
import { connectWs, sequenceOf, subscribeWs } from './support/subscriptions.ts';
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

describe('a slow subscriber', () => {
  it('is ended with the last delivered cursor when its queue overflows, and resumes from it without gap', async () => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
    // Big events fill the socket buffers quickly: every event carries the flow's 256 KiB configuration.
    await database.prisma.masterFlow.update({ where: { flowId }, data: { flowConfiguration: { blob: 'x'.repeat(256 * 1024) } } });

    const connection = connectWs(url, tenant);
    const slow = subscribeWs(connection, FlowEventsWithConfigurationDocument, {});
    for (let attempt = 0; app.hub.subscriberCount < 1; attempt += 1) {
      if (attempt > 1_000) throw new Error('the subscription never started');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const tcp = (connection.socket() as unknown as { _socket: Socket })._socket;
    tcp.pause();

    // Change the flow until the server gives up on the subscriber (its hub registration goes away).
    const written: number[] = [];
    while (app.hub.subscriberCount > 0) {
      if (written.length >= 400) throw new Error('the slow subscriber never overflowed');
      written.push(Number((await changeFlowStatus(database.prisma, tenant, flowId)).sequence));
    }
    // A few more after the overflow: the resumed subscription must bring them too.
    for (let index = 0; index < 5; index += 1) written.push(Number((await changeFlowStatus(database.prisma, tenant, flowId)).sequence));

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
});
