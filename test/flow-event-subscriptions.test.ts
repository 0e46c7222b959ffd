// Subscription.flowEvents, Subscription.masterFlowChanged and Query.flowEvents over real sockets: a server
// listening on a port, the graphql-ws client and an SSE client (graphql-sse), on PGlite and PostgreSQL.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../src/app.ts';
import type { Database } from '../src/db/database.ts';
import { encodeFlowEventCursor } from '../src/domain/flow-event-cursor.ts';
import { pruneFlowEvents } from '../src/services/event-log.ts';
import { createFlowGraph, newTenant } from './support/factories.ts';
import { changeFlowStatus, deleteFlow } from './support/flow-changes.ts';
import { execute, executeOk, testApp } from './support/graphql.ts';
import { until } from './support/polling.ts';
import { connectWs, sequenceOf, subscribe, subscribeSse, subscribeWs, type Received, type Transport, type WsConnection } from './support/subscriptions.ts';
import { resetDatabase, testDatabase } from './support/test-database.ts';
import {
  FlowEventCursorDocument,
  FlowEventsLiveDocument,
  FlowEventsPageDocument,
  MasterFlowChangedDocument,
  type FlowEventsLiveSubscription,
} from './generated/graphql.ts';

let database: Database;
let app: App;
let url: string;
const open: { dispose(): Promise<void> }[] = [];

function track<T extends { dispose(): Promise<void> }>(thing: T): T {
  open.push(thing);
  return thing;
}

beforeAll(async () => {
  database = await testDatabase();
});
beforeEach(async () => {
  await resetDatabase(database);
  app = testApp(database, { subscriptionBufferSize: 50 });
  url = `http://127.0.0.1:${await app.start()}/graphql`;
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((thing) => thing.dispose().catch(() => {})));
  await app.stop();
});

type Item = FlowEventsLiveSubscription['flowEvents'];
type EventItem = Extract<Item, { __typename: 'FlowEvent' }>;

function events(received: Received<FlowEventsLiveSubscription>): EventItem[] {
  return received.data.map((data) => data.flowEvents).filter((item): item is EventItem => item.__typename === 'FlowEvent');
}

function eventCount(count: number) {
  return (received: Received<FlowEventsLiveSubscription>) => events(received).length >= count;
}

/** Waits until the hub has registered `count` subscribers (a subscription is live once registered). */
function subscribers(count: number): Promise<void> {
  return until(() => app.hub.subscriberCount >= count, `${count} subscribers to register`);
}

const TRANSPORTS: Transport[] = ['graphql-ws', 'sse'];

