import { builder } from '../builder.ts';
import type { Viewer } from '../context.ts';
import { ROLES, roleSatisfies, type Role } from '../auth/roles.ts';
import { enumValues } from './enum-values.ts';

const DESCRIPTIONS: Record<Role, string> = {
  viewer: 'Reads the flow graph and its events.',
  operator: 'Also imports files and moves flows through their lifecycle.',
  admin: 'Also deletes flows and reads the integrity report.',
};

const RoleEnum = builder.enumType('Role', {
  description: 'What a caller may do. Each role includes the ones listed before it.',
  values: enumValues(ROLES, (role) => DESCRIPTIONS[role]),
});

const ViewerRef = builder.objectRef<Viewer>('Viewer').implement({
  description: 'The caller, as flowgraph sees the credentials of this request: a client uses it to offer only what it may do.',
  fields: (t) => ({
    userId: t.exposeString('userId', { description: 'The user id of the credentials.' }),
    clientAccountId: t.field({ type: 'UUID', description: 'Client account (tenant) of the caller.', resolve: (viewer) => viewer.clientAccountId }),
    engagementId: t.field({ type: 'UUID', description: 'Engagement (tenant) of the caller.', resolve: (viewer) => viewer.engagementId }),
    roles: t.field({ type: [RoleEnum], description: 'The roles the credentials grant.', resolve: (viewer) => viewer.roles }),
    canOperate: t.boolean({
      description: 'Whether the caller may import files and move flows through their lifecycle (operator or admin).',
      resolve: (viewer) => roleSatisfies(viewer.roles, 'operator'),
    }),
    canAdminister: t.boolean({
      description: 'Whether the caller may delete flows and read the integrity report (admin).',
      resolve: (viewer) => roleSatisfies(viewer.roles, 'admin'),
    }),
  }),
});

builder.queryField('viewer', (t) =>
  t.field({
    type: ViewerRef,
    description: 'Who is asking: user, tenant and roles of the credentials this request carries.',
    resolve: (_root, _args, ctx) => ctx.viewer,
  }),
);
