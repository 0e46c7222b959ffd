// Fault: the server process is killed with SIGKILL in the middle of a 200,000-row import. After a restart
// (on PGlite, through the lock the killed server left behind), not one row of that import exists in any
// table; the same request with the same idempotency key then succeeds, exactly once.
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Viewer } from '../src/context.ts';
import { LOCK_SOCKET } from '../src/db/data-dir-lock.ts';
import { StoreImportDocument, type StoreImportMutation } from './generated/graphql.ts';
import { newTenant } from './support/factories.ts';
import { workerDatabaseUrl } from './support/postgres-databases.ts';
import { startServer, type ServerProcess } from './support/server-process.ts';
import { onPostgres } from './support/test-database.ts';
import { csvText, streamingUpload, uploadFile } from './support/upload.ts';

const ROWS = 200_000;
const KEY = 'kill-test-import';

const COUNTS = `
  SELECT (SELECT count(*)::int FROM crewai_flow_state_extensions WHERE client_account_id = $1 AND engagement_id = $2) AS master_flows,
         (SELECT count(*)::int FROM data_imports WHERE client_account_id = $1 AND engagement_id = $2) AS data_imports,
         (SELECT count(*)::int FROM raw_import_records WHERE client_account_id = $1 AND engagement_id = $2) AS raw_records,
         (SELECT count(*)::int FROM discovery_flows WHERE client_account_id = $1 AND engagement_id = $2) AS discovery_flows,
         (SELECT count(*)::int FROM flow_events WHERE client_account_id = $1 AND engagement_id = $2) AS events`;

describe('SIGKILL in the middle of an import', () => {
  const viewer: Viewer = newTenant('uploader');
  const variables = { input: { filename: 'big.csv', importType: 'servers', idempotencyKey: KEY } };
  const content = csvText(ROWS);
  const half = content.slice(0, content.indexOf('\n', Math.floor(content.length / 2)) + 1);
  let env: Record<string, string>;
  let dataDir: string | undefined;
  let server: ServerProcess;

  /** Row counts of the test tenant, read straight from the database (PGlite: with the server stopped). */
  async function counts(): Promise<Record<string, number>> {
    if (onPostgres) {
      const client = new pg.Client({ connectionString: env.DATABASE_URL });
      await client.connect();
      try {
        return (await client.query(COUNTS, [viewer.clientAccountId, viewer.engagementId])).rows[0];
      } finally {
        await client.end();
      }
    }
    const db = await PGlite.create(dataDir!);
    try {
      return (await db.query<Record<string, number>>(COUNTS, [viewer.clientAccountId, viewer.engagementId])).rows[0]!;
    } finally {
      await db.close();
    }
  }

  beforeAll(async () => {
    if (onPostgres) {
      env = { DATABASE_URL: workerDatabaseUrl(process.env.TEST_DATABASE_URL!, process.env.VITEST_POOL_ID ?? '1') };
    } else {
      dataDir = await mkdtemp(path.join(os.tmpdir(), 'flowgraph-kill-'));
      env = { DATABASE_URL: '', FLOWGRAPH_DATA_DIR: dataDir };
    }
    env.FLOWGRAPH_IMPORT_PROGRESS_ROWS = '20000';
    // The server prints a progress line every this many stored (uncommitted) rows.
    server = await startServer(env);
  });
  afterAll(async () => server?.stop('SIGKILL'));

  it('leaves no row of the killed import behind, and the retry with the same key succeeds exactly once', async () => {
    const upload = streamingUpload({ url: server.url, viewer, document: StoreImportDocument, variables, filename: 'big.csv' });
    if (onPostgres) upload.write(half);
    else {
      // PGlite receives an upload into a file before its import begins (src/services/store-import.ts): the
      // whole file is sent, and the process killed while it is being stored.
      upload.write(content);
      upload.end();
    }
    // The server logs progress per batch of stored (uncommitted) rows: wait until it is well into the import.
    const progress = () =>
      [...server.output().matchAll(/import [0-9a-f-]+: (\d+) rows stored, not committed yet/g)].map((match) => Number(match[1]));
    const deadline = Date.now() + 120_000;
    while (progress().length === 0) {
      if (Date.now() > deadline) throw new Error(`no import progress:\n${server.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const stored = Math.max(...progress());
    expect(stored).toBeGreaterThanOrEqual(20_000);
    expect(stored).toBeLessThan(ROWS);
    expect(await server.stop('SIGKILL')).toBeNull();
    await expect(upload.response).rejects.toThrow();

    if (!onPostgres) {
      // The killed server's lock is left behind (src/db/data-dir-lock.ts); the next start takes it over.
      expect(existsSync(path.join(dataDir!, LOCK_SOCKET))).toBe(true);
      // PGlite recovers its data directory on the next open, like PostgreSQL after a crash.
      expect(await counts()).toEqual({ master_flows: 0, data_imports: 0, raw_records: 0, discovery_flows: 0, events: 0 });
    }
    server = await startServer(env);
    if (onPostgres) expect(await counts()).toEqual({ master_flows: 0, data_imports: 0, raw_records: 0, discovery_flows: 0, events: 0 });

    const send = () =>
      uploadFile<StoreImportMutation, typeof variables>({
        url: server.url,
        viewer,
        document: StoreImportDocument,
        variables,
        file: { name: 'big.csv', content },
      });
    const first = await send();
    expect(first.errors).toBeUndefined();
    expect(first.data!.storeImport).toMatchObject({ __typename: 'MasterFlow', rawRecordCount: ROWS, invalidRecordCount: 0 });
    const second = await send();
    expect(second.data!.storeImport).toMatchObject({ __typename: 'MasterFlow' });
    expect((second.data!.storeImport as { flowId: string }).flowId).toBe((first.data!.storeImport as { flowId: string }).flowId);

    if (!onPostgres) expect(await server.stop('SIGTERM')).toBe(0);
    expect(await counts()).toEqual({ master_flows: 1, data_imports: 1, raw_records: ROWS, discovery_flows: 1, events: 2 });
  }, 600_000);
});
