// Shared pieces of the import benchmarks: a scratch PostgreSQL database, the rows, and a multipart upload.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { applyMigrations } from '../src/db/migrator.ts';
import { postgresSession } from '../src/db/sql-session.ts';

export const VIEWER = {
  clientAccountId: randomUUID(),
  engagementId: randomUUID(),
  userId: 'bench',
};

export const CSV_HEADER = 'hostname,ip,os,cpu_cores,memory_gb,environment,owner';

/** Data row `index` (1-based) of the benchmark CSV. */
export function csvLine(index: number): string {
  return `host-${index}.dc1.example,10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255},Ubuntu 22.04,${(index % 16) + 1},${(index % 8) * 16 + 16},production,team-${index % 40}`;
}

/** The header and `rows` data rows. */
export function csvRows(rows: number): string[] {
  const lines = [CSV_HEADER];
  for (let index = 1; index <= rows; index += 1) lines.push(csvLine(index));
  return lines;
}

/**
 * Drops and creates `name` on the server of `baseUrl`, applies this checkout's migrations (unless `migrate` is
 * false: a server of another checkout applies its own), returns its URL.
 */
export async function scratchDatabase(baseUrl: string, name: string, { migrate = true } = {}): Promise<string> {
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  if (!migrate) return url.toString();
  const session = await postgresSession(url.toString());
  await applyMigrations(session);
  await session.close();
  return url.toString();
}

/** Drops a database scratchDatabase() created. */
export async function dropScratchDatabase(baseUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: baseUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin.end();
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

const MUTATION = 'mutation ($input: StoreImportInput!) { storeImport(input: $input) { __typename ... on MasterFlow { flowId rawRecordCount } ... on Error { message } } }';

/** Uploads CSV text as a multipart request; resolves with the response body. */
export async function uploadCsv(url: string, content: Blob, filename: string): Promise<{ flowId: string; rawRecordCount: number }> {
  const form = new FormData();
  form.set('operations', JSON.stringify({ query: MUTATION, variables: { input: { filename, importType: 'servers' } } }));
  form.set('map', JSON.stringify({ 0: ['variables.input.file'] }));
  form.set('0', content, filename);
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'x-client-account-id': VIEWER.clientAccountId,
      'x-engagement-id': VIEWER.engagementId,
      'x-user-id': VIEWER.userId,
    },
    body: form,
  });
  const body = (await response.json()) as { data?: { storeImport: { __typename: string; flowId: string; rawRecordCount: number; message?: string } } };
  const result = body.data?.storeImport;
  if (result?.__typename !== 'MasterFlow') throw new Error(`import failed: ${JSON.stringify(body)}`);
  return result;
}
