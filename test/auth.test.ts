// Authentication over every transport: bearer JWTs (HS256 secret and JWKS) with issuer, audience and
// expiry checked, 401 over HTTP, close 4403 over graphql-ws (also when the token expires on an open
// socket), SSE streams that end at expiry, and the development mode.
import { MAX_TIMER_MS, setLongTimeout } from '../src/graphql/credential-expiry.ts';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.ts';
import type { AuthConfig } from '../src/config.ts';
import type { Viewer } from '../src/context.ts';
import type { Database } from '../src/db/database.ts';
import { authHeaders, TEST_AUTH, testToken, signHs256 } from './support/auth.ts';
import { createFlowGraph, newTenant } from './support/factories.ts';
import { testApp } from './support/graphql.ts';
import { readSse } from './support/sse.ts';
import { resetDatabase, testDatabase } from './support/test-database.ts';
import { tickingSchema } from './support/ticking-schema.ts';
import { openSocket } from './support/ws-client.ts';

const COUNT = '{ masterFlows { totalCount } }';

let database: Database;
let app: App;
let base: string;
const tenant: Viewer = newTenant('alice');

async function post(headers: Record<string, string>, query = COUNT, url = `${base}/graphql`) {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  const body = (await response.json()) as { data?: { masterFlows?: { totalCount: number } } | null; errors?: { message: string; extensions?: Record<string, unknown> }[] };
  return { status: response.status, headers: response.headers, body };
}

function bearer(token: string) {
  return { authorization: `Bearer ${token}` };
}

beforeAll(async () => {
  database = await testDatabase();
  await resetDatabase(database);
  await createFlowGraph(database.prisma, tenant);
  await createFlowGraph(database.prisma, tenant);
  app = testApp(database);
  base = `http://127.0.0.1:${await app.start()}`;
});
afterAll(async () => app?.stop());

describe('bearer tokens over HTTP', () => {
  it('serve the tenant named in the token', async () => {
    const { status, body } = await post(authHeaders(tenant));
    expect(status).toBe(200);
    expect(body.data?.masterFlows?.totalCount).toBe(2);
  });

  it('are verified with jose: a token signed by jose itself is accepted', async () => {
    const token = await new SignJWT({ client_account_id: tenant.clientAccountId, engagement_id: tenant.engagementId, roles: ['viewer'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('alice')
      .setIssuer(TEST_AUTH.issuer)
      .setAudience(TEST_AUTH.audience)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(TEST_AUTH.jwtSecret));
    const { status, body } = await post(bearer(token));
    expect(status).toBe(200);
    expect(body.data?.masterFlows?.totalCount).toBe(2);
  });

  const refusals: [string, () => Record<string, string>, RegExp][] = [
    ['no credentials', () => ({}), /Missing credentials/],
    ['a scheme other than Bearer', () => ({ authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }), /must be "Bearer <token>"/],
    ['an empty bearer', () => ({ authorization: 'Bearer ' }), /must be "Bearer <token>"/],
    ['garbage', () => bearer('not.a.jwt'), /malformed/],
    ['another secret', () => bearer(testToken(tenant, { secret: 'another-secret-that-is-also-long-enough-0123' })), /signature does not verify/],
    ['an expired token', () => bearer(testToken(tenant, { expiresInSeconds: -5 })), /has expired/],
    ['another issuer', () => bearer(testToken(tenant, { issuer: 'https://evil.example/' })), /issuer/],
    ['another audience', () => bearer(testToken(tenant, { audience: 'some-other-api' })), /audience/],
    ['no exp', () => bearer(testToken(tenant, { claims: { exp: undefined } })), /"exp" claim/],
    ['no sub', () => bearer(testToken(tenant, { claims: { sub: undefined } })), /"sub" claim/],
    ['no tenant', () => bearer(testToken(tenant, { claims: { client_account_id: undefined } })), /"client_account_id" claim must be a uuid/],
    ['a tenant that is not a uuid', () => bearer(testToken(tenant, { claims: { engagement_id: "x' OR 1=1 --" } })), /"engagement_id" claim must be a uuid/],
    [
      'alg none',
      () => {
        const unsigned = testToken(tenant).split('.');
        const header = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
        return bearer(`${header}.${unsigned[1]}.`);
      },
      /malformed|algorithm/,
    ],
    ['an oversized token', () => bearer('a'.repeat(10_000)), /too long/],
  ];

  for (const [label, headers, message] of refusals) {
    it(`answer 401 for ${label}, with a clear error and no data`, async () => {
      const { status, headers: responseHeaders, body } = await post(headers());
      expect(status).toBe(401);
      expect(responseHeaders.get('www-authenticate')).toMatch(/^Bearer/);
      expect(body.data ?? null).toBeNull();
      expect(body.errors).toHaveLength(1);
      expect(body.errors![0]!.extensions?.code).toBe('UNAUTHENTICATED');
      expect(body.errors![0]!.message).toMatch(message);
    });
  }

  it('stop accepting a token when it expires, although its first verification is remembered', async () => {
    // Signed to expire two seconds from now (exp has whole seconds): accepted now, and again from the
    // verified-token cache, then refused once expired (TEST_AUTH allows no clock tolerance).
    const token = testToken(tenant, { expiresInSeconds: 2 });
    const expiresAt = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp * 1_000;
    expect((await post(bearer(token))).status).toBe(200);
    expect((await post(bearer(token))).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, expiresAt - Date.now() + 100));
    const { status, body } = await post(bearer(token));
    expect(status).toBe(401);
    expect(body.errors![0]!.message).toMatch(/has expired/);
  });

  it('never echo the token back', async () => {
    const token = testToken(tenant, { expiresInSeconds: -5 });
    const response = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...bearer(token) },
      body: JSON.stringify({ query: COUNT }),
    });
    expect(await response.text()).not.toContain(token.split('.')[2]);
  });
});

