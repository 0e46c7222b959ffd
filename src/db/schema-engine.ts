// Prisma's migration engine, compiled to WebAssembly (@prisma/schema-engine-wasm, the build matching
// prisma 7.10.0), run in-process on embedded PGlite. Used at development time only: `npm run db:diff`
// writes the SQL for a new migration, and the drift test proves that applying prisma/migrations gives
// exactly the schema prisma/schema.prisma describes.
//
// Workarounds, kept here and nowhere else (docs/design.md):
// - the package's entry imports a .wasm file as an ES module, which Node does not do without a flag,
//   so the module is instantiated by hand from its bindings;
// - the engine is only given PGlite connections: through @prisma/adapter-pg its catalog queries return
//   "char" columns (oid 18) the adapter cannot read; PGlite also gives it a throwaway shadow database;
// - after a command the engine leaves a timer alive for ~10 s; callers that want to exit sooner free it
//   and exit explicitly.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { bindMigrationAwareSqlAdapterFactory, type SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { defaultMigrationsDir, readMigrations } from './migrator.ts';

const require = createRequire(import.meta.url);

type Bindings = typeof import('@prisma/schema-engine-wasm');
type Engine = Awaited<ReturnType<Bindings['SchemaEngine']['new']>>;

let bindings: Promise<Bindings> | undefined;

function loadBindings(): Promise<Bindings> {
  bindings ??= (async () => {
    const runtime = (await import('@prisma/schema-engine-wasm/schema_engine_bg')) as Bindings & {
      __wbg_set_wasm(exports: WebAssembly.Exports): void;
    };
    const wasmPath = path.join(path.dirname(require.resolve('@prisma/schema-engine-wasm')), 'schema_engine_bg.wasm');
    const instance = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(wasmPath)), {
      './schema_engine_bg.js': runtime as unknown as WebAssembly.ModuleImports,
    });
    runtime.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as (() => void) | undefined)?.();
    return runtime;
  })();
  return bindings;
}

export const schemaFile = path.resolve(path.dirname(defaultMigrationsDir), 'schema.prisma');

const NO_FILTER = { externalTables: [], externalEnums: [] };

/** Each shadow database the engine asks for is a fresh in-memory PGlite. */
function pgliteFactory(main: PGlite) {
  const mainFactory = new PrismaPGlite(main);
  const shadows: PGlite[] = [];
  const factory: SqlMigrationAwareDriverAdapterFactory = {
    provider: mainFactory.provider,
    adapterName: mainFactory.adapterName,
    connect: () => mainFactory.connect(),
    connectToShadowDb: async () => {
      const shadow = await PGlite.create();
      shadows.push(shadow);
      return new PrismaPGlite(shadow).connect();
    },
  };
  return { factory, close: () => Promise.all(shadows.map((shadow) => shadow.close())) };
}

async function withEngine<T>(schema: string, run: (engine: Engine) => Promise<T>): Promise<T> {
  const { SchemaEngine } = await loadBindings();
  const main = await PGlite.create();
  const { factory, close } = pgliteFactory(main);
  const engine = await SchemaEngine.new(
    { datamodels: [[schemaFile, schema]] },
    () => {},
    bindMigrationAwareSqlAdapterFactory(factory),
  );
  try {
    return await run(engine);
  } finally {
    engine.free();
    await close();
    await main.close();
  }
}

async function migrationList(dir: string) {
  const migrations = await readMigrations(dir);
  const lockPath = path.join(dir, 'migration_lock.toml');
  let lockContent: string | null = null;
  try {
    lockContent = readFileSync(lockPath, 'utf8');
  } catch {
    lockContent = null;
  }
  return {
    baseDir: dir,
    lockfile: { path: 'migration_lock.toml', content: lockContent },
    shadowDbInitScript: '',
    migrationDirectories: migrations.map((migration) => ({
      path: migration.name,
      migrationFile: { path: 'migration.sql', content: { tag: 'ok' as const, value: migration.sql } },
    })),
  };
}

/**
 * The SQL that would bring a database migrated with `migrationsDir` to `schema.prisma`; empty when they
 * agree. Prisma does not model CHECK constraints, triggers or functions, so those never show up here.
 */
export async function diffMigrationsToSchema(
  schema = readFileSync(schemaFile, 'utf8'),
  migrationsDir = defaultMigrationsDir,
): Promise<string> {
  const list = await migrationList(migrationsDir);
  return withEngine(schema, async (engine) => {
    const result = await engine.diff({
      from: { tag: 'migrations', ...list },
      to: { tag: 'schemaDatamodel', files: [{ path: schemaFile, content: schema }] },
      script: true,
      exitCode: null,
      filters: NO_FILTER,
    });
    return (result.stdout ?? '').replace(/^-- This is an empty migration\.\s*$/m, '').trim();
  });
}
