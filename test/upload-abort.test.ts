// Issue 16, item 2: uploads that let go. A client that drops its upload (a closed tab) errors the upload at
// once and the import rolls back; one that trickles is ended after FLOWGRAPH_UPLOAD_IDLE_TIMEOUT_MS, not the
// import's 30-minute transaction timeout; /ready turns 503 while the pool is exhausted (PostgreSQL); on the
// embedded database, uploads being received hold no transaction, so readers are not starved. Against a real
// 256 MiB server process, on PGlite or (with TEST_DATABASE_URL) PostgreSQL, as everything else here.
import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Viewer } from '../src/context.ts';
import { authHeaders } from './support/auth.ts';
import { postGraphQL, startBudgetServer, type BudgetServer } from './support/budget-server.ts';
import { newTenant } from './support/factories.ts';
import { until } from './support/polling.ts';
import { onPostgres } from './support/test-database.ts';
import { csvText } from './support/upload.ts';

const IDLE_TIMEOUT_MS = 4_000;
/** The server's pool (src/db/database.ts): as many stalled uploads as this held every connection before. */
const POOL_SIZE = 10;

let server: BudgetServer;

beforeAll(async () => {
  server = await startBudgetServer({ FLOWGRAPH_UPLOAD_IDLE_TIMEOUT_MS: String(IDLE_TIMEOUT_MS), FLOWGRAPH_READY_TIMEOUT_MS: '1500' });
}, 120_000);
afterAll(async () => server?.dispose());
afterEach(() => {
  expect(server.problems()).toEqual([]);
});

const STORE_IMPORT =
  'mutation ($input: StoreImportInput!) { storeImport(input: $input) { __typename ... on MasterFlow { rawRecordCount } ... on Error { message } } }';