describe('Subscription.flowEvents', () => {
  it.each(TRANSPORTS)('delivers a committed change live over %s, with the flow as it is now', async (transport) => {
    const tenant = newTenant('alice');
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
    const ws = track(connectWs(url, tenant));
    const received = track(subscribe(transport, { url, ws, viewer: tenant }, FlowEventsLiveDocument, {}));
    await subscribers(1);

    const change = await changeFlowStatus(database.prisma, tenant, flowId);
    await received.until(eventCount(1), 'the event');
    expect(events(received)).toEqual([
      {
        __typename: 'FlowEvent',
        cursor: encodeFlowEventCursor(change.sequence),
        kind: 'STATUS_CHANGED',
        time: expect.any(String),
        actor: 'alice',
        flowId,
        flowType: 'DISCOVERY',
        payload: { before: 'running', after: 'paused', version: 1 },
        masterFlow: { flowId, flowStatus: 'PAUSED', version: 1 },
      },
    ]);
  });

  it('never delivers a rolled-back change', async () => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
    const ws = track(connectWs(url, tenant));
    const received = track(subscribeWs(ws, FlowEventsLiveDocument, {}));
    const sse = track(subscribeSse(url, tenant, FlowEventsLiveDocument, {}));
    await subscribers(2);
    await expect(changeFlowStatus(database.prisma, tenant, flowId, { rollBack: true })).rejects.toThrow('rolled back');
    const committed = await changeFlowStatus(database.prisma, tenant, flowId);
    for (const subscription of [received, sse]) {
      await subscription.until(eventCount(1), 'the committed event');
      // The committed change reuses the rolled-back change's number: only one event ever existed.
      expect(events(subscription).map((event) => sequenceOf(event.cursor))).toEqual([Number(committed.sequence)]);
      expect(events(subscription)[0]!.payload).toEqual({ before: 'running', after: 'paused', version: 1 });
    }
  });

  it.each(TRANSPORTS)('keeps tenants apart over %s: a subscriber sees only its own tenant, whatever it filters on', async (transport) => {
    const alice = newTenant('alice');
    const bob = newTenant('bob');
    const aliceFlow = await createFlowGraph(database.prisma, alice, { flowStatus: 'running' });
    const bobFlow = await createFlowGraph(database.prisma, bob, { flowStatus: 'running' });
    const ws = track(connectWs(url, bob));
    const bobAll = track(subscribe(transport, { url, ws, viewer: bob }, FlowEventsLiveDocument, {}));
    // Subscribing to another tenant's flow is like subscribing to a missing one: nothing, ever.
    const bobOnAlices = track(subscribe(transport, { url, ws, viewer: bob }, FlowEventsLiveDocument, { filter: { masterFlowId: aliceFlow.flowId } }));
    await subscribers(2);

    await changeFlowStatus(database.prisma, alice, aliceFlow.flowId);
    await changeFlowStatus(database.prisma, alice, aliceFlow.flowId);
    const bobs = await changeFlowStatus(database.prisma, bob, bobFlow.flowId);
    await bobAll.until(eventCount(1), "bob's event");
    // Events are delivered in log order: bob's came after alice's, so alice's would have arrived first.
    expect(events(bobAll).map((event) => [event.flowId, sequenceOf(event.cursor)])).toEqual([[bobFlow.flowId, Number(bobs.sequence)]]);
    expect(bobOnAlices.results).toEqual([]);

    // Replaying from the start of the log does not reveal alice's events either.
    const replay = track(subscribe(transport, { url, ws, viewer: bob }, FlowEventsLiveDocument, { after: encodeFlowEventCursor(0n) }));
    await replay.until(eventCount(1), "bob's replayed event");
    expect(events(replay).map((event) => event.flowId)).toEqual([bobFlow.flowId]);
  });

  it('replays after a cursor, then continues live: no gap and no duplicate at the seam (both transports)', async () => {
    const tenant = newTenant();
    const flows = await Promise.all([1, 2, 3].map(() => createFlowGraph(database.prisma, tenant, { flowStatus: 'running' })));
    const total = 60;
    const sequences: number[] = [];
    const write = async (count: number) => {
      for (let index = 0; index < count; index += 1) {
        const change = await changeFlowStatus(database.prisma, tenant, flows[sequences.length % 3]!.flowId);
        sequences.push(Number(change.sequence));
      }
    };
    await write(10);
    const from = sequences[3]!;
    const ws = track(connectWs(url, tenant));
    // Subscribers join while the writer is still writing, at different moments.
    const writing = write(total - 10);
    const late: Received<FlowEventsLiveSubscription>[] = [];
    for (const transport of [...TRANSPORTS, ...TRANSPORTS]) {
      late.push(track(subscribe(transport, { url, ws, viewer: tenant }, FlowEventsLiveDocument, { after: encodeFlowEventCursor(BigInt(from)) })));
      await new Promise((resolve) => setTimeout(resolve, 30));
    }
    await writing;
    const expected = sequences.filter((sequence) => sequence > from);
    for (const subscription of late) {
      await subscription.until(eventCount(expected.length), `${expected.length} events`);
      expect(events(subscription).map((event) => sequenceOf(event.cursor))).toEqual(expected);
    }
  });

  it('filters by master flow, flow type and kind', async () => {
    const tenant = newTenant();
    const discovery = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
    const assessment = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running', flowType: 'assessment' });
    const ws = track(connectWs(url, tenant));
    const byFlow = track(subscribeWs(ws, FlowEventsLiveDocument, { filter: { masterFlowId: discovery.flowId.toUpperCase() } }));
    const byType = track(subscribeWs(ws, FlowEventsLiveDocument, { filter: { flowTypes: ['ASSESSMENT'] } }));
    const deletions = track(subscribeSse(url, tenant, FlowEventsLiveDocument, { filter: { kinds: ['MASTER_FLOW_DELETED'] } }));
    await subscribers(3);

    await changeFlowStatus(database.prisma, tenant, discovery.flowId);
    await changeFlowStatus(database.prisma, tenant, assessment.flowId);
    await deleteFlow(database.prisma, tenant, discovery.flowId);
    await byFlow.until(eventCount(2), 'the discovery flow\'s events');
    await byType.until(eventCount(1), 'the assessment event');
    await deletions.until(eventCount(1), 'the deletion');
    expect(events(byFlow).map((event) => event.kind)).toEqual(['STATUS_CHANGED', 'MASTER_FLOW_DELETED']);
    expect(events(byType).map((event) => [event.flowType, event.flowId])).toEqual([['ASSESSMENT', assessment.flowId]]);
    // After the deletion the event stays, and its master flow is null.
    expect(events(deletions)).toEqual([expect.objectContaining({ kind: 'MASTER_FLOW_DELETED', flowId: discovery.flowId, masterFlow: null })]);
    expect(events(byFlow)[1]!.masterFlow).toBeNull();
  });

  it.each(TRANSPORTS)('answers a cursor older than the retention with a typed error over %s', async (transport) => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
    for (let index = 0; index < 3; index += 1) await changeFlowStatus(database.prisma, tenant, flowId);
    await database.sql.query(`UPDATE flow_events SET created_at = now() - interval '8 days' WHERE sequence <= 2`);
    await pruneFlowEvents(database.prisma, 7 * 24 * 3_600_000);
    const ws = track(connectWs(url, tenant));

    const expired = track(subscribe(transport, { url, ws, viewer: tenant }, FlowEventsLiveDocument, { after: encodeFlowEventCursor(1n) }));
    await expired.ended();
    expect(expired.data.map((data) => data.flowEvents)).toEqual([
      { __typename: 'FlowEventCursorExpiredError', message: expect.stringMatching(/Refetch/), oldestCursor: encodeFlowEventCursor(2n) },
    ]);
    // The oldest cursor still works, and so does a cursor from a future the log has not reached? No: refused too.
    const fine = track(subscribe(transport, { url, ws, viewer: tenant }, FlowEventsLiveDocument, { after: encodeFlowEventCursor(2n) }));
    await fine.until(eventCount(1), 'the one retained event');
    expect(events(fine).map((event) => sequenceOf(event.cursor))).toEqual([3]);
    const ahead = track(subscribe(transport, { url, ws, viewer: tenant }, FlowEventsLiveDocument, { after: encodeFlowEventCursor(99n) }));
    await ahead.ended();
    expect(ahead.data[0]!.flowEvents.__typename).toBe('FlowEventCursorExpiredError');
  });

  it.each(TRANSPORTS)('refuses a string that is not a cursor with a clear error over %s', async (transport) => {
    const tenant = newTenant();
    const ws = track(connectWs(url, tenant));
    const received = track(subscribe(transport, { url, ws, viewer: tenant }, FlowEventsLiveDocument, { after: 'not-a-cursor' }));
    await received.ended();
    const errors = received.results.flatMap((result) => result.errors ?? []);
    const thrown = received.error as { message?: string }[] | { message?: string } | undefined;
    const messages = [...errors.map((error) => error.message), ...(Array.isArray(thrown) ? thrown : thrown ? [thrown] : []).map((error) => String(error.message))];
    expect(messages.join(' ')).toMatch(/`after` is not a flow event cursor/);
    expect(app.hub.subscriberCount).toBe(0);
  });

  it('over SSE, refuses a request without credentials', async () => {
    const received = track(subscribeSse(url, null, FlowEventsLiveDocument, {}));
    await received.ended();
    expect(String((received.error as Error | undefined)?.message ?? JSON.stringify(received.results))).toMatch(/Missing credentials|UNAUTHENTICATED|401/);
  });

  it('reads the log once per wake-up for all subscribers, whatever their number', async () => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
    const ws = track(connectWs(url, tenant));
    const all = Array.from({ length: 30 }, (_unused, index) =>
      track(index % 3 === 0 ? subscribeSse(url, tenant, FlowEventsLiveDocument, {}) : subscribeWs(ws, FlowEventsLiveDocument, {})),
    );
    await subscribers(30);
    const before = app.hub.statements.statements;
    for (let change = 1; change <= 4; change += 1) {
      await changeFlowStatus(database.prisma, tenant, flowId);
      for (const subscription of all) await subscription.until(eventCount(change), `event ${change}`);
    }
    expect(app.hub.statements.statements - before).toBe(4);
  });

  it('stops delivering to a client that unsubscribed, at once', async () => {
    const tenant = newTenant();
    const ws = track(connectWs(url, tenant));
    const viaWs = subscribeWs(ws, FlowEventsLiveDocument, { filter: { kinds: ['MASTER_FLOW_DELETED'] } });
    const viaSse = subscribeSse(url, tenant, FlowEventsLiveDocument, {});
    await subscribers(2);
    await viaWs.dispose();
    await viaSse.dispose();
    // No event is produced: the subscriptions must go without one arriving (an async generator waiting
    // for its next event could not be returned). The wait is generous for a busy machine.
    await until(() => app.hub.subscriberCount === 0, 'the subscribers to unregister after unsubscribing', 3_000);
    expect(app.hub.subscriberCount).toBe(0);
  });
});