describe('bearer tokens from a JWKS URL', () => {
  let jwksServer: Server;
  let jwksApp: App;
  let jwksBase: string;
  let privateKey: CryptoKey;
  let auth: AuthConfig;
  let served = true;

  async function rs256(claims: Record<string, unknown>, key = privateKey, kid = 'key-1') {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid })
      .setSubject('alice')
      .setIssuer('https://idp.example/')
      .setAudience('flowgraph')
      .setExpirationTime('5m')
      .sign(key);
  }

  beforeAll(async () => {
    const pair = await generateKeyPair('RS256');
    privateKey = pair.privateKey;
    const jwk: JWK = { ...(await exportJWK(pair.publicKey)), kid: 'key-1', alg: 'RS256', use: 'sig' };
    jwksServer = createServer((_request, response) => {
      if (!served) {
        response.writeHead(503).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    auth = {
      ...TEST_AUTH,
      jwtSecret: undefined,
      jwksUrl: `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`,
      issuer: 'https://idp.example/',
      audience: 'flowgraph',
    };
    jwksApp = testApp(database, { auth });
    jwksBase = `http://127.0.0.1:${await jwksApp.start()}`;
  });
  afterAll(async () => {
    await jwksApp?.stop();
    await new Promise((resolve) => jwksServer?.close(resolve));
  });

  const claims = () => ({ client_account_id: tenant.clientAccountId, engagement_id: tenant.engagementId, roles: ['viewer'] });

  it('accept a token signed by a key of the set', async () => {
    const { status, body } = await post(bearer(await rs256(claims())), COUNT, `${jwksBase}/graphql`);
    expect(status).toBe(200);
    expect(body.data?.masterFlows?.totalCount).toBe(2);
  });

  it('refuse a token signed by a key outside the set, and an HS256 token (no algorithm confusion)', async () => {
    const stranger = (await generateKeyPair('RS256')).privateKey;
    const outside = await post(bearer(await rs256(claims(), stranger)), COUNT, `${jwksBase}/graphql`);
    expect(outside.status).toBe(401);
    expect(outside.body.errors![0]!.message).toMatch(/signature does not verify|No key/);
    const hs = await post(bearer(testToken(tenant, { issuer: auth.issuer, audience: auth.audience })), COUNT, `${jwksBase}/graphql`);
    expect(hs.status).toBe(401);
  });

  it('answer a retryable 503 when the key set cannot be fetched', async () => {
    served = false;
    // A fresh app has no cached key set, so it must fetch one, from a server that now fails.
    const unlucky = testApp(database, { auth });
    try {
      const response = await unlucky.yoga.fetch('http://flowgraph.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...bearer(await rs256(claims())) },
        body: JSON.stringify({ query: COUNT }),
      });
      const body = (await response.json()) as { errors: { extensions: Record<string, unknown> }[] };
      expect(response.status).toBe(503);
      expect(body.errors[0]!.extensions).toMatchObject({ code: 'AUTHENTICATION_UNAVAILABLE', retryable: true });
    } finally {
      served = true;
      await unlucky.stop();
    }
  });
});

