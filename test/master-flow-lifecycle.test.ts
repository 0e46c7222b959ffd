// The master flow lifecycle: every pair of the transition table, versions (StaleFlow) and concurrent
// transitions, discovery phases in order up to completion, the master and discovery flows never disagreeing,
// cascade deletion with counts and audit, tenant isolation of every mutation, and database errors a
// concurrent request can cause turned into typed errors.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.ts';
import type { Viewer } from '../src/context.ts';
import type { Database } from '../src/db/database.ts';
import { FlowNotFoundError } from '../src/domain/flow-errors.ts';
import { InvalidInputError } from '../src/domain/import-errors.ts';
import { canTransition, DISCOVERY_STATUS_FOR, MASTER_FLOW_STATUSES, type MasterFlowStatus } from '../src/domain/master-flow-status.ts';
import { TRANSITION_VERBS, type TransitionVerb } from '../src/services/master-flow-lifecycle.ts';
import { runWrite } from '../src/services/write-transaction.ts';
import { CompleteDiscoveryPhaseDocument, DeleteMasterFlowDocument, PauseMasterFlowDocument, StoreImportDocument } from './generated/graphql.ts';
import { createFlowGraph, newTenant } from './support/factories.ts';
import { execute, testApp } from './support/graphql.ts';
import { onPostgres, testDatabase } from './support/test-database.ts';
import { workerDatabaseUrl } from './support/postgres-databases.ts';

let database: Database;
let app: App;

beforeAll(async () => {
  database = await testDatabase();
  app = testApp(database);
});
afterAll(async () => app.stop());

const VERBS = Object.keys(TRANSITION_VERBS) as TransitionVerb[];

interface TransitionOutcome {
  __typename: string;
  message?: string;
  flowStatus?: string;
  version?: number;
  from?: string;
  to?: string;
  expectedVersion?: number;
  currentVersion?: number;
  missingFlowId?: string | null;
}

async function transition(viewer: Viewer, verb: TransitionVerb, flowId: string, version: number): Promise<TransitionOutcome> {
  const reason = verb === 'fail' ? ', reason: "disk full"' : '';
  const response = await execute<Record<string, TransitionOutcome>, never>(
    app,
    viewer,
    `mutation { result: ${verb}MasterFlow(flowId: "${flowId}", version: ${version}${reason}) {
        __typename
        ... on Error { message }
        ... on MasterFlow { flowStatus version }
        ... on InvalidTransition { from to }
        ... on StaleFlow { expectedVersion currentVersion }
        ... on FlowNotFound { missingFlowId: flowId }
      } }`,
  );
  expect(response.errors).toBeUndefined();
  return response.data!.result!;
}

async function importFlow(viewer: Viewer, rows = 3): Promise<string> {
  const response = await execute(app, viewer, StoreImportDocument, {
    input: { filename: 'servers.json', importType: 'servers', rows: Array.from({ length: rows }, (_u, i) => ({ hostname: `h${i}` })) },
  });
  const result = response.data!.storeImport;
  if (result.__typename !== 'MasterFlow') throw new Error(JSON.stringify(result));
  return result.flowId;
}

async function flowState(flowId: string) {
  const master = await database.prisma.masterFlow.findUniqueOrThrow({ where: { flowId }, include: { discoveryFlows: true } });
  const events = await database.prisma.flowEvent.findMany({ where: { masterFlowId: flowId }, orderBy: { sequence: 'asc' } });
  return { master, discovery: master.discoveryFlows[0], events };
}

/** The invariant: a master flow and its discovery flow never disagree. */
async function expectConsistent(flowId: string) {
  const { master, discovery } = await flowState(flowId);
  expect(discovery?.status).toBe(DISCOVERY_STATUS_FOR[master.flowStatus as MasterFlowStatus]);
}

