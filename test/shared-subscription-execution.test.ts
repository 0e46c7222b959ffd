// useSharedSubscriptionExecution: subscribers with the same document, variables and viewer share one
// execution per event object; anything that differs gets its own. A real Yoga server over SSE.
import { Repeater } from '@repeaterjs/repeater';
import { createSchema, createYoga } from 'graphql-yoga';
import { describe, expect, it } from 'vitest';
import { useSharedSubscriptionExecution } from '../src/graphql/shared-subscription-execution.ts';
import { until } from './support/polling.ts';

describe('shared subscription execution', () => {
  it('executes an event once per document, variables and viewer, and delivers it to every subscriber', async () => {
    let resolved = 0;
    const listeners = new Set<(event: { n: number }) => void>();
    const yoga = createYoga<{ viewer: string }>({
      schema: createSchema({
        typeDefs: 'type Query { ok: Boolean } type Event { n: Int! label(prefix: String!): String! } type Subscription { events: Event! }',
        resolvers: {
          Subscription: {
            events: {
              subscribe: () =>
                new Repeater<{ n: number }>(async (push, stop) => {
                  const listener = (event: { n: number }) => void push(event);
                  listeners.add(listener);
                  await stop;
                  listeners.delete(listener);
                }),
              resolve: (event: { n: number }) => event,
            },
          },
          Event: {
            label: (event: { n: number }, args: { prefix: string }) => {
              resolved += 1;
              return `${args.prefix}${event.n}`;
            },
          },
        },
      }),
      context: ({ request }) => ({ viewer: request.headers.get('x-viewer') ?? '' }),
      plugins: [useSharedSubscriptionExecution<{ viewer: string }>({ sharingKey: (context) => (context.viewer === 'nobody' ? null : context.viewer) })],
    });

    const subscribe = async (viewer: string, prefix: string) => {
      const response = await yoga.fetch('http://yoga/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'x-viewer': viewer },
        body: JSON.stringify({ query: 'subscription($p: String!) { events { n label(prefix: $p) } }', variables: { p: prefix } }),
      });
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
      let text = '';
      return {
        async take(count: number) {
          for (;;) {
            const items = [...text.matchAll(/^data: (\{.*\})$/gm)].map((match) => JSON.parse(match[1]!) as { data: { events: { label: string } } });
            if (items.length >= count) return items.map((item) => item.data.events.label);
            const { value, done } = await reader.read();
            if (done) throw new Error(`stream ended after ${text}`);
            text += value;
          }
        },
        cancel: () => reader.cancel(),
      };
    };

    const same = await Promise.all(Array.from({ length: 10 }, () => subscribe('alice', 'a')));
    const otherVariables = await subscribe('alice', 'b');
    const otherViewer = await subscribe('bob', 'a');
    const unshared = await Promise.all([subscribe('nobody', 'a'), subscribe('nobody', 'a')]);
    await until(() => listeners.size >= 14, 'the 14 subscriptions to start', 200);
    for (const n of [1, 2, 3]) {
      const event = { n };
      for (const listener of listeners) listener(event);
    }
    for (const subscriber of same) expect(await subscriber.take(3)).toEqual(['a1', 'a2', 'a3']);
    expect(await otherVariables.take(3)).toEqual(['b1', 'b2', 'b3']);
    expect(await otherViewer.take(3)).toEqual(['a1', 'a2', 'a3']);
    for (const subscriber of unshared) expect(await subscriber.take(3)).toEqual(['a1', 'a2', 'a3']);
    // 3 events × (alice/a shared by 10 + alice/b + bob/a + 2 unshared) = 3 × 5.
    expect(resolved).toBe(15);
    await Promise.all([...same, otherVariables, otherViewer, ...unshared].map((subscriber) => subscriber.cancel()));
  });
});
