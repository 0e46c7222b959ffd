// Issue 16, item 3: per-principal and per-process caps on what stays open (graphql-ws sockets and operations,
// SSE streams, request bodies being received), each with its typed error or close code, against real server
// processes with a 256 MiB heap. First the attack that crashed a fresh server (one viewer token, 750 sockets
// of 20 subscriptions each) on the defaults; then every cap at its edge, with small figures.
import http from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Viewer } from '../src/context.ts';
import { CLOSE_TOO_MANY_SOCKETS, CLOSE_TRY_AGAIN_LATER } from '../src/http/graphql-ws-server.ts';
import { authHeaders } from './support/auth.ts';
import { postGraphQL, startBudgetServer, type BudgetServer } from './support/budget-server.ts';
import { newTenant } from './support/factories.ts';
import { until } from './support/polling.ts';
import { openSocket, type RawSocket } from './support/ws-client.ts';

const SUBSCRIPTION = 'subscription { flowEvents { __typename } }';

function wsUrl(server: BudgetServer): string {
  return `${server.url.replace('http', 'ws')}/graphql`;
}

/** Subscribes and waits until the server has either taken the operation (no answer yet) or refused it. */
async function subscribe(socket: RawSocket, id: string): Promise<'running' | Record<string, unknown>> {
  const frames = socket.operation(id, SUBSCRIPTION);
  const answer = await Promise.race([frames, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 300))]);
  if (answer === 'running') return 'running';
  const error = answer.find((frame) => frame.type === 'error');
  return ((error?.payload as { extensions?: Record<string, unknown> }[] | undefined)?.[0]?.extensions ?? { frames: answer }) as Record<string, unknown>;
}

describe('one viewer token with 750 graphql-ws sockets of 20 subscriptions each (defaults)', () => {
  let server: BudgetServer;
  const sockets: RawSocket[] = [];
  beforeAll(async () => {
    server = await startBudgetServer();
  }, 120_000);
  afterAll(async () => {
    for (const socket of sockets) socket.close();
    await server?.dispose();
  });
  afterEach(() => expect(server.problems()).toEqual([]));

  it('gets 20 sockets (the rest closed with 4429) and 100 subscriptions (the rest TOO_MANY_SUBSCRIPTIONS), and the server serves everyone', async () => {
    const viewer = newTenant('viewer-750');
    const params = authHeaders({ ...viewer, roles: ['viewer'] });
    const outcomes: (boolean | { code: number; reason: string })[] = [];
    for (let batch = 0; batch < 750; batch += 50) {
      const opened = Array.from({ length: 50 }, () => openSocket(wsUrl(server), params));
      sockets.push(...opened);
      for (const socket of opened) outcomes.push((await socket.acknowledged) ? true : await socket.closed);
    }
    const accepted = sockets.filter((_, index) => outcomes[index] === true);
    expect(accepted).toHaveLength(20);
    const refused = outcomes.filter((outcome) => outcome !== true) as { code: number; reason: string }[];
    expect(refused).toHaveLength(730);
    expect(new Set(refused.map((outcome) => outcome.code))).toEqual(new Set([CLOSE_TOO_MANY_SOCKETS]));
    expect(refused[0]!.reason).toContain('at most 20 per user');

    const answers: ('running' | Record<string, unknown>)[] = [];
    for (const [index, socket] of accepted.entries()) {
      const started = Array.from({ length: 20 }, (_, id) => subscribe(socket, `s${index}-${id}`));
      answers.push(...(await Promise.all(started)));
    }
    expect(answers.filter((answer) => answer === 'running')).toHaveLength(100);
    const errors = answers.filter((answer) => answer !== 'running') as Record<string, unknown>[];
    expect(errors).toHaveLength(300);
    for (const error of errors) expect(error).toMatchObject({ code: 'TOO_MANY_SUBSCRIPTIONS', scope: 'user', limit: 100 });

    // Another user of the same tenant is not affected by this one's caps.
    const other = openSocket(wsUrl(server), authHeaders({ ...viewer, userId: 'someone-else' }));
    sockets.push(other);
    expect(await other.acknowledged).toBe(true);
    expect(await subscribe(other, 'o1')).toBe('running');

    // Closing sockets gives their slots back: the user may open one again, and subscribe there.
    for (const socket of accepted.slice(0, 2)) socket.close();
    await Promise.all(accepted.slice(0, 2).map((socket) => socket.closed));
    let again: RawSocket | undefined;
    for (let attempt = 0; attempt < 20 && !again; attempt += 1) {
      const candidate = openSocket(wsUrl(server), params);
      sockets.push(candidate);
      if (await candidate.acknowledged) again = candidate;
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(again).toBeDefined();
    expect(await subscribe(again!, 'again')).toBe('running');
  }, 180_000);
});

interface OpenStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: () => string;
  close(): void;
}

