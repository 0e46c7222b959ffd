// schema.graphql is the API reference: it must match the code, and describe everything.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isEnumType, isInputObjectType, isInterfaceType, isObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../src/schema/index.ts';
import { printedSchema, SCHEMA_FILE } from '../src/schema/printed-schema.ts';

describe('schema.graphql', () => {
  it('is up to date (refresh it with `npm run generate`)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8'), 'schema.graphql is stale: run `npm run generate`').toBe(printedSchema());
  });

  it('has a description on every type, field, argument and enum value', () => {
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || ['String', 'Int', 'Float', 'Boolean', 'ID'].includes(type.name)) continue;
      if (!type.description) missing.push(type.name);
      if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const argument of 'args' in field ? field.args : []) {
            if (!argument.description) missing.push(`${type.name}.${field.name}(${argument.name})`);
          }
        }
      }
      if (isEnumType(type)) {
        for (const value of type.getValues()) if (!value.description) missing.push(`${type.name}.${value.name}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

describe('typed documents (test/generated, dashboard/src/generated)', () => {
  it('are up to date with schema.graphql and the .graphql operations (refresh with `npm run generate`)', () => {
    const out = mkdtempSync(path.join(os.tmpdir(), 'flowgraph-codegen-'));
    const config = path.join(out, 'codegen.ts');
    const outputs = ['test/generated', 'dashboard/src/generated'];
    let source = readFileSync('codegen.ts', 'utf8');
    for (const output of outputs) source = source.replace(`'${output}/'`, JSON.stringify(`${out}/${output}/`));
    const possibleTypes = 'src/client/possible-types.ts';
    source = source.replace(`'${possibleTypes}'`, JSON.stringify(`${out}/${possibleTypes}`));
    execFileSync(process.execPath, ['-e', `require('fs').writeFileSync(${JSON.stringify(config)}, ${JSON.stringify(source)})`]);
    execFileSync(path.resolve('node_modules/.bin/graphql-codegen'), ['--config', config, '--silent'], { stdio: 'pipe' });
    for (const output of outputs) {
      for (const file of readdirSync(output)) {
        expect(readFileSync(path.join(out, output, file), 'utf8'), `${output}/${file} is stale`).toBe(
          readFileSync(path.join(output, file), 'utf8'),
        );
      }
    }
    expect(readFileSync(path.join(out, possibleTypes), 'utf8'), `${possibleTypes} is stale`).toBe(readFileSync(possibleTypes, 'utf8'));
  });
});
