// The token `npm start` prints in development mode, signed with the development secret, so GraphiQL
// and curl work against the demo tenant exactly as a real client would, through the bearer path.
import { SignJWT } from 'jose';
import type { AuthConfig } from '../config.ts';
import type { Viewer } from '../context.ts';

export const DEV_TOKEN_TTL_SECONDS = 12 * 60 * 60;

export async function mintDevToken(auth: AuthConfig, viewer: Viewer, ttlSeconds = DEV_TOKEN_TTL_SECONDS): Promise<string> {
  if (!auth.jwtSecret) throw new Error('mintDevToken needs an HS256 secret in the configuration');
  return new SignJWT({
    client_account_id: viewer.clientAccountId,
    engagement_id: viewer.engagementId,
    roles: viewer.roles,
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(viewer.userId)
    .setIssuer(auth.issuer)
    .setAudience(auth.audience)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1_000) + ttlSeconds)
    .sign(new TextEncoder().encode(auth.jwtSecret));
}
