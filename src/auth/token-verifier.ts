// Verifies bearer tokens (JWT) with jose: an HS256 shared secret or the keys of a JWKS URL, with the
// issuer, audience and expiry checked. The claims name the caller (`sub`), the tenant
// (`client_account_id`, `engagement_id`) and the roles (`roles`).
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { LRUCache } from 'lru-cache';
import type { AuthConfig } from '../config.ts';
import type { Viewer } from '../context.ts';
import { invalidTextProblem } from '../domain/text.ts';
import { isUuid } from '../domain/uuid.ts';
import { AuthenticationError, AuthenticationUnavailableError } from './auth-errors.ts';
import { knownRoles } from './roles.ts';

/** A verified caller, and when its credentials stop being valid (ms since the epoch; null: never). */
export interface Principal {
  viewer: Viewer;
  expiresAt: number | null;
}

export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}

/** Tokens longer than this are refused unread: no identity provider issues them. */
export const MAX_TOKEN_LENGTH = 8_192;

/** Verified tokens remembered (by their text) so that a client's next request skips the signature check. */
const VERIFIED_TOKENS = 10_000;
/** Longest a verified token is remembered, whatever its expiry. */
export const VERIFIED_TOKEN_TTL_MS = 60_000;

/** The key set could not be fetched or read: the identity provider's problem, not the caller's. */
class KeySetUnavailable extends Error {}

/** Token problems the key lookup itself can find (no key for its kid, an algorithm it cannot use). */
function isTokenProblem(error: unknown): boolean {
  return (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys ||
    error instanceof errors.JOSEAlgNotAllowed ||
    error instanceof errors.JOSENotSupported
  );
}

const ASYMMETRIC_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

/** Null when the configuration names no key (dev mode without a secret: header viewer only). */
export function createTokenVerifier(auth: AuthConfig): TokenVerifier | null {
  let key: Uint8Array | JWTVerifyGetKey;
  let algorithms: string[];
  if (auth.jwtSecret) {
    key = new TextEncoder().encode(auth.jwtSecret);
    algorithms = ['HS256'];
  } else if (auth.jwksUrl) {
    const remote = createRemoteJWKSet(new URL(auth.jwksUrl), { timeoutDuration: 5_000, cooldownDuration: 30_000 });
    key = async (header, token) => {
      try {
        return await remote(header, token);
      } catch (error) {
        if (isTokenProblem(error)) throw error;
        throw new KeySetUnavailable();
      }
    };
    algorithms = ASYMMETRIC_ALGORITHMS;
  } else {
    return null;
  }
  // A client sends the same token with every request until it expires. Verifying it costs an HMAC or a
  // signature check through WebCrypto each time (a large share of a small read's CPU on the read
  // benchmark), so a verified token's principal is kept, by the token's exact text, until the token
  // expires, and at most VERIFIED_TOKEN_TTL_MS so that a key removed from a JWKS stops being honoured soon.
  const verified = new LRUCache<string, Principal>({ max: VERIFIED_TOKENS });
  return {
    async verify(token) {
      if (token.length > MAX_TOKEN_LENGTH) throw new AuthenticationError('The bearer token is too long.');
      const known = verified.get(token);
      if (known) return known;
      let payload: JWTPayload;
      try {
        ({ payload } = await jwtVerify(token, key as Uint8Array, {
          algorithms,
          issuer: auth.issuer,
          audience: auth.audience,
          clockTolerance: auth.clockToleranceSeconds,
          requiredClaims: ['exp', 'sub'],
        }));
      } catch (error) {
        throw translate(error);
      }
      const principal = { viewer: viewerFromClaims(payload), expiresAt: (payload.exp as number) * 1_000 };
      // jose accepts a token until exp + clock tolerance.
      const ttl = Math.min(VERIFIED_TOKEN_TTL_MS, principal.expiresAt + auth.clockToleranceSeconds * 1_000 - Date.now());
      if (ttl > 0) verified.set(token, principal, { ttl });
      return principal;
    },
  };
}

function translate(error: unknown): Error {
  if (error instanceof KeySetUnavailable) return new AuthenticationUnavailableError();
  if (error instanceof errors.JWTExpired) return new AuthenticationError('The bearer token has expired.');
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'iss':
        return new AuthenticationError('The bearer token was issued by an issuer this server does not accept.');
      case 'aud':
        return new AuthenticationError('The bearer token is not meant for this server (audience).');
      case 'nbf':
        return new AuthenticationError('The bearer token is not valid yet.');
      default:
        return new AuthenticationError(`The bearer token's "${error.claim}" claim is missing or invalid.`);
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new AuthenticationError('The bearer token signature does not verify.');
  }
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return new AuthenticationError('No key of the key set verifies the bearer token.');
  }
  if (error instanceof errors.JOSEError || error instanceof TypeError) {
    return new AuthenticationError('The bearer token is malformed or signed with an algorithm this server does not accept.');
  }
  return error instanceof Error ? error : new Error(String(error));
}

function viewerFromClaims(payload: JWTPayload): Viewer {
  const userId = payload.sub;
  if (typeof userId !== 'string' || userId.trim() === '' || userId.length > 255) {
    throw new AuthenticationError('The bearer token\'s "sub" claim must name the user (1 to 255 characters).');
  }
  const problem = invalidTextProblem(userId);
  if (problem) throw new AuthenticationError(`The bearer token's "sub" claim ${problem}.`);
  const clientAccountId = payload.client_account_id;
  const engagementId = payload.engagement_id;
  if (typeof clientAccountId !== 'string' || !isUuid(clientAccountId)) {
    throw new AuthenticationError('The bearer token\'s "client_account_id" claim must be a uuid.');
  }
  if (typeof engagementId !== 'string' || !isUuid(engagementId)) {
    throw new AuthenticationError('The bearer token\'s "engagement_id" claim must be a uuid.');
  }
  return {
    clientAccountId: clientAccountId.toLowerCase(),
    engagementId: engagementId.toLowerCase(),
    userId,
    roles: knownRoles(payload.roles),
  };
}
