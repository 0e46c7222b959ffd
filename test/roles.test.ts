// Roles over the whole schema. Statically: every Mutation field declares operator or admin, every
// Query and Subscription field is guarded by a role (type or field scopes). By behaviour: every root
// field, called with each role below the one it asks for, answers FORBIDDEN and runs nothing; with
// the role it asks for, it is not refused. Fields merged later are walked the same way.
import { randomUUID } from 'node:crypto';
import { buildSchema, GraphQLObjectType, GraphQLSchema, GraphQLString, type GraphQLField, type GraphQLObjectType as ObjectType } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.ts';
import { roleSatisfies, ROLES, type Role } from '../src/auth/roles.ts';
import { requiredRoleOf } from '../src/auth/scopes.ts';
import type { Viewer } from '../src/context.ts';
import type { Database } from '../src/db/database.ts';
import { schema } from '../src/schema/index.ts';
import { printedSchema } from '../src/schema/printed-schema.ts';
import { authHeaders } from './support/auth.ts';
import { createFlowGraph, newTenant } from './support/factories.ts';
import { testApp } from './support/graphql.ts';
import { missingLike } from './support/isolation-probe.ts';
import { operationFor, rootFields, type OperationType } from './support/schema-walker.ts';
import { overHttp, subscribeOverWebSocket } from './support/transports.ts';
import { resetDatabase, testDatabase } from './support/test-database.ts';
import { openSocket } from './support/ws-client.ts';

/** The role a root field asks for, from its scopes; `dynamic` for a scope function. */
function requiredRole(type: ObjectType, field: GraphQLField<unknown, unknown>): Role | 'dynamic' | null {
  const own = (field.extensions as { pothosOptions?: { authScopes?: unknown } }).pothosOptions?.authScopes;
  return typeof own === 'function' ? 'dynamic' : requiredRoleOf(type, field);
}

/** Root fields that break the rules: mutations below operator, reads and subscriptions without a role. */
function roleViolations(target: GraphQLSchema): string[] {
  const violations: string[] = [];
  for (const type of [target.getQueryType(), target.getMutationType(), target.getSubscriptionType()]) {
    if (!type) continue;
    for (const field of Object.values(type.getFields())) {
      const role = requiredRole(type, field);
      const where = `${type.name}.${field.name}`;
      if (role === null) violations.push(`${where} is not guarded by any role`);
      else if (type === target.getMutationType() && (role === 'viewer' || role === 'dynamic')) {
        violations.push(`${where} must declare authScopes { operator: true } or { admin: true }, not ${role}`);
      }
    }
  }
  return violations;
}

/** The same rules read from the printed schema, where each root field's description names its role. */
function printedRoleViolations(sdl: string): string[] {
  const printed = buildSchema(sdl);
  const violations: string[] = [];
  for (const type of [printed.getQueryType(), printed.getMutationType(), printed.getSubscriptionType()]) {
    if (!type) continue;
    for (const field of Object.values(type.getFields())) {
      const role = /Requires the (viewer|operator|admin) role\./.exec(field.description ?? '')?.[1];
      if (!role) violations.push(`${type.name}.${field.name} names no role in schema.graphql`);
      else if (type === printed.getMutationType() && role === 'viewer') violations.push(`${type.name}.${field.name} needs only viewer`);
    }
  }
  return violations;
}

describe('role declarations', () => {
  it('guard every root field, and every mutation with operator or admin', () => {
    expect(roleViolations(schema)).toEqual([]);
    expect(printedRoleViolations(printedSchema())).toEqual([]);
    expect(requiredRole(schema.getQueryType()!, schema.getQueryType()!.getFields().masterFlows!)).toBe('viewer');
  });

  it('are checked: a mutation without scopes, or with only viewer, is reported', () => {
    const unguarded = new GraphQLSchema({
      query: new GraphQLObjectType({ name: 'Query', fields: { ok: { type: GraphQLString } } }),
      mutation: new GraphQLObjectType({
        name: 'Mutation',
        fields: {
          deleteEverything: { type: GraphQLString },
          renameFlow: { type: GraphQLString, extensions: { pothosOptions: { authScopes: { viewer: true } } } },
          pauseFlow: { type: GraphQLString, extensions: { pothosOptions: { authScopes: { operator: true } } } },
        },
      }),
    });
    expect(roleViolations(unguarded)).toEqual([
      'Query.ok is not guarded by any role',
      'Mutation.deleteEverything is not guarded by any role',
      'Mutation.renameFlow must declare authScopes { operator: true } or { admin: true }, not viewer',
    ]);
    const sdl = 'type Query { "Requires the viewer role." ok: String } type Mutation { "Requires the viewer role." renameFlow: String deleteEverything: String }';
    expect(printedRoleViolations(sdl)).toEqual(['Mutation.renameFlow needs only viewer', 'Mutation.deleteEverything names no role in schema.graphql']);
  });
});

