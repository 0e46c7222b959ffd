// Query.viewer tells a client who it is and what it may do, so a client (the dashboard) offers only that.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.ts';
import { newTenant } from './support/factories.ts';
import { execute, executeOk, testApp } from './support/graphql.ts';
import { testDatabase } from './support/test-database.ts';

const QUERY = '{ viewer { userId clientAccountId engagementId roles canOperate canAdminister } }';
type ViewerData = { viewer: { userId: string; clientAccountId: string; engagementId: string; roles: string[]; canOperate: boolean; canAdminister: boolean } };

let app: App;
beforeAll(async () => {
  app = testApp(await testDatabase());
});
afterAll(async () => app.stop());

describe('Query.viewer', () => {
  it.each([
    ['viewer', false, false],
    ['operator', true, false],
    ['admin', true, true],
  ] as const)('answers for a %s: canOperate %s, canAdminister %s', async (role, canOperate, canAdminister) => {
    const tenant = { ...newTenant('someone'), roles: [role] };
    const data = await executeOk<ViewerData, Record<string, never>>(app, tenant, QUERY);
    expect(data.viewer).toEqual({
      userId: 'someone',
      clientAccountId: tenant.clientAccountId,
      engagementId: tenant.engagementId,
      roles: [role.toUpperCase()],
      canOperate,
      canAdminister,
    });
  });

  it('is refused without credentials', async () => {
    const result = await execute(app, null, QUERY);
    expect(result.status).toBe(401);
  });
});
