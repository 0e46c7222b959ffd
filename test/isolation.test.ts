// Tenant isolation, proven over the whole schema: two tenants with full graphs; every root field,
// every id-taking argument, every nested edge, node/nodes, every mutation and every subscription is
// called by tenant A with tenant B's ids, over HTTP and graphql-ws (SSE too for subscriptions). The
// walk reads the schema, so fields merged later are probed without touching this file.
// Result expected: no response to A shows any of B's data, a foreign id answers exactly like a missing
// one, and none of B's rows changed.
import { randomUUID } from 'node:crypto';
import { GraphQLNonNull, GraphQLObjectType, GraphQLSchema, GraphQLString } from 'graphql';
import { GraphQLUUID } from 'graphql-scalars';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.ts';
import type { GraphQLContext, Viewer } from '../src/context.ts';
import type { Database } from '../src/db/database.ts';
import { schema } from '../src/schema/index.ts';
import { authHeaders } from './support/auth.ts';
import { createFlowGraph, newTenant } from './support/factories.ts';
import { stageFlowEvents } from './support/staged-events.ts';
import { testApp } from './support/graphql.ts';
import { idsIn, probeIsolation, type TenantIds } from './support/isolation-probe.ts';
import { operationFor, reachableFields, rootFields, takesIds } from './support/schema-walker.ts';
import { overHttp } from './support/transports.ts';
import { resetDatabase, testDatabase } from './support/test-database.ts';

/** Operations here are as deep and wide as the schema; the limits suite tests the limits. */
const GENEROUS_LIMITS = { maxDepth: 60, maxCost: 1_000_000_000, maxTokens: 100_000, maxAliases: 1_000, maxDirectives: 1_000 };

let database: Database;
let app: App;
let httpUrl: string;
let wsUrl: string;
const alice: Viewer = newTenant('alice');
const bob: Viewer = newTenant('bob');

/** Tables that hold tenant rows: every table with a client_account_id column. */
async function tenantTables(): Promise<{ table: string; uuidColumns: string[] }[]> {
  const rows = await database.sql.query<{ table_name: string; column_name: string; data_type: string }>(
    `SELECT table_name, column_name, data_type FROM information_schema.columns
      WHERE table_schema = current_schema()
        AND table_name IN (SELECT table_name FROM information_schema.columns
                            WHERE table_schema = current_schema() AND column_name = 'client_account_id')
      ORDER BY table_name, ordinal_position`,
  );
  const tables = new Map<string, string[]>();
  for (const row of rows) {
    const columns = tables.get(row.table_name) ?? [];
    if (row.data_type === 'uuid') columns.push(row.column_name);
    tables.set(row.table_name, columns);
  }
  return [...tables].map(([table, uuidColumns]) => ({ table, uuidColumns }));
}

/** Every row of the tenant, in every tenant table, as text. */
async function snapshot(tenant: Viewer): Promise<string> {
  const parts: string[] = [];
  for (const { table } of await tenantTables()) {
    const rows = await database.sql.query<{ row: string }>(
      `SELECT row_to_json(t)::text AS row FROM "${table}" t WHERE client_account_id = $1 AND engagement_id = $2 ORDER BY 1`,
      [tenant.clientAccountId, tenant.engagementId],
    );
    parts.push(`${table}: ${rows.map((row) => row.row).join('\n')}`);
  }
  return parts.join('\n');
}

