// Who is calling: one function for every transport. HTTP (queries, mutations, SSE) passes request
// headers; graphql-ws passes connectionParams at connection_init, with the same names. A bearer token
// is verified whenever one is sent; the header viewer is consulted only in development mode.
import type { AuthConfig } from '../config.ts';
import { hasViewerHeaders, viewerFrom } from '../http/viewer.ts';
import { AuthenticationError } from './auth-errors.ts';
import { createTokenVerifier, type Principal } from './token-verifier.ts';

export type { Principal } from './token-verifier.ts';

export const AUTHORIZATION = 'authorization';

export interface Authenticator {
  /** Verifies the caller; throws AuthenticationError (or AuthenticationUnavailableError). */
  authenticate(read: (name: string) => unknown): Promise<Principal>;
}

export function createAuthenticator(auth: AuthConfig): Authenticator {
  const verifier = createTokenVerifier(auth);
  return {
    async authenticate(read) {
      const authorization = read(AUTHORIZATION) ?? read('Authorization');
      if (authorization !== undefined && authorization !== null) {
        if (typeof authorization !== 'string') throw new AuthenticationError('Authorization must be a string "Bearer <token>".');
        const match = /^Bearer +(\S+) *$/i.exec(authorization);
        if (!match) throw new AuthenticationError('Authorization must be "Bearer <token>".');
        if (!verifier) {
          throw new AuthenticationError(
            'This server verifies no bearer tokens (development mode without FLOWGRAPH_JWT_SECRET); use the printed dev token or the viewer headers.',
          );
        }
        return verifier.verify(match[1]!);
      }
      if (auth.mode === 'dev' && hasViewerHeaders(read)) return { viewer: viewerFrom(read), expiresAt: null };
      throw new AuthenticationError(
        auth.mode === 'dev'
          ? 'Missing credentials. Send Authorization: Bearer <token> (npm start prints a dev token), or the development headers x-client-account-id, x-engagement-id and x-user-id.'
          : 'Missing credentials. Send Authorization: Bearer <token> (over graphql-ws: {"authorization": "Bearer <token>"} in connectionParams).',
      );
    },
  };
}