describe('roles at run time', () => {
  let database: Database;
  let app: App;
  let base: string;
  const tenant: Viewer = newTenant('rita');

  beforeAll(async () => {
    database = await testDatabase();
    await resetDatabase(database);
    await createFlowGraph(database.prisma, tenant);
    app = testApp(database, { limits: { maxAliases: 1_000 } });
    base = `127.0.0.1:${await app.start()}`;
  });
  afterAll(async () => app?.stop());

  async function rowCounts(): Promise<string> {
    const tables = ['crewai_flow_state_extensions', 'data_imports', 'raw_import_records', 'discovery_flows', 'flow_events', 'master_flow_deletions'];
    const counts = await Promise.all(tables.map((table) => database.sql.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)));
    return JSON.stringify(counts.map((rows) => rows[0]!.n));
  }

  async function call(operationType: OperationType, field: GraphQLField<unknown, unknown>, roles: Role[]): Promise<string> {
    const operation = operationFor(schema, operationType, field, {
      depth: 2,
      idFor: (slot) => (slot.scalar === 'UUID' ? randomUUID() : missingLike(Buffer.from(`MasterFlow:${randomUUID()}`).toString('base64'))),
    });
    const headers = authHeaders({ ...tenant, roles });
    if (operationType !== 'subscription') return (await overHttp(`http://${base}/graphql`, headers, operation)).text;
    const socket = openSocket(`ws://${base}/graphql`, headers);
    expect(await socket.acknowledged).toBe(true);
    try {
      return (await subscribeOverWebSocket(socket, operation, 300)).text;
    } finally {
      socket.close();
    }
  }

  const forbidden = (text: string) => /"code":"FORBIDDEN"/.test(text) || /"__typename":"Forbidden"/.test(text);

  it('refuse every root field to the roles below the one it asks for, and change nothing', async () => {
    const tried: string[] = [];
    for (const operationType of ['query', 'mutation', 'subscription'] as const) {
      const type = operationType === 'query' ? schema.getQueryType() : operationType === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
      for (const field of rootFields(schema, operationType)) {
        const required = requiredRole(type!, field);
        expect(required, `${operationType}.${field.name}`).not.toBeNull();
        if (required === 'dynamic' || required === null) continue;
        const below = ROLES.slice(0, ROLES.indexOf(required));
        for (const roles of [[], ...below.map((role) => [role])] as Role[][]) {
          const before = await rowCounts();
          const text = await call(operationType, field, roles);
          expect({ field: `${operationType}.${field.name}`, roles, forbidden: forbidden(text) }).toEqual({
            field: `${operationType}.${field.name}`,
            roles,
            forbidden: true,
          });
          // The message names a role the caller lacks, at most the one the field asks for (a caller with no
          // role at all is first told that it needs the viewer role every query field asks for).
          const named = /needs the (\w+) role/.exec(text)?.[1] as Role | undefined;
          expect(named && ROLES.includes(named), text).toBe(true);
          expect(roleSatisfies(roles, named!)).toBe(false);
          expect(ROLES.indexOf(named!)).toBeLessThanOrEqual(ROLES.indexOf(required));
          expect(await rowCounts()).toBe(before);
          tried.push(`${operationType}.${field.name} as ${roles.join('+') || 'no role'}`);
        }
        const allowed = await call(operationType, field, [required]);
        expect({ field: `${operationType}.${field.name}`, forbidden: forbidden(allowed) }).toEqual({ field: `${operationType}.${field.name}`, forbidden: false });
      }
    }
    expect(tried).toEqual(expect.arrayContaining(['query.masterFlows as no role', 'query.node as no role']));
  });

  it('let a higher role do what a lower one may', async () => {
    for (const roles of [['viewer'], ['operator'], ['admin'], ['viewer', 'some-other-app-role']] as Role[][]) {
      const text = await call('query', schema.getQueryType()!.getFields().masterFlows!, roles);
      expect(text).toMatch(/"totalCount":1/);
    }
  });
});