/** A tenant's ids and the strings only its data contains, read from the database and the API. */
async function tenantIds(tenant: Viewer, planted: string[]): Promise<TenantIds> {
  const rawIds = new Map<string, string>();
  for (const { table, uuidColumns } of await tenantTables()) {
    for (const column of uuidColumns) {
      const [row] = await database.sql.query<{ value: string }>(
        `SELECT "${column}"::text AS value FROM "${table}" WHERE client_account_id = $1 AND engagement_id = $2 AND "${column}" IS NOT NULL LIMIT 1`,
        [tenant.clientAccountId, tenant.engagementId],
      );
      if (row) rawIds.set(`${table}.${column}`, row.value);
    }
  }
  // The global ids (and any other id) the tenant itself sees, from every root query without ids.
  const seen = { uuids: new Set<string>(), globalIds: new Map<string, string>() };
  for (const field of rootFields(schema, 'query').filter((candidate) => !takesIds(candidate))) {
    const operation = operationFor(schema, 'query', field, { depth: 8, idFor: () => randomUUID() });
    const result = await overHttp(httpUrl, authHeaders(tenant), operation);
    idsIn(JSON.parse(result.text), seen);
  }
  const tenantColumns = [tenant.clientAccountId, tenant.engagementId];
  return {
    headers: authHeaders(tenant),
    rawIds,
    globalIds: seen.globalIds,
    markers: [
      ...planted,
      ...[...rawIds.values(), ...seen.uuids].filter((id) => !tenantColumns.includes(id)),
      ...seen.globalIds.values(),
    ],
  };
}

/** A full graph for a tenant, with strings that appear nowhere else. */
async function seedTenant(tenant: Viewer, label: string): Promise<string[]> {
  const marker = `${label}-${randomUUID()}`;
  for (let index = 0; index < 2; index += 1) {
    await createFlowGraph(database.prisma, tenant, { flowName: `${marker}-flow-${index}`, imports: 2, recordsPerImport: 3, invalidRows: [2], completedPhases: 2 });
  }
  await createFlowGraph(database.prisma, tenant, { flowName: `${marker}-assessment`, flowType: 'assessment', imports: 0 });
  const owner = { clientAccountId: tenant.clientAccountId, engagementId: tenant.engagementId };
  await database.prisma.rawImportRecord.updateMany({ where: owner, data: { rawData: { hostname: `${marker}-host`, secret: `${marker}-raw` } } });
  await database.prisma.dataImport.updateMany({ where: owner, data: { filename: `${marker}-file.csv` } });
  const flows = await database.prisma.masterFlow.findMany({ where: owner, select: { flowId: true, flowType: true } });
  await database.prisma.$transaction(async (tx) => {
    await stageFlowEvents(
      tx,
      flows.map((flow) => ({ ...owner, masterFlowId: flow.flowId, flowType: flow.flowType, kind: 'status_changed' as const, actor: tenant.userId, payload: { note: `${marker}-event` } })),
    );
  });
  await database.prisma.masterFlowDeletion.create({
    data: { ...owner, flowId: randomUUID(), deletedBy: `${marker}-deleter`, dataImportsDeleted: 1, rawRecordsDeleted: 3, discoveryFlowsDeleted: 1 },
  });
  return [marker];
}

/** The victim changes its own data while subscriptions listen: every mutation on its own ids, and an event. */
async function driveVictim(victim: Viewer, victimIds: TenantIds): Promise<void> {
  for (const field of rootFields(schema, 'mutation').filter(takesIds)) {
    const operation = operationFor(schema, 'mutation', field, {
      depth: 2,
      idFor: (slot) => (slot.scalar === 'UUID' ? [...victimIds.rawIds.values()][0] : [...victimIds.globalIds.values()][0]) ?? randomUUID(),
    });
    await overHttp(httpUrl, authHeaders(victim), operation);
  }
  const [flow] = await database.prisma.masterFlow.findMany({ where: { clientAccountId: victim.clientAccountId, engagementId: victim.engagementId }, take: 1 });
  if (flow) {
    await database.prisma.$transaction(async (tx) => {
      await stageFlowEvents(tx, [
        { clientAccountId: victim.clientAccountId, engagementId: victim.engagementId, masterFlowId: flow.flowId, flowType: flow.flowType, kind: 'status_changed', actor: victim.userId },
      ]);
    });
  }
}

beforeAll(async () => {
  database = await testDatabase();
  await resetDatabase(database);
  app = testApp(database, { limits: GENEROUS_LIMITS, debugSql: false });
  const port = await app.start();
  httpUrl = `http://127.0.0.1:${port}/graphql`;
  wsUrl = `ws://127.0.0.1:${port}/graphql`;
});
afterAll(async () => app?.stop());