describe('Subscription.masterFlowChanged', () => {
  it.each(TRANSPORTS)('sends the flow now, after each change, and null at its deletion, over %s', async (transport) => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running', recordsPerImport: 4 });
    const other = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
    const ws = track(connectWs(url, tenant));
    const received = track(subscribe(transport, { url, ws, viewer: tenant }, MasterFlowChangedDocument, { flowId }));
    await received.atLeast(1);
    expect(received.data[0]!.masterFlowChanged).toEqual({ flowId, flowStatus: 'RUNNING', version: 0, rawRecordCount: 4 });

    await changeFlowStatus(database.prisma, tenant, other.flowId); // another flow: no tick
    await changeFlowStatus(database.prisma, tenant, flowId);
    await received.atLeast(2);
    expect(received.data[1]!.masterFlowChanged).toMatchObject({ flowStatus: 'PAUSED', version: 1 });
    await deleteFlow(database.prisma, tenant, flowId);
    await received.ended();
    expect(received.data.map((data) => data.masterFlowChanged?.flowStatus ?? null)).toEqual(['RUNNING', 'PAUSED', null]);
  });

  it.each(TRANSPORTS)('treats another tenant\'s flow like a missing one over %s: null, then the end', async (transport) => {
    const alice = newTenant();
    const bob = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, alice, { flowStatus: 'running' });
    const ws = track(connectWs(url, bob));
    const foreign = track(subscribe(transport, { url, ws, viewer: bob }, MasterFlowChangedDocument, { flowId }));
    const missing = track(subscribe(transport, { url, ws, viewer: bob }, MasterFlowChangedDocument, { flowId: crypto.randomUUID() }));
    await foreign.ended();
    await missing.ended();
    expect(foreign.results).toEqual(missing.results);
    expect(foreign.data).toEqual([{ masterFlowChanged: null }]);
    expect(app.hub.subscriberCount).toBe(0);
  });
});