/** The extensions of the error an event stream was answered with (as an event: the client asked for events). */
function eventError(body: string): Record<string, unknown> {
  const data = body.split('\n').find((line) => line.startsWith('data:') && line.includes('errors'));
  return (JSON.parse(data!.slice(5)) as { errors: { extensions: Record<string, unknown> }[] }).errors[0]!.extensions;
}

/** An SSE subscription over POST, kept open until closed. */
function openEventStream(server: BudgetServer, viewer: Viewer): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${server.url}/graphql`, {
      method: 'POST',
      agent: false,
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...authHeaders(viewer) },
    });
    request.on('error', reject);
    request.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('error', () => {});
      resolve({ status: response.statusCode!, headers: response.headers, body: () => body, close: () => request.destroy() });
    });
    request.end(JSON.stringify({ query: SUBSCRIPTION }));
  });
}

describe('each cap at its edge (small figures)', () => {
  let server: BudgetServer;
  const cleanup: (() => void)[] = [];
  beforeAll(async () => {
    server = await startBudgetServer({
      FLOWGRAPH_WS_MAX_SOCKETS_PER_USER: '3',
      FLOWGRAPH_WS_MAX_SOCKETS: '5',
      FLOWGRAPH_MAX_SUBSCRIPTIONS_PER_USER: '4',
      FLOWGRAPH_MAX_SUBSCRIPTIONS: '6',
      FLOWGRAPH_SSE_MAX_STREAMS_PER_USER: '2',
      FLOWGRAPH_SSE_MAX_STREAMS: '3',
      FLOWGRAPH_MAX_PENDING_BODIES: '5',
      FLOWGRAPH_UPLOAD_IDLE_TIMEOUT_MS: '5000',
    });
  }, 120_000);
  afterAll(async () => {
    for (const close of cleanup) close();
    await server?.dispose();
  });
  afterEach(() => expect(server.problems()).toEqual([]));

  it('graphql-ws: sockets per user (4429) and per process (1013), operations per user and per process', async () => {
    const [a, b, c] = [newTenant('ws-a'), newTenant('ws-b'), newTenant('ws-c')];
    const connect = async (viewer: Viewer) => {
      const socket = openSocket(wsUrl(server), authHeaders(viewer));
      cleanup.push(() => socket.close());
      return { socket, ok: await socket.acknowledged };
    };
    const ofA = [await connect(a), await connect(a), await connect(a)];
    expect(ofA.map((socket) => socket.ok)).toEqual([true, true, true]);
    const fourthOfA = await connect(a);
    expect(fourthOfA.ok).toBe(false);
    expect((await fourthOfA.socket.closed).code).toBe(CLOSE_TOO_MANY_SOCKETS);
    const ofB = [await connect(b), await connect(b)];
    expect(ofB.map((socket) => socket.ok)).toEqual([true, true]);
    // Five sockets open in the process: the next one, of anybody, is told to try again later.
    const ofC = await connect(c);
    expect(ofC.ok).toBe(false);
    expect(await ofC.socket.closed).toMatchObject({ code: CLOSE_TRY_AGAIN_LATER });

    const aAnswers = [];
    for (let index = 0; index < 5; index += 1) aAnswers.push(await subscribe(ofA[index % 3]!.socket, `a${index}`));
    expect(aAnswers.slice(0, 4)).toEqual(['running', 'running', 'running', 'running']);
    expect(aAnswers[4]).toMatchObject({ code: 'TOO_MANY_SUBSCRIPTIONS', scope: 'user', limit: 4 });
    expect(await subscribe(ofB[0]!.socket, 'b0')).toBe('running');
    expect(await subscribe(ofB[1]!.socket, 'b1')).toBe('running');
    expect(await subscribe(ofB[1]!.socket, 'b2')).toMatchObject({ code: 'TOO_MANY_SUBSCRIPTIONS', scope: 'process', limit: 6, retryable: true });

    // A completed operation gives its slot back.
    ofB[0]!.socket.send(JSON.stringify({ id: 'b0', type: 'complete' }));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await subscribe(ofB[1]!.socket, 'b3')).toBe('running');
    // A closed socket gives back its slot and its operations' slots.
    ofA[0]!.socket.close();
    await ofA[0]!.socket.closed;
    await new Promise((resolve) => setTimeout(resolve, 200));
    const replacement = await connect(c);
    expect(replacement.ok).toBe(true);
    expect(await subscribe(replacement.socket, 'c0')).toBe('running');
    for (const { socket } of [...ofA, ...ofB, replacement]) socket.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
  }, 60_000);

  it('SSE: streams per user (429) and per process (503), with Retry-After; a closed stream gives its slot back', async () => {
    const [a, b, c] = [newTenant('sse-a'), newTenant('sse-b'), newTenant('sse-c')];
    const ofA = [await openEventStream(server, a), await openEventStream(server, a)];
    for (const stream of ofA) cleanup.push(stream.close);
    expect(ofA.map((stream) => stream.status)).toEqual([200, 200]);
    const thirdOfA = await openEventStream(server, a);
    expect(thirdOfA.status).toBe(429);
    expect(thirdOfA.headers['retry-after']).toBe('5');
    await until(() => thirdOfA.body().includes('TOO_MANY_EVENT_STREAMS'), 'the error body');
    expect(eventError(thirdOfA.body())).toMatchObject({ code: 'TOO_MANY_EVENT_STREAMS', scope: 'user', limit: 2 });
    const ofB = await openEventStream(server, b);
    cleanup.push(ofB.close);
    expect(ofB.status).toBe(200);
    const ofC = await openEventStream(server, c);
    expect(ofC.status).toBe(503);
    expect(ofC.headers['retry-after']).toBe('5');
    await until(() => ofC.body().includes('TOO_MANY_EVENT_STREAMS'), 'the error body');
    expect(eventError(ofC.body())).toMatchObject({ scope: 'process', limit: 3 });

    ofA[0]!.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
    const again = await openEventStream(server, c);
    cleanup.push(again.close);
    expect(again.status).toBe(200);
    for (const stream of [ofA[1]!, ofB, again]) stream.close();
    await new Promise((resolve) => setTimeout(resolve, 300));
  }, 60_000);

  it('request bodies being received: the process-wide cap answers 503 with Retry-After, and the slow ones end at the idle timeout', async () => {
    const viewer = newTenant('slow-bodies');
    const { port } = new URL(server.url);
    const slow = Array.from({ length: 5 }, () => {
      const request = http.request({
        host: '127.0.0.1',
        port: Number(port),
        path: '/graphql',
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': 1_000, ...authHeaders(viewer) },
      });
      let status = 0;
      let body = '';
      request.on('response', (response) => {
        status = response.statusCode!;
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
      });
      request.on('error', () => {});
      request.write('{"query":');
      cleanup.push(() => request.destroy());
      return { status: () => status, body: () => body };
    });
    // Time for the server to take them in (a loaded machine may take a while), well within the idle timeout.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    // Five slow bodies hold the cap (5): a body that would be the sixth is refused before it is read. (A body
    // holds its slot while it arrives, not while its request runs: fast requests hardly ever meet.)
    const refused = [];
    for (let attempt = 0; attempt < 2; attempt += 1) refused.push(await postGraphQL(server.url, viewer, { query: '{ __typename }' }));
    for (const answer of refused) {
      expect(answer.status).toBe(503);
      expect(answer.json.errors?.[0]?.extensions).toMatchObject({ code: 'TOO_MANY_PENDING_BODIES', scope: 'process', limit: 5 });
      expect(answer.headers.get('retry-after')).toBe('5');
    }
    // The idle timeout ends the slow ones (408), and the slots are free again.
    await until(() => slow.every((request) => request.status() === 408), 'the slow bodies to be ended', 800);
    for (const request of slow) expect(request.body()).toContain('REQUEST_BODY_TIMEOUT');
    const after = await Promise.all([0, 1, 2].map(() => postGraphQL(server.url, viewer, { query: '{ __typename }' })));
    expect(after.map((answer) => answer.status)).toEqual([200, 200, 200]);
  }, 60_000);
});
