// The development-mode viewer (FLOWGRAPH_AUTH=dev only): the tenant, user and roles come from plain
// request headers (HTTP) or the same keys in connectionParams (graphql-ws), with no proof at all.
// It exists so a developer can try any tenant from GraphiQL or curl; src/config.ts refuses it in
// production, and src/auth/authenticate.ts only consults it in dev mode.
import type { Viewer } from '../context.ts';
import { AuthenticationError } from '../auth/auth-errors.ts';
import { knownRoles, type Role } from '../auth/roles.ts';
import { invalidTextProblem } from '../domain/text.ts';
import { isUuid } from '../domain/uuid.ts';

export const VIEWER_HEADERS = {
  clientAccountId: 'x-client-account-id',
  engagementId: 'x-engagement-id',
  userId: 'x-user-id',
} as const;

/** Optional, comma-separated; without it a development viewer is an admin. */
export const ROLES_HEADER = 'x-roles';

const DEV_DEFAULT_ROLES: Role[] = ['admin'];

type IdentityKey = keyof typeof VIEWER_HEADERS;

export class MissingViewerError extends AuthenticationError {
  constructor(problem: string) {
    super(
      `${problem} Send Authorization: Bearer <token>, or in development mode the headers ` +
        `${Object.values(VIEWER_HEADERS).join(', ')} (over graphql-ws: the same names in connectionParams).`,
    );
  }
}

/** Whether any of the development headers is present (a request that tries to use them). */
export function hasViewerHeaders(read: (name: string) => unknown): boolean {
  return Object.values(VIEWER_HEADERS).some((header) => read(header) !== undefined && read(header) !== null);
}

/** Reads the viewer from header-like values; throws MissingViewerError when they are absent or malformed. */
export function viewerFrom(read: (name: string) => unknown): Viewer {
  const values = Object.fromEntries(
    Object.entries(VIEWER_HEADERS).map(([key, header]) => {
      const value = read(header);
      return [key, typeof value === 'string' ? value.trim() : ''];
    }),
  ) as Record<IdentityKey, string>;
  const missing = Object.entries(values)
    .filter(([, value]) => value === '')
    .map(([key]) => VIEWER_HEADERS[key as IdentityKey]);
  if (missing.length > 0) throw new MissingViewerError(`Missing ${missing.join(', ')}.`);
  for (const key of ['clientAccountId', 'engagementId'] as const) {
    if (!isUuid(values[key])) throw new MissingViewerError(`${VIEWER_HEADERS[key]} must be a uuid.`);
  }
  if (values.userId.length > 255) throw new MissingViewerError(`${VIEWER_HEADERS.userId} is longer than 255 characters.`);
  const problem = invalidTextProblem(values.userId);
  if (problem) throw new MissingViewerError(`${VIEWER_HEADERS.userId} ${problem}.`);
  const rolesValue = read(ROLES_HEADER);
  const roles = typeof rolesValue === 'string' ? knownRoles(rolesValue) : DEV_DEFAULT_ROLES;
  return { ...values, roles };
}
