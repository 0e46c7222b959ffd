// Query.importProgress: a client follows its upload while the server stores it, by the idempotency key it
// sent. In flight: the rows stored so far (uncommitted, so no other query sees them); committed: the totals;
// rolled back or unknown: null. Other tenants never see it. On the embedded database (PGlite) an upload is
// received into a temporary file before its transaction opens: there it is RECEIVING (bytes growing, nothing
// stored) while the client sends, and STORING only once the whole file has arrived; on PostgreSQL the rows
// are stored while the upload arrives.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../src/app.ts';
import type { Viewer } from '../src/context.ts';
import { ImportTracker } from '../src/services/import-progress.ts';
import { StoreImportDocument, type StoreImportMutation } from './generated/graphql.ts';
import { newTenant } from './support/factories.ts';
import { executeOk, testApp } from './support/graphql.ts';
import { onPostgres, testDatabase } from './support/test-database.ts';
import { csvText, streamingUpload } from './support/upload.ts';

const PROGRESS = `query($key: String!) { importProgress(idempotencyKey: $key) {
  idempotencyKey filename status stage rowsStored invalidRows bytesRead startedAt flowId } }`;

interface Progress {
  idempotencyKey: string;
  filename: string;
  status: 'PROCESSING' | 'COMPLETED';
  stage: 'RECEIVING' | 'STORING' | null;
  rowsStored: number;
  invalidRows: number;
  bytesRead: number | null;
  startedAt: string | null;
  flowId: string | null;
}

let app: App;
let url: string;
/** Uploads a failed test left open, ended before the server stops (it waits for open requests). */
const open = new Set<{ end(): void }>();
beforeAll(async () => {
  // Small batches: progress moves every 10 rows.
  app = testApp(await testDatabase(), { imports: { batchRows: 10 } });
  url = `http://127.0.0.1:${await app.start()}`;
});
afterAll(async () => {
  for (const upload of open) upload.end();
  await app.stop();
});

function upload(viewer: Viewer, key: string, filename: string) {
  const started = streamingUpload({
    url,
    viewer,
    document: StoreImportDocument,
    variables: { input: { filename, importType: 'servers', idempotencyKey: key } },
    filename,
  });
  open.add(started);
  return {
    write: started.write,
    end: () => {
      open.delete(started);
      started.end();
    },
    body: async () => ((await (await started.response).json()) as { data: StoreImportMutation }).data.storeImport,
  };
}

const progressOf = async (viewer: Viewer, key: string) =>
  (await executeOk<{ importProgress: Progress | null }, { key: string }>(app, viewer, PROGRESS, { key })).importProgress;

/** Asks until `accept` holds (every 20 ms, at most 10 s). */
async function progressUntil(viewer: Viewer, key: string, accept: (progress: Progress | null) => boolean): Promise<Progress | null> {
  for (let attempt = 0; attempt < 500; attempt += 1) {
    const progress = await progressOf(viewer, key);
    if (accept(progress)) return progress;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`importProgress(${key}) never reached the expected state`);
}

const lineCut = (text: string, share: number) => text.indexOf('\n', Math.floor(text.length * share)) + 1;