describe('the transition table', () => {
  it('allows exactly the moves of docs/design.md through the six verbs', () => {
    const reachable = new Set(VERBS.flatMap((verb) => TRANSITION_VERBS[verb].from.map((from) => `${from}>${TRANSITION_VERBS[verb].to}`)));
    const table = new Set(
      MASTER_FLOW_STATUSES.flatMap((from) => MASTER_FLOW_STATUSES.filter((to) => canTransition(from, to)).map((to) => `${from}>${to}`)),
    );
    expect([...reachable].sort()).toEqual([...table].sort());
  });

  describe.each(VERBS)('%sMasterFlow', (verb) => {
    it.each(MASTER_FLOW_STATUSES)(`from %s`, async (from) => {
      const viewer = newTenant('operator');
      const { flowId } = await createFlowGraph(database.prisma, viewer, { flowStatus: from });
      const before = await flowState(flowId);
      const to = TRANSITION_VERBS[verb].to;
      const result = await transition(viewer, verb, flowId, 0);
      const legal = (TRANSITION_VERBS[verb].from as readonly string[]).includes(from);
      expect(legal).toBe(legal && canTransition(from, to));
      if (!legal) {
        expect(result).toMatchObject({ __typename: 'InvalidTransition', from: from.toUpperCase(), to: to.toUpperCase() });
        expect(result.message).toContain(from);
        const after = await flowState(flowId);
        expect(after.master).toEqual(before.master);
        // The fixture's own events (its creation) are all there is: the refused move added none.
        expect(after.events).toEqual(before.events);
        return;
      }
      expect(result).toMatchObject({ __typename: 'MasterFlow', flowStatus: to.toUpperCase(), version: 1 });
      const { master, discovery, events: all } = await flowState(flowId);
      const events = all.slice(before.events.length);
      expect(master.phaseTransitions).toEqual([{ from, to, at: expect.any(String), by: 'operator' }]);
      expect(master.retryCount).toBe(from === 'failed' ? 1 : 0);
      expect(discovery!.status).toBe(DISCOVERY_STATUS_FOR[to]);
      if (verb === 'fail') {
        expect(master.errorHistory).toEqual([{ at: expect.any(String), by: 'operator', reason: 'disk full' }]);
        expect(discovery!.errorMessage).toBe('disk full');
      }
      expect(events.map((event) => [event.kind, event.payload])).toEqual([['status_changed', { before: from, after: to, version: 1 }]]);
    });
  });
});

describe('versions', () => {
  it('StaleFlow when the flow changed since the client read it; nothing changes', async () => {
    const viewer = newTenant();
    const flowId = await importFlow(viewer);
    expect(await transition(viewer, 'pause', flowId, 1)).toMatchObject({ __typename: 'MasterFlow', flowStatus: 'PAUSED', version: 2 });
    const before = await flowState(flowId);
    expect(await transition(viewer, 'resume', flowId, 1)).toMatchObject({ __typename: 'StaleFlow', expectedVersion: 1, currentVersion: 2 });
    expect(await flowState(flowId)).toEqual(before);
  });

  it('two concurrent transitions from the same version never both win', async () => {
    const viewer = newTenant();
    const flowId = await importFlow(viewer);
    const results = await Promise.all([
      transition(viewer, 'pause', flowId, 1),
      transition(viewer, 'fail', flowId, 1),
      transition(viewer, 'complete', flowId, 1),
    ]);
    expect(results.filter((result) => result.__typename === 'MasterFlow')).toHaveLength(1);
    expect(results.filter((result) => result.__typename === 'StaleFlow')).toHaveLength(2);
    const { master, events } = await flowState(flowId);
    expect(master.version).toBe(2);
    expect((master.phaseTransitions as unknown[]).length).toBe(2);
    expect(events.filter((event) => event.kind === 'status_changed')).toHaveLength(1);
    await expectConsistent(flowId);
  });
});

