// Roles are ordered: a viewer reads; an operator also imports and transitions flows; an admin also
// deletes flows and reads the integrity report. Each role includes the ones below it, so a token
// carries only its highest role and the schema asks for the lowest role that may act.
export const ROLES = ['viewer', 'operator', 'admin'] as const;

export type Role = (typeof ROLES)[number];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** Whether someone holding `granted` may act where `required` is asked for. */
export function roleSatisfies(granted: readonly Role[], required: Role): boolean {
  const needed = ROLES.indexOf(required);
  return granted.some((role) => ROLES.indexOf(role) >= needed);
}

/**
 * The roles a credential names, keeping only the ones flowgraph knows: identity providers put other
 * applications' roles into the same claim, and those grant nothing here.
 */
export function knownRoles(values: unknown): Role[] {
  const list = Array.isArray(values) ? values : typeof values === 'string' ? values.split(/[\s,]+/) : [];
  return ROLES.filter((role) => list.includes(role));
}
