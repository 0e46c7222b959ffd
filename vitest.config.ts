import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // graphql ships both ESM (.mjs) and CommonJS builds; Yoga loads one and Vite would hand the tests the
    // other, and graphql refuses objects from "another realm". Everything gets the CommonJS build, as in
    // production under Node.
    alias: { graphql: 'graphql/index.js' },
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // One database per worker (PGlite takes seconds to create): workers keep their module state
    // between test files, and test/support/test-database.ts keeps one database per worker.
    pool: 'forks',
    isolate: false,
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
  },
});