describe('tenant isolation over the whole schema', () => {
  it('lets tenant A reach none of tenant B\'s rows, answers B\'s ids like missing ones, and changes nothing of B', async () => {
    const aliceMarkers = await seedTenant(alice, 'alice');
    const bobMarkers = await seedTenant(bob, 'bob');
    const attacker = await tenantIds(alice, aliceMarkers);
    const victim = await tenantIds(bob, bobMarkers);
    // The pools are what makes the probe bite: every kind of row, every node type.
    expect([...victim.rawIds.keys()]).toEqual(expect.arrayContaining(['crewai_flow_state_extensions.flow_id', 'data_imports.id', 'raw_import_records.id', 'discovery_flows.id']));
    expect([...victim.globalIds.keys()].sort()).toEqual(['DataImport', 'DiscoveryFlow', 'MasterFlow', 'RawImportRecord']);

    const before = await snapshot(bob);
    const report = await probeIsolation({
      schema,
      httpUrl,
      wsUrl,
      attacker,
      victim,
      operationTypes: ['query', 'mutation'],
    });
    expect(await snapshot(bob)).toBe(before);
    const subscriptions = await probeIsolation({
      schema,
      httpUrl,
      wsUrl,
      attacker,
      victim,
      operationTypes: ['subscription'],
      subscriptionWindowMs: 1_000,
      driveVictim: () => driveVictim(bob, victim),
    });

    const counts = { ...report.counts, ...subscriptions.counts };
    console.log(
      `isolation probe: ${[...report.fields, ...subscriptions.fields].join(', ')}\n` +
        Object.entries(counts)
          .map(([kind, total]) => `  ${kind}: ${total}`)
          .join('\n'),
    );
    expect([...report.violations, ...subscriptions.violations]).toEqual([]);

    // Every root field was probed, node/nodes among them, over both transports.
    for (const operationType of ['query', 'mutation', 'subscription'] as const) {
      for (const field of rootFields(schema, operationType)) {
        expect([...report.fields, ...subscriptions.fields]).toContain(`${operationType}.${field.name}`);
      }
    }
    expect(report.fields).toEqual(expect.arrayContaining(['query.node', 'query.nodes', 'query.masterFlow', 'query.masterFlows']));
    expect(counts['query/http/foreign']).toBeGreaterThan(20);
    expect(counts['query/ws/foreign']).toBe(counts['query/http/foreign']);
    // Each id-taking query found A's own rows through the same argument: the probe was not blind.
    expect(report.ownHits.size).toBeGreaterThanOrEqual(3);
    for (const [field, hit] of report.ownHits) expect({ field, hit }).toEqual({ field, hit: true });
    // And it walked every nested edge of every type.
    const missed = [...reachableFields(schema)].filter((field) => !report.covered.has(field) && !subscriptions.covered.has(field));
    expect(missed).toEqual([]);
   }, 300_000);
});

