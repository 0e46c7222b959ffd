// The secret development mode signs its tokens with when FLOWGRAPH_JWT_SECRET is not set: random, and
// kept next to the embedded database, so a token (and a dashboard left open) survives a restart of
// `npm start`. With DATABASE_URL or an in-memory database there is no such place, and a fresh secret
// is drawn on every start. Development mode accepts unauthenticated headers anyway; this secret only
// makes the printed token work, it protects nothing.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

export async function developmentSecret(dataDir: string | undefined): Promise<string> {
  if (!dataDir || dataDir.startsWith('memory://')) return randomBytes(32).toString('base64url');
  const file = `${path.resolve(dataDir)}.dev-token-secret`;
  const existing = await readFile(file, 'utf8').catch(() => '');
  if (existing.trim().length >= 32) return existing.trim();
  const secret = randomBytes(32).toString('base64url');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
