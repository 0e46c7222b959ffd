import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // graphql ships CommonJS (main) and ESM (module) builds. Node loads the CommonJS one for the libraries
    // (Yoga, graphql-ws, Pothos), Vite would give the project's own modules the ESM one, and graphql refuses
    // types from "another module or realm". One copy, as under Node.
    alias: [{ find: /^graphql$/, replacement: require.resolve('graphql') }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // One database per worker (PGlite takes seconds to create): workers keep their module state
    // between test files, and test/support/test-database.ts keeps one database per worker.
    pool: 'forks',
    isolate: false,
    maxWorkers: 2,
    // Generous: process tests start servers, and a shared CI machine can be slow. No test asserts speed.
    testTimeout: 180_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
