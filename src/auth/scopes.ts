// Roles as @pothos/plugin-scope-auth scopes. Each scope is true when the caller holds that role or a
// higher one, so `authScopes: { operator: true }` admits operators and admins.
import type { AuthFailure, ForbiddenResult } from '@pothos/plugin-scope-auth';
import type { Viewer } from '../context.ts';
import { ForbiddenError } from './auth-errors.ts';
import { isRole, ROLES, roleSatisfies, type Role } from './roles.ts';

export type RoleScopes = Record<Role, boolean>;

export function authScopesFor(viewer: Pick<Viewer, 'roles'>): RoleScopes {
  return Object.fromEntries(ROLES.map((role) => [role, roleSatisfies(viewer.roles, role)])) as RoleScopes;
}

/** The roles a failed check asked for. */
function requiredRoles(failure: AuthFailure): Role[] {
  switch (failure.kind) {
    case 'AuthScope':
      return isRole(failure.scope) ? [failure.scope] : [];
    case 'AnyAuthScopes':
    case 'AllAuthScopes':
      return failure.failures.flatMap(requiredRoles);
    default:
      return [];
  }
}

/** The error a caller without the role gets: names the lowest role that would have been enough. */
export function forbiddenError(viewer: Pick<Viewer, 'roles'>, result: ForbiddenResult): ForbiddenError {
  const asked = requiredRoles(result.failure);
  const lowest = ROLES.find((role) => asked.includes(role)) ?? 'admin';
  return new ForbiddenError(lowest, viewer.roles);
}
