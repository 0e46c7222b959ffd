// Runs `prisma generate` (Prisma client + Pothos types) on install and in `npm run generate`.
// Prisma's CLI insists on locating its native schema-engine binary even for `generate`, which never
// runs it; that binary cannot be downloaded here (docs/design.md), so point the CLI at any existing
// file unless the developer has a real engine configured.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1' };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
// The Pothos generator is found on PATH; npm scripts add node_modules/.bin, a direct `node` call does not.
env.PATH = `${path.resolve('node_modules/.bin')}${path.delimiter}${env.PATH ?? ''}`;
const cli = require.resolve('prisma/build/index.js');
const result = spawnSync(process.execPath, [cli, 'generate'], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
