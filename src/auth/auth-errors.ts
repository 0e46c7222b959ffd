// The errors authentication and authorization raise. They are GraphQL errors with a stable
// `extensions.code`, so clients can act on them, and they carry nothing secret: never the token,
// never which part of a signature failed beyond what the caller needs to fix its request.
import { GraphQLError } from 'graphql';
import type { Role } from './roles.ts';

/** No credentials, or credentials that do not verify: HTTP 401, graphql-ws close 4403. */
export class AuthenticationError extends GraphQLError {
  constructor(message: string) {
    super(message, {
      extensions: {
        code: 'UNAUTHENTICATED',
        http: { status: 401, headers: { 'www-authenticate': 'Bearer realm="flowgraph"' } },
      },
    });
  }
}

/** The identity provider's key set cannot be fetched: the caller may retry. */
export class AuthenticationUnavailableError extends GraphQLError {
  constructor() {
    super('The keys that verify tokens cannot be fetched right now; try again shortly.', {
      extensions: { code: 'AUTHENTICATION_UNAVAILABLE', retryable: true, http: { status: 503 } },
    });
  }
}

/** An authenticated caller without the role a field asks for. */
export class ForbiddenError extends GraphQLError {
  readonly requiredRole: Role;

  constructor(requiredRole: Role, grantedRoles: readonly Role[]) {
    super(
      `This needs the ${requiredRole} role; your credentials grant ${grantedRoles.length > 0 ? grantedRoles.join(', ') : 'no role'}.`,
      { extensions: { code: 'FORBIDDEN', requiredRole } },
    );
    this.requiredRole = requiredRole;
  }
}
