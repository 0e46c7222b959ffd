// Writes schema.graphql, the API reference: the sorted, printed schema with every description.
// `npm run generate` runs this; test/schema-file.test.ts fails when the committed file is stale.
import { writeFileSync } from 'node:fs';
import { printedSchema, SCHEMA_FILE } from '../src/schema/printed-schema.ts';

writeFileSync(SCHEMA_FILE, printedSchema());
console.log(`wrote ${SCHEMA_FILE}`);
