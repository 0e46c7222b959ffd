// Credentials for tests: the authentication configuration test apps and test server processes run
// with, and bearer tokens for any viewer. Tokens are HS256 JWTs signed here with node:crypto so that
// helpers stay synchronous (viewerHeaders() is used everywhere); the server verifies them with jose,
// and test/auth.test.ts also signs with jose itself.
import { createHmac } from 'node:crypto';
import type { AuthConfig } from '../../src/config.ts';
import type { Viewer } from '../../src/context.ts';
import type { Role } from '../../src/auth/roles.ts';

export const TEST_AUTH: AuthConfig = {
  mode: 'jwt',
  jwtSecret: 'flowgraph-test-secret-0123456789-abcdefghijklmnop',
  jwksUrl: undefined,
  issuer: 'https://issuer.flowgraph.test/',
  audience: 'flowgraph-api',
  clockToleranceSeconds: 0,
};

/** The environment that gives a server process the same authentication as test apps. */
export const TEST_AUTH_ENV = {
  FLOWGRAPH_AUTH: 'jwt',
  FLOWGRAPH_JWT_SECRET: TEST_AUTH.jwtSecret,
  FLOWGRAPH_JWKS_URL: '',
  FLOWGRAPH_JWT_ISSUER: TEST_AUTH.issuer,
  FLOWGRAPH_JWT_AUDIENCE: TEST_AUTH.audience,
  FLOWGRAPH_JWT_CLOCK_TOLERANCE_S: '0',
};

/** A viewer as tests describe one; without roles it is an admin, so every operation is allowed. */
export type TestViewer = Omit<Viewer, 'roles'> & { roles?: Role[] };

export interface TokenOptions {
  /** Seconds from now until `exp` (negative: already expired). */
  expiresInSeconds?: number;
  secret?: string;
  issuer?: string;
  audience?: string;
  /** Claims to add or override (undefined removes one). */
  claims?: Record<string, unknown>;
}

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

export function signHs256(payload: Record<string, unknown>, secret: string): string {
  const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = base64url(JSON.stringify(payload));
  const signature = createHmac('sha256', secret).update(`${header}.${body}`).digest('base64url');
  return `${header}.${body}.${signature}`;
}

export function testToken(viewer: TestViewer, options: TokenOptions = {}): string {
  const now = Math.floor(Date.now() / 1_000);
  const payload: Record<string, unknown> = {
    sub: viewer.userId,
    client_account_id: viewer.clientAccountId,
    engagement_id: viewer.engagementId,
    roles: viewer.roles ?? ['admin'],
    iss: options.issuer ?? TEST_AUTH.issuer,
    aud: options.audience ?? TEST_AUTH.audience,
    iat: now,
    exp: now + (options.expiresInSeconds ?? 3_600),
    ...options.claims,
  };
  for (const [key, value] of Object.entries(payload)) if (value === undefined) delete payload[key];
  return signHs256(payload, options.secret ?? TEST_AUTH.jwtSecret!);
}

/** `{ authorization: 'Bearer …' }`: HTTP headers, and graphql-ws connectionParams alike. */
export function authHeaders(viewer: TestViewer, options?: TokenOptions): { authorization: string } {
  return { authorization: `Bearer ${testToken(viewer, options)}` };
}