describe('Query.flowEvents', () => {
  it('pages through the tenant\'s log with the cursors the subscription uses', async () => {
    const tenant = newTenant();
    const other = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running', imports: 2 });
    const foreign = await createFlowGraph(database.prisma, other, { flowStatus: 'running' });
    const cursorBefore = (await executeOk(app, tenant, FlowEventCursorDocument)).flowEventCursor;
    for (let index = 0; index < 5; index += 1) {
      await changeFlowStatus(database.prisma, tenant, flowId);
      await changeFlowStatus(database.prisma, other, foreign.flowId);
    }
    // The fixtures' own events come first (created, stored twice; created, stored): the changes follow.
    expect(sequenceOf(cursorBefore)).toBe(5);
    const base = sequenceOf(cursorBefore);
    const first = await executeOk(app, tenant, FlowEventsPageDocument, { first: 3, after: cursorBefore });
    if (first.flowEvents.__typename !== 'FlowEventConnection') throw new Error('expected a page');
    expect(first.flowEvents.edges.map((edge) => sequenceOf(edge.cursor))).toEqual([base + 1, base + 3, base + 5]);
    expect(first.flowEvents.pageInfo).toEqual({ hasNextPage: true, endCursor: first.flowEvents.edges[2]!.cursor });
    expect(first.flowEvents.edges[0]!.node).toEqual({
      kind: 'STATUS_CHANGED',
      flowId,
      flowType: 'DISCOVERY',
      payload: { before: 'running', after: 'paused', version: 1 },
      masterFlow: { flowId, flowStatus: 'PAUSED', dataImportCount: 2 },
    });
    const second = await execute(app, tenant, FlowEventsPageDocument, { first: 3, after: first.flowEvents.pageInfo.endCursor });
    if (second.data?.flowEvents.__typename !== 'FlowEventConnection') throw new Error('expected a page');
    expect(second.data.flowEvents.edges.map((edge) => sequenceOf(edge.cursor))).toEqual([base + 7, base + 9]);
    expect(second.data.flowEvents.pageInfo.hasNextPage).toBe(false);
    // One statement for the page, one for the retention check, one for all the master flows of the page.
    expect(second.extensions?.sqlStatements).toBe(3);

    // The master flows of a page are read in one statement, however many flows the page names.
    const more = await Promise.all([1, 2, 3, 4].map(() => createFlowGraph(database.prisma, tenant, { flowStatus: 'running' })));
    for (const flow of more) await changeFlowStatus(database.prisma, tenant, flow.flowId);
    const mixed = await execute(app, tenant, FlowEventsPageDocument, {
      after: second.data.flowEvents.pageInfo.endCursor,
      filter: { kinds: ['STATUS_CHANGED'] },
    });
    if (mixed.data?.flowEvents.__typename !== 'FlowEventConnection') throw new Error('expected a page');
    expect(mixed.data.flowEvents.edges.map((edge) => edge.node.masterFlow?.flowId)).toEqual(more.map((flow) => flow.flowId));
    expect(mixed.extensions?.sqlStatements).toBe(3);

    const filtered = await executeOk(app, tenant, FlowEventsPageDocument, { filter: { kinds: ['MASTER_FLOW_DELETED'] } });
    expect(filtered.flowEvents).toEqual({ __typename: 'FlowEventConnection', edges: [], pageInfo: { hasNextPage: false, endCursor: null } });
  });

  it('refuses pages over the size limit, strings that are not cursors, and expired cursors', async () => {
    const tenant = newTenant();
    const tooMany = await execute(app, tenant, FlowEventsPageDocument, { first: 501 });
    expect(tooMany.errors?.[0]?.extensions?.code).toBe('PAGE_SIZE_OUT_OF_RANGE');
    const bad = await execute(app, tenant, FlowEventsPageDocument, { after: 'Rmxvd0V2ZW50Oi0x' });
    expect(bad.errors?.[0]).toMatchObject({ message: expect.stringMatching(/not a flow event cursor/), extensions: { code: 'BAD_USER_INPUT' } });
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
    for (let index = 0; index < 3; index += 1) await changeFlowStatus(database.prisma, tenant, flowId);
    await database.sql.query(`UPDATE flow_events SET created_at = now() - interval '8 days' WHERE sequence <= 2`);
    await pruneFlowEvents(database.prisma, 7 * 24 * 3_600_000);
    const expired = await executeOk(app, tenant, FlowEventsPageDocument, { after: encodeFlowEventCursor(1n) });
    expect(expired.flowEvents).toEqual({ __typename: 'FlowEventCursorExpiredError', message: expect.any(String), oldestCursor: encodeFlowEventCursor(2n) });
  });
});