describe('graphql-ws authentication', () => {
  const wsUrl = () => `${base.replace('http', 'ws')}/graphql`;

  it('acknowledges a socket with a valid token and runs its operations for that tenant', async () => {
    const socket = openSocket(wsUrl(), authHeaders(tenant));
    expect(await socket.acknowledged).toBe(true);
    const frames = await socket.operation('1', COUNT);
    expect(frames[0]).toMatchObject({ type: 'next', payload: { data: { masterFlows: { totalCount: 2 } } } });
    socket.close();
  });

  for (const [label, params, reason] of [
    ['no connectionParams', undefined, /Missing credentials/],
    ['an expired token', authHeaders(tenant, { expiresInSeconds: -5 }), /has expired/],
    ['a token for another audience', authHeaders(tenant, { audience: 'elsewhere' }), /audience/],
    ['development headers outside development mode', { 'x-client-account-id': tenant.clientAccountId, 'x-engagement-id': tenant.engagementId, 'x-user-id': 'x' }, /Missing credentials/],
  ] as const) {
    it(`closes the socket with 4403 for ${label}`, async () => {
      const socket = openSocket(wsUrl(), params);
      expect(await socket.acknowledged).toBe(false);
      const { code, reason: text } = await socket.closed;
      expect(code).toBe(4403);
      expect(text).toMatch(reason);
    });
  }

  it('closes a socket with 4403 when its token expires while it is open', async () => {
    // JWT expiry has one-second resolution: this token expires 2 to 3 seconds from now.
    const expiresAt = (Math.floor(Date.now() / 1_000) + 3) * 1_000;
    const socket = openSocket(wsUrl(), bearer(testToken(tenant, { claims: { exp: expiresAt / 1_000 } })));
    expect(await socket.acknowledged).toBe(true);
    expect((await socket.operation('1', COUNT))[0]).toMatchObject({ type: 'next' });
    const { code, reason } = await socket.closed;
    const closedAt = Date.now();
    expect(code).toBe(4403);
    expect(reason).toMatch(/expired/);
    expect(closedAt).toBeGreaterThanOrEqual(expiresAt - 50);
    expect(closedAt).toBeLessThan(expiresAt + 1_000);
  });
});

describe('credentials valid for longer than setTimeout can wait (24.8 days)', () => {
  it('keep a socket open, not closed at once by an overflowing timer', async () => {
    const thirtyDays = 30 * 24 * 3_600;
    const socket = openSocket(`${base.replace('http', 'ws')}/graphql`, bearer(testToken(tenant, { expiresInSeconds: thirtyDays })));
    expect(await socket.acknowledged).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect((await socket.operation('1', COUNT))[0]).toMatchObject({ type: 'next', payload: { data: { masterFlows: { totalCount: 2 } } } });
    socket.close();
  });

  it('are timed in steps that never exceed what setTimeout can wait, firing on time', async () => {
    // The same timer the expiry uses, with 20-ms steps instead of 24.8 days: 300 ms take 15 steps.
    const started = Date.now();
    const fired = await new Promise<number>((resolve) => setLongTimeout(() => resolve(Date.now()), 300, 20));
    // Node's timers count from the event loop's cached clock, which can run up to a millisecond behind Date.now().
    expect(fired - started).toBeGreaterThanOrEqual(298);
    expect(fired - started).toBeLessThan(600);
    let cancelledFired = false;
    const timer = setLongTimeout(() => (cancelledFired = true), 100, 20);
    await new Promise((resolve) => setTimeout(resolve, 50));
    timer.cancel();
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(cancelledFired).toBe(false);
    // A delay past setTimeout's range does not fire at once.
    let overflowFired = false;
    const long = setLongTimeout(() => (overflowFired = true), MAX_TIMER_MS * 3);
    await new Promise((resolve) => setTimeout(resolve, 100));
    long.cancel();
    expect(overflowFired).toBe(false);
  });
});