describe('discovery phases', () => {
  it('complete in order to the end, recomputing progress; the last one completes both flows', async () => {
    const viewer = newTenant('analyst');
    const flowId = await importFlow(viewer);
    const complete = async (phase: string, version?: number) =>
      (await execute(app, viewer, CompleteDiscoveryPhaseDocument, { flowId, phase: phase as never, version })).data!.completeDiscoveryPhase;

    expect(await complete('FIELD_MAPPING')).toMatchObject({ __typename: 'PhaseOutOfOrder', phase: 'FIELD_MAPPING', currentPhase: 'DATA_VALIDATION' });
    expect(await complete('DATA_IMPORT')).toMatchObject({ __typename: 'PhaseOutOfOrder', currentPhase: 'DATA_VALIDATION' });
    expect(await complete('DATA_VALIDATION', 0)).toMatchObject({ __typename: 'StaleFlow', expectedVersion: 0, currentVersion: 1 });

    const steps = [
      ['DATA_VALIDATION', 'FIELD_MAPPING', 40],
      ['FIELD_MAPPING', 'DATA_CLEANSING', 60],
      ['DATA_CLEANSING', 'ASSET_INVENTORY', 80],
    ] as const;
    for (const [index, [phase, next, progress]] of steps.entries()) {
      const result = await complete(phase, index + 1);
      expect(result).toMatchObject({
        __typename: 'DiscoveryFlow',
        status: 'ACTIVE',
        currentPhase: next,
        progressPercentage: progress,
        completedAt: null,
        masterFlow: { flowStatus: 'RUNNING', version: index + 2 },
      });
      await expectConsistent(flowId);
    }
    const last = await complete('ASSET_INVENTORY', 4);
    expect(last).toMatchObject({
      __typename: 'DiscoveryFlow',
      status: 'COMPLETED',
      currentPhase: null,
      progressPercentage: 100,
      completedAt: expect.any(String),
      masterFlow: { flowStatus: 'COMPLETED', version: 5 },
    });
    if (last.__typename !== 'DiscoveryFlow') throw new Error('unreachable');
    expect(last.phases.every((phase) => phase.completed && phase.completedAt)).toBe(true);

    const { master, events } = await flowState(flowId);
    expect((master.phaseTransitions as { from: string; to: string; by: string }[]).at(-1)).toMatchObject({
      from: 'running',
      to: 'completed',
      by: 'analyst',
    });
    expect(events.map((event) => event.kind)).toEqual([
      'master_flow_created',
      'import_stored',
      'phase_completed',
      'phase_completed',
      'phase_completed',
      'phase_completed',
      'status_changed',
    ]);
    expect(events.at(-2)!.payload).toEqual({ phase: 'asset_inventory', currentPhase: null, progressPercentage: 100 });
    await expectConsistent(flowId);

    expect(await complete('ASSET_INVENTORY')).toMatchObject({ __typename: 'FlowNotRunning', flowStatus: 'COMPLETED' });
  });

  it('a paused or failed master flow refuses phase changes, and changes nothing', async () => {
    const viewer = newTenant();
    const flowId = await importFlow(viewer);
    await transition(viewer, 'pause', flowId, 1);
    const before = await flowState(flowId);
    const paused = await execute(app, viewer, CompleteDiscoveryPhaseDocument, { flowId, phase: 'DATA_VALIDATION' });
    expect(paused.data!.completeDiscoveryPhase).toMatchObject({ __typename: 'FlowNotRunning', flowStatus: 'PAUSED' });
    expect(await flowState(flowId)).toEqual(before);
    await expectConsistent(flowId);

    await transition(viewer, 'fail', flowId, 2);
    const failed = await execute(app, viewer, CompleteDiscoveryPhaseDocument, { flowId, phase: 'DATA_VALIDATION' });
    expect(failed.data!.completeDiscoveryPhase).toMatchObject({ __typename: 'FlowNotRunning', flowStatus: 'FAILED' });
    await transition(viewer, 'retry', flowId, 3);
    const retried = await execute(app, viewer, CompleteDiscoveryPhaseDocument, { flowId, phase: 'DATA_VALIDATION' });
    expect(retried.data!.completeDiscoveryPhase).toMatchObject({ __typename: 'DiscoveryFlow', status: 'ACTIVE', progressPercentage: 40 });
    await expectConsistent(flowId);
  });
});

