// TEST_DATABASE_URL names a database; each vitest worker gets its own fresh copy of it (`<name>_w<id>`),
// created and migrated by the global setup and dropped afterwards.
import pg from 'pg';

export function workerDatabaseUrl(baseUrl: string, workerId: string | number): string {
  const url = new URL(baseUrl);
  const name = url.pathname.replace(/^\//, '') || 'flowgraph_test';
  url.pathname = `/${name}_w${workerId}`;
  return url.toString();
}

function adminUrl(baseUrl: string): string {
  const url = new URL(baseUrl);
  url.pathname = '/postgres';
  return url.toString();
}

async function onServer(url: string, statements: (name: string) => string[]): Promise<void> {
  const name = new URL(url).pathname.slice(1);
  const admin = new pg.Client({ connectionString: adminUrl(url) });
  await admin.connect();
  try {
    for (const statement of statements(name)) await admin.query(statement);
  } finally {
    await admin.end();
  }
}

/** Drops (if present) and creates the database named by `url`. */
export function recreateDatabase(url: string): Promise<void> {
  return onServer(url, (name) => [`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`, `CREATE DATABASE "${name}"`]);
}

export function dropDatabase(url: string): Promise<void> {
  return onServer(url, (name) => [`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`]);
}