describe('SSE subscriptions', () => {
  // The flow graph schema has no subscription of its own yet; a ticking one shows the transport.
  const tickSchema = tickingSchema(Number.POSITIVE_INFINITY, 100);
  let tickApp: App;
  let tickBase: string;

  beforeAll(async () => {
    tickApp = testApp(database, {}, { schema: tickSchema });
    tickBase = `http://127.0.0.1:${await tickApp.start()}`;
  });
  afterAll(async () => tickApp?.stop());

  function subscribe(headers: Record<string, string>) {
    return fetch(`${tickBase}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...headers },
      body: JSON.stringify({ query: 'subscription { ticks }' }),
    });
  }

  it('refuse a subscription without credentials with 401', async () => {
    const response = await subscribe({});
    expect(response.status).toBe(401);
    await response.body?.cancel();
  });

  it('end the stream when the token expires, with UNAUTHENTICATED as the last event', async () => {
    const expiresAt = (Math.floor(Date.now() / 1_000) + 3) * 1_000;
    const response = await subscribe(bearer(testToken(tenant, { claims: { exp: expiresAt / 1_000 } })));
    expect(response.status).toBe(200);
    const events = await readSse(response);
    const ended = Date.now();
    const nexts = events.filter((event) => event.event === 'next');
    expect(nexts.length).toBeGreaterThan(5);
    expect(nexts.slice(0, -1).every((event) => typeof (event.data as { data: { ticks: number } }).data.ticks === 'number')).toBe(true);
    expect(nexts.at(-1)!.data).toMatchObject({ errors: [{ extensions: { code: 'UNAUTHENTICATED', reason: 'CREDENTIALS_EXPIRED' } }] });
    expect(events.at(-1)!.event).toBe('complete');
    expect(ended).toBeGreaterThanOrEqual(expiresAt - 50);
    expect(ended).toBeLessThan(expiresAt + 1_500);
  });

  it('end a graphql-ws subscription too: the socket closes at expiry', async () => {
    const expiresAt = (Math.floor(Date.now() / 1_000) + 3) * 1_000;
    const socket = openSocket(`${tickBase.replace('http', 'ws')}/graphql`, bearer(testToken(tenant, { claims: { exp: expiresAt / 1_000 } })));
    expect(await socket.acknowledged).toBe(true);
    const frames = await socket.operation('ticks', 'subscription { ticks }');
    const { code } = await socket.closed;
    expect(code).toBe(4403);
    expect(frames.filter((frame) => frame.type === 'next').length).toBeGreaterThan(5);
    expect(Date.now()).toBeLessThan(expiresAt + 1_500);
  });
});

describe('development mode', () => {
  let devApp: App;
  let devBase: string;
  const devAuth: AuthConfig = { ...TEST_AUTH, mode: 'dev' };

  beforeAll(async () => {
    devApp = testApp(database, { auth: devAuth });
    devBase = `http://127.0.0.1:${await devApp.start()}`;
  });
  afterAll(async () => devApp?.stop());

  const devHeaders = (roles?: string) => ({
    'x-client-account-id': tenant.clientAccountId,
    'x-engagement-id': tenant.engagementId,
    'x-user-id': 'developer',
    ...(roles === undefined ? {} : { 'x-roles': roles }),
  });

  it('accepts the header viewer, as an admin unless x-roles says otherwise', async () => {
    const admin = await post(devHeaders(), COUNT, `${devBase}/graphql`);
    expect(admin.status).toBe(200);
    expect(admin.body.data?.masterFlows?.totalCount).toBe(2);
    const none = await post(devHeaders('guest'), COUNT, `${devBase}/graphql`);
    expect(none.body.errors![0]!.extensions?.code).toBe('FORBIDDEN');
  });

  it('still verifies bearer tokens, and a bad one is not rescued by the headers', async () => {
    expect((await post(authHeaders(tenant), COUNT, `${devBase}/graphql`)).body.data?.masterFlows?.totalCount).toBe(2);
    const forged = { ...devHeaders(), authorization: `Bearer ${signHs256({ sub: 'x' }, 'wrong-secret')}` };
    expect((await post(forged, COUNT, `${devBase}/graphql`)).status).toBe(401);
  });

  it('refuses malformed development headers with 401', async () => {
    const { status, body } = await post({ ...devHeaders(), 'x-client-account-id': 'nope' }, COUNT, `${devBase}/graphql`);
    expect(status).toBe(401);
    expect(body.errors![0]!.message).toMatch(/x-client-account-id must be a uuid/);
  });
});