describe('Query.importProgress', () => {
  it('reports the rows stored (PostgreSQL) or the bytes received (PGlite) while the upload is in flight, then the committed totals', async () => {
    const viewer = newTenant('uploader');
    const other = newTenant('neighbour');
    const key = 'progress-in-flight';
    // 3,000 rows and one with a missing field (invalid), sent in three parts. The CSV parser hands rows on
    // 500 at a time, the import stores them 10 at a time.
    const content = `${csvText(3_000).trimEnd()}\nshort-row,10.0.0.1\n`;
    const sending = upload(viewer, key, 'servers.csv');
    const first = lineCut(content, 0.25);
    const second = lineCut(content, 0.7);
    sending.write(content.slice(0, first));

    const early = onPostgres
      ? (await progressUntil(viewer, key, (progress) => (progress?.rowsStored ?? 0) >= 500))!
      : (await progressUntil(viewer, key, (progress) => (progress?.bytesRead ?? 0) > 0))!;
    expect(early).toMatchObject({ idempotencyKey: key, filename: 'servers.csv', status: 'PROCESSING', invalidRows: 0, flowId: null });
    expect(early.bytesRead).toBeGreaterThan(0);
    expect(early.bytesRead).toBeLessThanOrEqual(first);
    expect(Date.parse(early.startedAt!)).toBeLessThanOrEqual(Date.now());
    if (onPostgres) {
      expect(early.stage).toBe('STORING');
      expect(early.rowsStored).toBeLessThanOrEqual(750);
      // Another tenant with the same key sees nothing, and no other query sees the import yet.
      expect(await progressOf(other, key)).toBeNull();
      const flows = await executeOk<{ masterFlows: { totalCount: number } }, Record<string, never>>(app, viewer, '{ masterFlows { totalCount } }');
      expect(flows.masterFlows.totalCount).toBe(0);
    } else {
      // Receiving: nothing is stored and no transaction is open, so other queries of the database answer.
      expect(early).toMatchObject({ stage: 'RECEIVING', rowsStored: 0 });
      expect(await progressOf(other, key)).toBeNull();
      const flows = await executeOk<{ masterFlows: { totalCount: number } }, Record<string, never>>(app, viewer, '{ masterFlows { totalCount } }');
      expect(flows.masterFlows.totalCount).toBe(0);
    }

    sending.write(content.slice(first, second));
    const later = onPostgres
      ? (await progressUntil(viewer, key, (progress) => (progress?.rowsStored ?? 0) >= 1_500))!
      : (await progressUntil(viewer, key, (progress) => (progress?.bytesRead ?? 0) > first))!;
    expect(later.status).toBe('PROCESSING');
    expect(later.bytesRead).toBeGreaterThan(early.bytesRead!);
    expect(later.bytesRead).toBeLessThanOrEqual(second);
    if (onPostgres) {
      expect(later.stage).toBe('STORING');
      expect(later.rowsStored).toBeLessThanOrEqual(2_100);
    } else {
      expect(later).toMatchObject({ stage: 'RECEIVING', rowsStored: 0, invalidRows: 0 });
    }

    sending.write(content.slice(second));
    sending.end();
    if (!onPostgres) {
      // The whole file has arrived: its rows are stored now, 10 at a time (about 300 statements), and the
      // progress shows them before the import commits.
      const storing = (await progressUntil(viewer, key, (progress) => progress?.status === 'COMPLETED' || (progress?.rowsStored ?? 0) > 0))!;
      expect(storing).toMatchObject({ status: 'PROCESSING', stage: 'STORING', flowId: null });
      expect(storing.rowsStored).toBeLessThan(3_001);
      expect(storing.bytesRead).toBeGreaterThan(0);
      expect(storing.bytesRead).toBeLessThanOrEqual(Buffer.byteLength(content));
    }
    const result = await sending.body();
    expect(result.__typename).toBe('MasterFlow');
    const flowId = (result as { flowId: string }).flowId;

    const done = await progressOf(viewer, key);
    expect(done).toMatchObject({ status: 'COMPLETED', stage: null, rowsStored: 3_001, invalidRows: 1, bytesRead: Buffer.byteLength(content), flowId });
    expect(await progressOf(other, key)).toBeNull();
  });

  it('moves an import from RECEIVING to STORING, counting its rows from 0', () => {
    const tracker = new ImportTracker();
    const tenant = newTenant();
    const tracked = tracker.begin(tenant, 'staged', 'a.csv');
    tracked.received(0);
    tracked.received(4_096);
    expect(tracker.find(tenant, 'staged')).toMatchObject({ stage: 'receiving', rowsStored: 0, bytesRead: 4_096 });
    tracked.storing(0);
    expect(tracker.find(tenant, 'staged')).toMatchObject({ stage: 'storing', rowsStored: 0, bytesRead: 0 });
    tracked.stored(20, 1, 1_000);
    expect(tracker.find(tenant, 'staged')).toMatchObject({ stage: 'storing', rowsStored: 20, invalidRows: 1, bytesRead: 1_000 });
    // A retried transaction starts again from 0.
    tracked.storing(0);
    expect(tracker.find(tenant, 'staged')).toMatchObject({ stage: 'storing', rowsStored: 0, invalidRows: 0 });
    tracked.end();
    expect(tracker.find(tenant, 'staged')).toBeNull();
  });

  it('keeps imports in flight apart by tenant', () => {
    const tracker = new ImportTracker();
    const [one, two] = [newTenant(), newTenant()];
    const tracked = tracker.begin(one, 'same-key', 'a.csv');
    tracked.stored(10, 1, 500);
    expect(tracker.find(two, 'same-key')).toBeNull();
    expect(tracker.find(one, 'same-key')).toMatchObject({ filename: 'a.csv', rowsStored: 10, invalidRows: 1, bytesRead: 500 });
    // A second request with the key while the first runs does not replace it.
    tracker.begin(one, 'same-key', 'b.csv').stored(99, 0, 1);
    expect(tracker.find(one, 'same-key')).toMatchObject({ filename: 'a.csv', rowsStored: 10 });
    tracked.end();
    expect(tracker.find(one, 'same-key')).toBeNull();
    expect(tracker.size).toBe(0);
  });

  it('is null for a key no import was sent with, or one no import could have', async () => {
    const viewer = newTenant();
    for (const key of ['never-sent', '', '   ', 'k'.repeat(256), 'nul\u0000key']) expect(await progressOf(viewer, key)).toBeNull();
  });

  it('forgets an import that is rolled back', async () => {
    const viewer = newTenant('uploader');
    const key = 'progress-rolled-back';
    const sending = upload(viewer, key, 'broken.csv');
    sending.write(csvText(800));
    if (onPostgres) await progressUntil(viewer, key, (progress) => progress?.status === 'PROCESSING' && progress.rowsStored >= 500);
    // PGlite: the upload is received first; its rows are stored (and the NUL found) once it has all arrived.
    else await progressUntil(viewer, key, (progress) => progress?.stage === 'RECEIVING' && (progress.bytesRead ?? 0) > 0 && progress.rowsStored === 0);
    // A NUL byte: not text PostgreSQL can store, so the whole import fails with MalformedFile.
    sending.write('bad-host,10.0.0.9,\u0000,4\n');
    sending.end();
    expect((await sending.body()).__typename).toBe('MalformedFile');
    expect(await progressOf(viewer, key)).toBeNull();
  });
});