/** A multipart upload over a raw socket, written by the test chunk by chunk: it can stop, trickle or vanish. */
async function rawUpload(viewer: Viewer, filename: string) {
  const { port } = new URL(server.url);
  const socket = net.connect(Number(port), '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.on('error', () => {});
  let reply = '';
  socket.on('data', (chunk) => (reply += chunk.toString()));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  const boundary = `flowgraph-${Math.random().toString(16).slice(2)}`;
  const operations = JSON.stringify({ query: STORE_IMPORT, variables: { input: { file: null, filename, importType: 'servers' } } });
  const head =
    `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n${operations}\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.input.file"]}\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="${filename}"\r\nContent-Type: text/csv\r\n\r\n`;
  socket.write(
    `POST /graphql HTTP/1.1\r\nHost: x\r\nAuthorization: ${authHeaders(viewer).authorization}\r\n` +
      `Content-Type: multipart/form-data; boundary=${boundary}\r\nTransfer-Encoding: chunked\r\n\r\n`,
  );
  const chunk = (text: string) => {
    if (text.length > 0 && !socket.destroyed) socket.write(`${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`);
  };
  chunk(head);
  return {
    write: chunk,
    end() {
      chunk(`\r\n--${boundary}--\r\n`);
      socket.write('0\r\n\r\n');
    },
    drop: () => socket.destroy(),
    reply: () => reply,
    closed,
  };
}

async function flowCount(viewer: Viewer): Promise<number> {
  const answer = await postGraphQL(server.url, viewer, { query: '{ masterFlows { totalCount } }' });
  return (answer.json.data as { masterFlows: { totalCount: number } }).masterFlows.totalCount;
}

async function ready(): Promise<number> {
  return (await fetch(`${server.url}/ready`)).status;
}

/** Another tenant's read of its own flow graph, timed. */
async function otherTenantRead(viewer: Viewer): Promise<number> {
  const started = Date.now();
  const answer = await postGraphQL(server.url, viewer, { query: '{ masterFlows(first: 10) { totalCount edges { node { flowName } } } }' });
  expect(answer.status).toBe(200);
  expect(answer.json.errors).toBeUndefined();
  return Date.now() - started;
}

describe('dropped uploads', () => {
  it(`roll back at once and give their connections back, ${POOL_SIZE + 2} at a time`, async () => {
    const uploader = newTenant('dropper');
    const reader = newTenant('reader');
    const rows = csvText(2_000);
    const uploads = await Promise.all(Array.from({ length: POOL_SIZE + 2 }, (_, index) => rawUpload(uploader, `dropped-${index}.csv`)));
    // Half the file each: past the first batch, so on PostgreSQL each import has its transaction open.
    for (const upload of uploads) upload.write(rows.slice(0, rows.length / 2));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    if (onPostgres) {
      // Every pooled connection is held by an import waiting for its file: /ready says so.
      expect(await ready()).toBe(503);
    } else {
      // PGlite: the uploads are being received into files, no transaction is open, readers go on.
      expect(await ready()).toBe(200);
      expect(await otherTenantRead(reader)).toBeLessThan(1_000);
    }
    const dropped = Date.now();
    for (const upload of uploads) upload.drop();
    // Long before the idle timeout, let alone the import's 30 minutes: ready, and other tenants served.
    let readyAgain = 0;
    for (let attempt = 0; attempt < 30 && (readyAgain = await ready()) !== 200; attempt += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(readyAgain).toBe(200);
    // At once: well within the idle timeout, which would otherwise have ended them.
    expect(Date.now() - dropped).toBeLessThan(IDLE_TIMEOUT_MS / 2);
    expect(await otherTenantRead(reader)).toBeLessThan(1_000);
    // Nothing of them was stored, and the pool serves a burst of reads (more than its connections) at once.
    expect(await flowCount(uploader)).toBe(0);
    const burst = await Promise.all(Array.from({ length: POOL_SIZE * 2 }, () => otherTenantRead(reader)));
    expect(Math.max(...burst)).toBeLessThan(2_000);
  }, 60_000);
});

describe('trickling uploads', () => {
  it('are ended after the idle timeout with REQUEST_BODY_TIMEOUT, and nothing is stored', async () => {
    const uploader = newTenant('trickler');
    const reader = newTenant('reader-2');
    const uploads = await Promise.all(Array.from({ length: POOL_SIZE + 2 }, (_, index) => rawUpload(uploader, `trickle-${index}.csv`)));
    const started = Date.now();
    let line = 0;
    const trickle = setInterval(() => {
      line += 1;
      for (const upload of uploads) upload.write(line === 1 ? 'hostname,ip\n' : `host-${line},10.0.0.${line % 250}\n`);
    }, 200);
    try {
      await Promise.all(uploads.map((upload) => Promise.race([upload.closed, new Promise((resolve) => setTimeout(resolve, IDLE_TIMEOUT_MS * 3))])));
    } finally {
      clearInterval(trickle);
    }
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(IDLE_TIMEOUT_MS - 200);
    expect(took).toBeLessThan(IDLE_TIMEOUT_MS * 2.5);
    for (const upload of uploads) {
      expect(upload.reply()).toContain('REQUEST_BODY_TIMEOUT');
      expect(upload.reply()).not.toMatch(/stack|prisma|SELECT/i);
    }
    expect(await ready()).toBe(200);
    expect(await otherTenantRead(reader)).toBeLessThan(1_000);
    expect(await flowCount(uploader)).toBe(0);
  }, 60_000);

  it('that keep delivering (16 KiB or more per idle timeout) are not ended, however slow overall', async () => {
    const uploader = newTenant('slow-but-steady');
    const upload = await rawUpload(uploader, 'steady.csv');
    const rows = csvText(1_600).split('\n');
    // About 22 KiB every 2 s: longer overall than the idle timeout, never idle for it.
    const parts: string[] = [];
    for (let start = 0; start < rows.length; start += 600) parts.push(`${rows.slice(start, start + 600).join('\n')}${start + 600 < rows.length ? '\n' : ''}`);
    expect(parts.length).toBe(3);
    for (const part of parts.slice(0, -1)) expect(part.length).toBeGreaterThan(20_000);
    for (const part of parts) {
      upload.write(part);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
    upload.end();
    await until(() => upload.reply().includes('}}}'), 'the import to answer', 1_000).catch((error: Error) => {
      throw new Error(`${error.message}; it said: ${upload.reply()}`);
    });
    expect(upload.reply()).toContain('"rawRecordCount":1600');
    upload.drop();
    expect(await flowCount(uploader)).toBe(1);
  }, 60_000);
});
