// The Pothos SchemaBuilder and its plugins. Types and fields live in src/schema/*.ts.
//
// Roles are scope-auth scopes (src/auth/scopes.ts): viewer < operator < admin, each including the ones
// below it. Every root field names the lowest role that may use it, and a caller without it gets a
// FORBIDDEN error before the resolver runs:
//   - Query fields inherit `{ viewer: true }` from the Query type; a read that needs more says so:
//       integrityReport: t.field({ authScopes: { admin: true }, ... })
//   - every Mutation field declares its own: `authScopes: { operator: true }` for imports and
//     transitions, `authScopes: { admin: true }` for deletions;
//   - Subscription fields inherit `{ viewer: true }` from the Subscription type.
// test/roles.test.ts walks the schema and fails for a Mutation field without operator or admin, or a
// Query/Subscription field that no role guards.
import SchemaBuilder from '@pothos/core';
import ErrorsPlugin from '@pothos/plugin-errors';
import PrismaPlugin from '@pothos/plugin-prisma';
import RelayPlugin from '@pothos/plugin-relay';
import ScopeAuthPlugin from '@pothos/plugin-scope-auth';
import { authScopesFor, forbiddenError, type RoleScopes } from './auth/scopes.ts';
import { decodeGlobalId } from './schema/global-id.ts';
import { DateTimeResolver, JSONResolver, SafeIntResolver, UUIDResolver } from 'graphql-scalars';
import type { GraphQLContext } from './context.ts';
import type { UploadedFile } from './services/store-import.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE_CEILING } from './domain/page-size.ts';
import { isUuid } from './domain/uuid.ts';
import type PrismaTypes from './generated/pothos-prisma-types.ts';
import { getDatamodel } from './generated/pothos-prisma-types.ts';

export const builder = new SchemaBuilder<{
  Context: GraphQLContext;
  PrismaTypes: PrismaTypes;
  AuthScopes: RoleScopes;
  DefaultFieldNullability: false;
  Scalars: {
    File: { Input: UploadedFile; Output: never };
    UUID: { Input: string; Output: string };
    DateTime: { Input: Date; Output: Date | string };
    JSON: { Input: unknown; Output: unknown };
    SafeInt: { Input: number; Output: number };
  };
}>({
  // scope-auth first, so no other plugin's wrapper runs before the role check.
  plugins: [ScopeAuthPlugin, ErrorsPlugin, PrismaPlugin, RelayPlugin],
  defaultFieldNullability: false,
  scopeAuth: {
    // Subscriptions are authorized once, when they start, not on every event.
    authorizeOnSubscribe: true,
    authScopes: (ctx) => authScopesFor(ctx.viewer),
    unauthorizedError: (_parent, ctx, _info, result) => forbiddenError(ctx.viewer, result),
  },
  prisma: {
    // The client comes from the context, so the schema is built without I/O and tests can run it on
    // any database.
    client: (ctx) => ctx.prisma,
    dmmf: getDatamodel(),
    exposeDescriptions: true,
    filterConnectionTotalCount: true,
    defaultConnectionSize: DEFAULT_PAGE_SIZE,
    // The configured cap is enforced before execution (src/graphql/page-size-limit.ts).
    maxConnectionSize: MAX_PAGE_SIZE_CEILING,
    onUnusedQuery: process.env.NODE_ENV === 'production' ? null : 'warn',
  },
  relay: {
    decodeGlobalID: (globalID) => decodeGlobalId(globalID),
    clientMutationId: 'omit',
    cursorType: 'String',
    idFieldOptions: { description: 'Globally unique id of the object; pass it to `node(id:)` to fetch it again.' },
    cursorFieldOptions: { description: 'Opaque position of this edge; pass it as `after` or `before` to page from here.' },
    nodeFieldOptions: { description: 'The object at this position.' },
    edgesFieldOptions: { description: 'The objects of this page, with their cursors.' },
    pageInfoFieldOptions: { description: 'Whether there are more pages, and the cursors to reach them.' },
    hasNextPageFieldOptions: { description: 'Whether more items follow this page.' },
    hasPreviousPageFieldOptions: { description: 'Whether items precede this page.' },
    startCursorFieldOptions: { description: 'Cursor of the first item of this page.' },
    endCursorFieldOptions: { description: 'Cursor of the last item of this page.' },
    firstArgOptions: {
      description: 'Return the first n items (at most the page-size cap, 500 by default; 50 when neither first nor last is given).',
    },
    lastArgOptions: { description: 'Return the last n items (at most the page-size cap, 500 by default).' },
    afterArgOptions: { description: 'Return items after this cursor.' },
    beforeArgOptions: { description: 'Return items before this cursor.' },
    nodeTypeOptions: { description: 'An object with a globally unique id, refetchable with `node(id:)`.' },
    pageInfoTypeOptions: { description: 'Where a page of a connection sits in the whole list.' },
    nodeQueryOptions: {
      description: "Fetches any object by its global id. Null when it does not exist or belongs to another tenant.",
      args: { id: { description: 'A global id, as returned in an `id` field.' } },
      // Every node's id is a uuid; anything else matches nothing (PostgreSQL would reject it with an error).
      resolve: (_root, { id }, _ctx, _info, resolveNode) => (isUuid(id.id) ? resolveNode(id) : null),
    },
    nodesQueryOptions: {
      description: "Fetches objects by their global ids, in order; null for each that does not exist or belongs to another tenant.",
      args: { ids: { description: 'Global ids, as returned in `id` fields.' } },
      resolve: async (_root, args, _ctx, _info, resolveNodes) => {
        const requested = args.ids;
        const wellFormed = requested.filter((id) => isUuid(id.id));
        // The plugin's resolveNodes ignores its argument and loads `args.ids`, so the filtered list is
        // handed over through args.
        args.ids = wellFormed;
        const found = wellFormed.length > 0 ? await resolveNodes(wellFormed) : [];
        return requested.map((id) => (isUuid(id.id) ? found[wellFormed.indexOf(id)] : null));
      },
    },
  },
  errors: {
    defaultTypes: [],
  },
});

builder.queryType({
  description: 'Reads of the flow graph, always scoped to the caller\'s tenant. Every field needs at least the viewer role.',
  authScopes: { viewer: true },
});
builder.mutationType({
  description:
    'Changes to the flow graph, each in one transaction and scoped to the caller\'s tenant. Failures a client can act on are typed results (the `Error` interface); nothing is changed when one is returned. Each field names the role it needs.',
});
builder.subscriptionType({
  description: 'Live changes of the flow graph, over graphql-ws or server-sent events, scoped to the caller\'s tenant. Every field needs at least the viewer role.',
  authScopes: { viewer: true },
});

builder.addScalarType('UUID', UUIDResolver, {});
builder.addScalarType('DateTime', DateTimeResolver, {});
builder.addScalarType('JSON', JSONResolver, {});
builder.addScalarType('SafeInt', SafeIntResolver, {});
