// Sealed flow event cursors (FLOWGRAPH_CURSOR_KEY): a client can neither read the global sequence from a
// cursor (the event volume of every tenant together) nor make up a cursor to probe where the log ends, and
// cursors still resume on a restarted instance or another one that has the same key.
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { App } from '../src/app.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import type { Database } from '../src/db/database.ts';
import {
  decodeFlowEventCursor,
  encodeFlowEventCursor,
  sealedFlowEventCursors,
  UNPLACEABLE_CURSOR,
} from '../src/domain/flow-event-cursor.ts';
import { createFlowGraph, newTenant } from './support/factories.ts';
import { changeFlowStatus } from './support/flow-changes.ts';
import { executeOk, testApp } from './support/graphql.ts';
import { until } from './support/polling.ts';
import { connectWs, subscribe, type Transport } from './support/subscriptions.ts';
import { resetDatabase, testDatabase } from './support/test-database.ts';
import { FlowEventCursorDocument, FlowEventsLiveDocument, FlowEventsPageDocument } from './generated/graphql.ts';

const KEY = 'a cursor key of at least 32 bytes, for the tests';
const OTHER_KEY = 'another cursor key of at least 32 bytes, for tests';

describe('sealed cursors', () => {
  const sealed = sealedFlowEventCursors(KEY);

  it('round-trip a sequence, and say nothing about it', () => {
    for (const sequence of [0n, 1n, 2n, 42n, 2n ** 63n - 1n]) expect(sealed.decode(sealed.encode(sequence))).toBe(sequence);
    const cursors = [1n, 2n, 3n, 1_000n].map((sequence) => sealed.encode(sequence));
    for (const cursor of cursors) {
      expect(cursor).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(decodeFlowEventCursor(cursor)).toBeNull();
    }
    // Neighbouring positions share no visible structure (their order cannot be told from the strings).
    expect(new Set(cursors).size).toBe(cursors.length);
    const shared = (a: string, b: string) => [...a].filter((char, index) => b[index] === char).length;
    expect(shared(cursors[0]!, cursors[1]!)).toBeLessThan(8);
    // The same position always gives the same cursor, under any instance with the key.
    expect(sealedFlowEventCursors(KEY).encode(2n)).toBe(cursors[1]);
  });

  it('cannot be made up: another key, an altered cursor or a plain one is not a position here', () => {
    const cursor = sealed.encode(7n);
    expect(sealedFlowEventCursors(OTHER_KEY).decode(cursor)).toBe(UNPLACEABLE_CURSOR);
    const altered = `${cursor.slice(0, 5)}${cursor[5] === 'A' ? 'B' : 'A'}${cursor.slice(6)}`;
    expect(sealed.decode(altered)).toBe(UNPLACEABLE_CURSOR);
    expect(sealed.decode(encodeFlowEventCursor(7n))).toBe(UNPLACEABLE_CURSOR);
    for (const notACursor of ['', 'abc', 'not-a-cursor', `${cursor}=`, `${cursor.slice(0, 21)}+`, 'x'.repeat(100)]) {
      expect(sealed.decode(notACursor)).toBeNull();
    }
  });

  it('need a key of at least 32 bytes', () => {
    expect(() => loadConfig({ FLOWGRAPH_CURSOR_KEY: 'short' })).toThrow(ConfigError);
    expect(() => loadConfig({ FLOWGRAPH_CURSOR_KEY: 'short' })).toThrow(/^FLOWGRAPH_CURSOR_KEY must be at least 32 bytes/);
    expect(loadConfig({ FLOWGRAPH_CURSOR_KEY: KEY }).cursorKey).toBe(KEY);
    expect(loadConfig({}).cursorKey).toBeUndefined();
  });
});

