import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // graphql 16 has no "exports" map: Node loads its CommonJS main (so do Pothos and Yoga at run time),
    // while Vite would pick its "module" build for our sources, and graphql refuses to mix the two
    // ("Cannot use GraphQLObjectType from another module or realm"). Point Vite at the same file as Node.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
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
