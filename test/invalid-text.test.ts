// Text the database cannot store as sent (a NUL, a lone UTF-16 surrogate) and bodies that are not JSON are the
// client's mistakes: a typed input error or UNAUTHENTICATED, nothing written, never INTERNAL_SERVER_ERROR, and no
// parser message quoting what was sent. In the app itself: none of it depends on a process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.ts';
import type { Viewer } from '../src/context.ts';
import type { Database } from '../src/db/database.ts';
import { testToken } from './support/auth.ts';
import { createFlowGraph, newTenant } from './support/factories.ts';
import { execute, testApp } from './support/graphql.ts';
import { testDatabase } from './support/test-database.ts';

let database: Database;
let app: App;
let tenant: Viewer;
let flowId: string;

beforeAll(async () => {
  database = await testDatabase();
  app = testApp(database);
  tenant = newTenant();
  flowId = (await createFlowGraph(database.prisma, tenant, { flowStatus: 'running' })).flowId;
});
afterAll(async () => app?.stop());

const FAIL = `mutation Fail($flowId: UUID!, $version: Int!, $reason: String!) {
  failMasterFlow(flowId: $flowId, version: $version, reason: $reason) { __typename ... on InvalidInput { field message } ... on MasterFlow { flowStatus } }
}`;

async function flowRow() {
  return database.prisma.masterFlow.findUniqueOrThrow({ where: { flowId }, select: { flowStatus: true, version: true, errorHistory: true } });
}

describe("failMasterFlow's reason", () => {
  for (const [what, reason] of [
    ['a NUL', 'disk full\u0000 and more'],
    ['a lone surrogate', 'broken \ud800 text'],
  ] as const) {
    it(`with ${what} is InvalidInput, and the flow stays as it was`, async () => {
      const before = await flowRow();
      const answer = await execute(app, tenant, FAIL, { flowId, version: before.version, reason });
      expect(answer.errors).toBeUndefined();
      expect(answer.data).toEqual({
        failMasterFlow: { __typename: 'InvalidInput', field: 'reason', message: expect.stringMatching(/^reason contains (a NUL character|an unpaired UTF-16 surrogate)\.$/) },
      });
      expect(await flowRow()).toEqual(before);
    });
  }

  it('without either fails the flow (the check refuses nothing else)', async () => {
    const { version } = await flowRow();
    const answer = await execute(app, tenant, FAIL, { flowId, version, reason: 'disk full ✓ \ud83d\ude00' });
    expect(answer.data).toEqual({ failMasterFlow: { __typename: 'MasterFlow', flowStatus: 'FAILED' } });
  });
});

describe("a token's sub", () => {
  for (const [what, sub] of [
    ['a NUL', 'user\u0000x'],
    ['a lone surrogate', 'user\udc00'],
  ] as const) {
    it(`with ${what} is UNAUTHENTICATED (401), for queries and mutations alike`, async () => {
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${testToken({ ...tenant, userId: sub })}` };
      for (const query of ['{ masterFlows { totalCount } }', `mutation { pauseMasterFlow(flowId: "${flowId}", version: 2) { __typename } }`]) {
        const response = await app.yoga.fetch('http://flowgraph.test/graphql', { method: 'POST', headers, body: JSON.stringify({ query }) });
        expect(response.status).toBe(401);
        const body = (await response.json()) as { errors: { message: string; extensions: { code: string } }[] };
        expect(body.errors).toEqual([{ message: expect.stringContaining('"sub" claim contains'), extensions: { code: 'UNAUTHENTICATED' } }]);
      }
    });
  }
});

describe('a body that is not JSON', () => {
  it('is a 400 BAD_REQUEST that quotes nothing of it', async () => {
    for (const body of ['{"query": "{ __typename }", "secret-ish": ', '[1,2', 'nul', '{"query": "x"}}']) {
      const response = await app.yoga.fetch('http://flowgraph.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${testToken(tenant)}` },
        body,
      });
      expect(response.status).toBe(400);
      const text = await response.text();
      expect(JSON.parse(text)).toEqual({ errors: [{ message: 'POST body sent invalid JSON.', extensions: { code: 'BAD_REQUEST' } }] });
      expect(text).not.toMatch(/position|secret-ish|SyntaxError|originalError/);
    }
  });
});