describe('deleteMasterFlow', () => {
  it('deletes the flow and its subtree, reports the counts, writes the audit row and an event; others untouched', async () => {
    const alice = newTenant('alice');
    const bob = newTenant('bob');
    const doomed = await importFlow(alice, 50);
    const kept = await importFlow(alice, 7);
    const foreign = await importFlow(bob, 4);
    const result = (await execute(app, alice, DeleteMasterFlowDocument, { flowId: doomed })).data!.deleteMasterFlow;
    expect(result).toMatchObject({
      __typename: 'MasterFlowDeletion',
      flowId: doomed,
      deletedBy: 'alice',
      masterFlowsDeleted: 1,
      dataImportsDeleted: 1,
      rawRecordsDeleted: 50,
      discoveryFlowsDeleted: 1,
    });
    const [left] = await database.sql.query<Record<string, number>>(
      `SELECT (SELECT count(*)::int FROM crewai_flow_state_extensions WHERE flow_id = $1) AS masters,
              (SELECT count(*)::int FROM data_imports WHERE master_flow_id = $1) AS imports,
              (SELECT count(*)::int FROM raw_import_records WHERE master_flow_id = $1) AS records,
              (SELECT count(*)::int FROM discovery_flows WHERE master_flow_id = $1) AS discovery`,
      [doomed],
    );
    expect(left).toEqual({ masters: 0, imports: 0, records: 0, discovery: 0 });
    expect(await database.prisma.rawImportRecord.count({ where: { masterFlowId: kept } })).toBe(7);
    expect(await database.prisma.rawImportRecord.count({ where: { masterFlowId: foreign } })).toBe(4);
    expect(await database.prisma.discoveryFlow.count({ where: { masterFlowId: { in: [kept, foreign] } } })).toBe(2);

    const audit = await database.prisma.masterFlowDeletion.findMany({ where: { flowId: doomed } });
    expect(audit).toEqual([
      expect.objectContaining({
        clientAccountId: alice.clientAccountId,
        engagementId: alice.engagementId,
        deletedBy: 'alice',
        dataImportsDeleted: 1,
        rawRecordsDeleted: 50,
        discoveryFlowsDeleted: 1,
      }),
    ]);
    const events = await database.prisma.flowEvent.findMany({ where: { masterFlowId: doomed }, orderBy: { sequence: 'asc' } });
    expect(events.at(-1)).toMatchObject({
      kind: 'master_flow_deleted',
      payload: { before: 'running', dataImportsDeleted: 1, rawRecordsDeleted: 50, discoveryFlowsDeleted: 1 },
    });

    const again = (await execute(app, alice, DeleteMasterFlowDocument, { flowId: doomed })).data!.deleteMasterFlow;
    expect(again).toMatchObject({ __typename: 'FlowNotFound', missingFlowId: doomed });
  });
});

