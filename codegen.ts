// Typed documents for the .graphql operations the tests and the README use (`npm run generate`).
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: 'schema.graphql',
  ignoreNoDocuments: false,
  generates: {
    // The dashboard sends documents as strings, so it needs no GraphQL runtime in the browser.
    'dashboard/src/generated/': {
      documents: ['dashboard/operations/*.graphql'],
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        documentMode: 'string',
        emitLegacyCommonJSImports: false,
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { UUID: 'string', DateTime: 'string', JSON: 'unknown', SafeInt: 'number' },
      },
    },
    'test/generated/': {
      documents: ['src/graphql/operations/*.graphql', 'test/operations/*.graphql'],
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        emitLegacyCommonJSImports: false,
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { UUID: 'string', DateTime: 'string', JSON: 'unknown', SafeInt: 'number' },
      },
    },
  },
};

export default config;
