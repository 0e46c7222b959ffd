// A flow event stream pushing its live events to a sink (PushableEventStream, src/services/flow-event-stream.ts):
// the state machine the graphql-ws fan-out relies on, driven by a real hub on a real database. Events go to
// the sink in order, one at a time; while the sink is busy they queue in the subscription's bounded queue,
// and beyond it the stream ends with the cursor of the last event pushed; a failing sink ends the stream with
// its error; return() stops pushing at once.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/database.ts';
import { decodeFlowEventCursor, plainFlowEventCursors } from '../src/domain/flow-event-cursor.ts';
import type { FlowEvent } from '../src/generated/prisma/client.ts';
import { FlowEventsOverflowError } from '../src/services/flow-event-errors.ts';
import { readLogBounds } from '../src/services/event-log.ts';
import { FlowEventHub } from '../src/services/flow-event-hub.ts';
import { flowEventStream, isPushableEventStream, type LiveEventSink } from '../src/services/flow-event-stream.ts';
import { createFlowGraph, newTenant } from './support/factories.ts';
import { changeFlowStatus } from './support/flow-changes.ts';
import { until } from './support/polling.ts';
import { resetDatabase, testDatabase } from './support/test-database.ts';

let database: Database;
let hub: FlowEventHub;

beforeAll(async () => {
  database = await testDatabase();
});
beforeEach(async () => {
  await hub?.stop();
  await resetDatabase(database);
  hub = new FlowEventHub(database);
  await hub.start();
});
afterAll(async () => hub?.stop());

/** Waits until the hub has read the log to its end (the fixtures write events too), so "from now on" means after them. */
async function caughtUp(): Promise<void> {
  const { lastSequence } = await readLogBounds(database.prisma);
  await until(() => hub.lastSequence === lastSequence, 'the hub to read the fixtures\' events');
}

/** A live stream of one tenant's events (no cursor: from now on), pushing to `sink`, and its first next(). */
function pushedStream(tenant: ReturnType<typeof newTenant>, sink: LiveEventSink, bufferSize = 100) {
  const stream = flowEventStream({ prisma: database.prisma, hub, bufferSize, cursors: plainFlowEventCursors }, tenant, {}, null);
  if (!isPushableEventStream(stream)) throw new Error('the flow event stream should be able to push');
  stream.pushLiveEventsTo(sink);
  return { stream, ended: stream.next() };
}

describe('a flow event stream pushing live events', () => {
  it('pushes them in order, one at a time, holding the rest while the sink is busy', async () => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
    await caughtUp();
    const pushed: bigint[] = [];
    let release: (() => void) | undefined;
    const { stream, ended } = pushedStream(tenant, (event) => {
      pushed.push(event.sequence);
      // Busy with the first event until released: the next ones must wait, not overtake it.
      if (pushed.length === 1) return new Promise<void>((resolve) => (release = resolve));
      return true;
    });
    let settled = false;
    void ended.then(() => (settled = true));
    const changes: bigint[] = [];
    for (let change = 0; change < 4; change += 1) changes.push((await changeFlowStatus(database.prisma, tenant, flowId)).sequence);
    await until(() => hub.lastSequence === changes.at(-1), 'the hub to read every change');
    expect(pushed).toEqual(changes.slice(0, 1));
    release!();
    await until(() => pushed.length === 4, 'the held events');
    expect(pushed).toEqual(changes);
    // Pushing, next() settles only with the end of the stream.
    expect(settled).toBe(false);
    await stream.return!();
    expect(await ended).toEqual({ done: true, value: undefined });
    expect(hub.subscriberCount).toBe(0);
    await changeFlowStatus(database.prisma, tenant, flowId);
    expect(pushed).toHaveLength(4);
  });

  it('holds the end of an overflowing stream behind the event its sink is still busy with', async () => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
    await caughtUp();
    const pushed: FlowEvent[] = [];
    // The sink never finishes with the first event: everything after it queues, and the third overflows a
    // buffer of two.
    const { ended } = pushedStream(
      tenant,
      (event) => {
        pushed.push(event);
        return new Promise<never>(() => {});
      },
      2,
    );
    for (let change = 0; change < 4; change += 1) await changeFlowStatus(database.prisma, tenant, flowId);
    await until(() => hub.subscriberCount === 0, 'the overflowing subscription to be dropped');
    expect(pushed).toHaveLength(1);
    // The sink is still busy with the event it took: the end waits for it, so nothing overtakes it.
    const race = await Promise.race([ended, new Promise((resolve) => setTimeout(() => resolve('pending'), 200))]);
    expect(race).toBe('pending');
  });

  it('ends with the overflow error once the busy sink is done, naming the last event pushed', async () => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
    await caughtUp();
    const pushed: FlowEvent[] = [];
    let release: (() => void) | undefined;
    const { ended } = pushedStream(
      tenant,
      (event) => {
        pushed.push(event);
        return new Promise<void>((resolve) => (release = resolve));
      },
      2,
    );
    for (let change = 0; change < 4; change += 1) await changeFlowStatus(database.prisma, tenant, flowId);
    await until(() => hub.subscriberCount === 0, 'the overflowing subscription to be dropped');
    release!();
    const end = await ended;
    expect(end.done).toBe(false);
    const error = end.value as FlowEventsOverflowError;
    expect(error).toBeInstanceOf(FlowEventsOverflowError);
    expect(pushed).toHaveLength(1);
    expect(decodeFlowEventCursor(error.lastCursor)).toBe(pushed[0]!.sequence);
  });

  it('ends with the sink\'s error when the sink fails, and stops pushing', async () => {
    const tenant = newTenant();
    const { flowId } = await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' });
    await caughtUp();
    let calls = 0;
    const failure = new Error('the socket is gone');
    const { ended } = pushedStream(tenant, () => {
      calls += 1;
      throw failure;
    });
    // Watched before the change that makes it fail: a rejection nobody handles yet is reported by Node.
    const failed = expect(ended).rejects.toBe(failure);
    await changeFlowStatus(database.prisma, tenant, flowId);
    await failed;
    expect(hub.subscriberCount).toBe(0);
    await changeFlowStatus(database.prisma, tenant, flowId);
    expect(calls).toBe(1);
  });
});