describe('tenant isolation', () => {
  type Outcome = { __typename: string; message?: string };
  type Operation = [string, (viewer: Viewer, flowId: string) => Promise<Outcome>];
  const operations: Operation[] = [
    ...VERBS.map((verb): Operation => [`${verb}MasterFlow`, (viewer, flowId) => transition(viewer, verb, flowId, 1)]),
    [
      'completeDiscoveryPhase',
      async (viewer, flowId): Promise<Outcome> =>
        (await execute(app, viewer, CompleteDiscoveryPhaseDocument, { flowId, phase: 'DATA_VALIDATION' })).data!.completeDiscoveryPhase,
    ],
    [
      'deleteMasterFlow',
      async (viewer, flowId): Promise<Outcome> => (await execute(app, viewer, DeleteMasterFlowDocument, { flowId })).data!.deleteMasterFlow,
    ],
  ];

  it.each(operations)('%s on another tenant\'s flow answers exactly like a missing flow, and changes nothing', async (_name, run) => {
    const owner = newTenant('owner');
    const intruder = newTenant('intruder');
    const flowId = await importFlow(owner);
    const before = await flowState(flowId);
    const missingId = randomUUID();
    const foreign = await run(intruder, flowId);
    const missing = await run(intruder, missingId);
    expect(foreign.__typename).toBe('FlowNotFound');
    expect({ ...foreign, message: foreign.message?.replace(flowId, 'ID'), missingFlowId: undefined }).toEqual({
      ...missing,
      message: missing.message?.replace(missingId, 'ID'),
      missingFlowId: undefined,
    });
    // Same engagement, other client account: still another tenant.
    expect((await run({ ...owner, clientAccountId: randomUUID() }, flowId)).__typename).toBe('FlowNotFound');
    expect(await flowState(flowId)).toEqual(before);
  });
});

describe('database errors a client can cause', () => {
  it('a foreign-key violation (the master flow is gone) becomes FlowNotFound, not a masked error', async () => {
    const viewer = newTenant();
    const flowId = randomUUID();
    const attempt = runWrite(
      database.prisma,
      (tx) =>
        tx.dataImport.create({
          data: { ...{ clientAccountId: viewer.clientAccountId, engagementId: viewer.engagementId }, masterFlowId: flowId, importName: 'x', importType: 'x', filename: 'x', importedBy: 'x' },
        }),
      { flowId, actor: viewer.userId },
    );
    await expect(attempt).rejects.toBeInstanceOf(FlowNotFoundError);
    await expect(attempt).rejects.toMatchObject({ flowId });
  });

  it('a NOT NULL violation becomes InvalidInput naming the column', async () => {
    const attempt = runWrite(database.prisma, (tx) => tx.$executeRaw`INSERT INTO master_flow_deletions (flow_id, client_account_id, engagement_id, deleted_by, data_imports_deleted, raw_records_deleted, discovery_flows_deleted) VALUES (${randomUUID()}::uuid, ${randomUUID()}::uuid, ${randomUUID()}::uuid, NULL, 0, 0, 0)`, { actor: 'tester' });
    await expect(attempt).rejects.toBeInstanceOf(InvalidInputError);
    await expect(attempt).rejects.toMatchObject({ field: expect.stringContaining('deleted_by') });
  });

  describe.runIf(onPostgres)('on PostgreSQL, with a second connection', () => {
    it('a master flow deleted by a concurrent transaction while a transition waits for it gives FlowNotFound', async () => {
      const viewer = newTenant();
      const flowId = await importFlow(viewer);
      const other = new pg.Client({ connectionString: workerDatabaseUrl(process.env.TEST_DATABASE_URL!, process.env.VITEST_POOL_ID ?? '1') });
      await other.connect();
      try {
        await other.query('BEGIN');
        await other.query('SELECT 1 FROM crewai_flow_state_extensions WHERE flow_id = $1 FOR UPDATE', [flowId]);
        const pending = execute(app, viewer, PauseMasterFlowDocument, { flowId, version: 1 });
        // The transition is now queued behind the lock; the other transaction deletes the flow and commits.
        await new Promise((resolve) => setTimeout(resolve, 300));
        await other.query('DELETE FROM crewai_flow_state_extensions WHERE flow_id = $1', [flowId]);
        await other.query('COMMIT');
        const response = await pending;
        expect(response.errors).toBeUndefined();
        expect(response.data!.pauseMasterFlow).toMatchObject({ __typename: 'FlowNotFound' });
      } finally {
        await other.end();
      }
    });
  });
});