describe('a server with FLOWGRAPH_CURSOR_KEY', () => {
  let database: Database;
  const apps: App[] = [];
  const open: { dispose(): Promise<void> }[] = [];
  const start = async (cursorKey: string) => {
    const app = testApp(database, { cursorKey });
    apps.push(app);
    return { app, url: `http://127.0.0.1:${await app.start()}/graphql` };
  };

  beforeAll(async () => {
    database = await testDatabase();
  });
  beforeEach(async () => resetDatabase(database));
  afterEach(async () => {
    await Promise.all(open.splice(0).map((thing) => thing.dispose().catch(() => {})));
    await Promise.all(apps.splice(0).map((app) => app.stop()));
  });

  const TRANSPORTS: Transport[] = ['graphql-ws', 'sse'];

  it.each(TRANSPORTS)('hands out sealed cursors that another instance with the key resumes from (%s)', async (transport) => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
    const first = await start(KEY);
    const ws = connectWs(first.url, tenant);
    open.push(ws);
    const live = subscribe(transport, { url: first.url, ws, viewer: tenant }, FlowEventsLiveDocument, {});
    open.push(live);
    await until(() => first.app.hub.subscriberCount >= 1, 'the subscription to start');
    const seen = await changeFlowStatus(database.prisma, tenant, flowId);
    await live.atLeast(1);
    const item = live.data[0]!.flowEvents;
    if (item.__typename !== 'FlowEvent') throw new Error(`expected an event, got ${item.__typename}`);
    expect(item.cursor).toBe(sealedFlowEventCursors(KEY).encode(seen.sequence));
    expect(decodeFlowEventCursor(item.cursor)).toBeNull();
    await live.dispose();
    await first.app.stop();

    // Missed while no instance was up, then resumed on another instance with the same key.
    const missed = [await changeFlowStatus(database.prisma, tenant, flowId), await changeFlowStatus(database.prisma, tenant, flowId)];
    const second = await start(KEY);
    const ws2 = connectWs(second.url, tenant);
    open.push(ws2);
    const resumed = subscribe(transport, { url: second.url, ws: ws2, viewer: tenant }, FlowEventsLiveDocument, { after: item.cursor });
    open.push(resumed);
    await resumed.atLeast(2);
    const cursors = resumed.data.map((data) => (data.flowEvents.__typename === 'FlowEvent' ? data.flowEvents.cursor : data.flowEvents.__typename));
    expect(cursors).toEqual(missed.map((change) => sealedFlowEventCursors(KEY).encode(change.sequence)));
    // And the history query pages with the same cursors.
    const page = await executeOk(second.app, tenant, FlowEventsPageDocument, { after: item.cursor });
    if (page.flowEvents.__typename !== 'FlowEventConnection') throw new Error(`expected a page, got ${page.flowEvents.__typename}`);
    expect(page.flowEvents.edges.map((edge) => edge.cursor)).toEqual(cursors);
  });

  it('answers a cursor it cannot place (plain, or sealed with another key) as expired, whatever position it names', async () => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
    const changes = [];
    for (let index = 0; index < 3; index += 1) changes.push(await changeFlowStatus(database.prisma, tenant, flowId));
    const { app } = await start(KEY);
    const { flowEventCursor } = await executeOk(app, tenant, FlowEventCursorDocument, {});
    expect(decodeFlowEventCursor(flowEventCursor)).toBeNull();

    // Behind the end of the log, at it, far ahead of it: one answer, so there is nothing to probe.
    const foreign = [1n, 3n, 999_999n].flatMap((sequence) => [encodeFlowEventCursor(sequence), sealedFlowEventCursors(OTHER_KEY).encode(sequence)]);
    for (const after of foreign) {
      const answer = await executeOk(app, tenant, FlowEventsPageDocument, { after });
      expect(answer.flowEvents).toEqual({
        __typename: 'FlowEventCursorExpiredError',
        message: expect.stringMatching(/Refetch/),
        oldestCursor: sealedFlowEventCursors(KEY).encode(0n),
      });
    }
    // A cursor of its own still pages on.
    const page = await executeOk(app, tenant, FlowEventsPageDocument, { after: sealedFlowEventCursors(KEY).encode(changes[0]!.sequence) });
    if (page.flowEvents.__typename !== 'FlowEventConnection') throw new Error(`expected a page, got ${page.flowEvents.__typename}`);
    expect(page.flowEvents.edges.map((edge) => edge.cursor)).toEqual(changes.slice(1).map((change) => sealedFlowEventCursors(KEY).encode(change.sequence)));
    expect(page.flowEvents.edges.at(-1)!.cursor).toBe(flowEventCursor);
  });
});
