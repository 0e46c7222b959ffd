// Roles as @pothos/plugin-scope-auth scopes. Each scope is true when the caller holds that role or a
// higher one, so `authScopes: { operator: true }` admits operators and admins.
import type { AuthFailure, ForbiddenResult } from '@pothos/plugin-scope-auth';
import type { GraphQLSchema } from 'graphql';
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

type Scoped = { extensions?: { pothosOptions?: { authScopes?: unknown } } | null };

/** The lowest role a scope map names; null when it names none (or is a function). */
function lowestRole(scopes: unknown): Role | null {
  if (!scopes || typeof scopes !== 'object') return null;
  const named = Object.entries(scopes as Record<string, unknown>)
    .filter(([, value]) => Boolean(value))
    .map(([key]) => key);
  return ROLES.find((role) => named.includes(role)) ?? null;
}

/** The role a root field asks for: its own scopes, else its type's. */
export function requiredRoleOf(type: Scoped, field: Scoped): Role | null {
  return lowestRole(field.extensions?.pothosOptions?.authScopes) ?? lowestRole(type.extensions?.pothosOptions?.authScopes);
}

/**
 * Writes the role each root field needs into its description, so schema.graphql (the API reference)
 * says who may call what.
 */
export function documentRequiredRoles(schema: GraphQLSchema): void {
  for (const type of [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()]) {
    if (!type) continue;
    for (const field of Object.values(type.getFields())) {
      const role = requiredRoleOf(type, field);
      if (!role || field.description?.includes('Requires the')) continue;
      field.description = `${field.description ?? ''}${field.description ? '\n\n' : ''}Requires the ${role} role.`;
    }
  }
}