describe('the isolation probe itself', () => {
  // A schema with deliberate holes, served by the same app: the probe must find every one of them,
  // and only them.
  const FlowType = new GraphQLObjectType<{ flowId: string; flowName: string | null }, GraphQLContext>({
    name: 'LeakyFlow',
    fields: { flowId: { type: GraphQLString }, flowName: { type: GraphQLString } },
  });
  const anyTenant = (ctx: GraphQLContext, flowId: string) => ctx.prisma.masterFlow.findFirst({ where: { flowId } });
  const ownTenant = (ctx: GraphQLContext, flowId: string) =>
    ctx.prisma.masterFlow.findFirst({ where: { flowId, clientAccountId: ctx.viewer.clientAccountId, engagementId: ctx.viewer.engagementId } });
  const flowArg = { flowId: { type: new GraphQLNonNull(GraphQLUUID) } };
  const leakySchema = new GraphQLSchema({
    query: new GraphQLObjectType<unknown, GraphQLContext>({
      name: 'Query',
      fields: {
        leakyFlow: { type: FlowType, args: flowArg, resolve: (_root, args: { flowId: string }, ctx) => anyTenant(ctx, args.flowId) },
        safeFlow: { type: FlowType, args: flowArg, resolve: (_root, args: { flowId: string }, ctx) => ownTenant(ctx, args.flowId) },
        // Null either way, but a foreign id is told apart from a missing one.
        tellingFlow: {
          type: FlowType,
          args: flowArg,
          resolve: async (_root, args: { flowId: string }, ctx) => {
            if ((await anyTenant(ctx, args.flowId)) && !(await ownTenant(ctx, args.flowId))) throw new Error('not yours');
            return ownTenant(ctx, args.flowId);
          },
        },
      },
    }),
    mutation: new GraphQLObjectType<unknown, GraphQLContext>({
      name: 'Mutation',
      fields: { touchFlow: { type: FlowType, args: flowArg, resolve: (_root, args: { flowId: string }, ctx) => anyTenant(ctx, args.flowId) } },
    }),
    subscription: new GraphQLObjectType<unknown, GraphQLContext>({
      name: 'Subscription',
      fields: {
        leakyEvents: {
          type: FlowType,
          args: flowArg,
          subscribe: async function* events(_root, args: { flowId: string }, ctx: GraphQLContext) {
            for (let tick = 0; tick < 3; tick += 1) {
              yield { leakyEvents: await anyTenant(ctx, args.flowId) };
              await new Promise((resolve) => setTimeout(resolve, 50));
            }
          },
        },
      },
    }),
  });

  it('catches leaks in queries, mutations and subscriptions, and foreign ids told apart from missing ones', async () => {
    const leakyApp = testApp(database, { limits: GENEROUS_LIMITS, debugSql: false }, { schema: leakySchema });
    const port = await leakyApp.start();
    try {
      const attackerTenant = newTenant('mallory');
      const victimTenant = newTenant('victor');
      await createFlowGraph(database.prisma, attackerTenant, { flowName: `mallory-${randomUUID()}` });
      const victimFlow = await createFlowGraph(database.prisma, victimTenant, { flowName: `victor-${randomUUID()}` });
      const victimName = (await database.prisma.masterFlow.findFirstOrThrow({ where: { flowId: victimFlow.flowId } })).flowName!;
      const ids = (tenant: Viewer, flowId: string, markers: string[]): TenantIds => ({
        headers: authHeaders(tenant),
        rawIds: new Map([['flow_id', flowId]]),
        globalIds: new Map(),
        markers,
      });
      const report = await probeIsolation({
        schema: leakySchema,
        httpUrl: `http://127.0.0.1:${port}/graphql`,
        wsUrl: `ws://127.0.0.1:${port}/graphql`,
        attacker: ids(attackerTenant, (await database.prisma.masterFlow.findFirstOrThrow({ where: { userId: 'mallory' } })).flowId, []),
        victim: ids(victimTenant, victimFlow.flowId, [victimName]),
        subscriptionWindowMs: 500,
      });
      const text = report.violations.join('\n');
      expect(text).toMatch(/query\.leakyFlow .* over http shows the victim's victor-/);
      expect(text).toMatch(/query\.leakyFlow .* over ws shows the victim's victor-/);
      expect(text).toMatch(/query\.tellingFlow .* answers differently from a missing id/);
      expect(text).toMatch(/mutation\.touchFlow .* shows the victim's victor-/);
      expect(text).toMatch(/subscription\.leakyEvents .* over ws delivered the victim's victor-/);
      expect(text).toMatch(/subscription\.leakyEvents .* over sse delivered the victim's victor-/);
      expect(text).not.toMatch(/safeFlow/);
      expect(report.ownHits.get('query.safeFlow')).toBe(true);
    } finally {
      await leakyApp.stop();
    }
  });
});
