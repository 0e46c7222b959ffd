// A corpus of hostile requests, derived from the schema where it can be: wrong types, invalid ids,
// huge numbers and strings, deep nesting, alias bombs, fragment cycles, unknown fields, bad encodings,
// oversized and truncated bodies, wrong content types, multipart tricks, odd methods and raw
// graphql-ws frames. Each case names its class, so the suite can report what it tried.
import { randomUUID } from 'node:crypto';
import {
  getNamedType,
  getNullableType,
  isEnumType,
  isInputObjectType,
  isListType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import { operationFor, rootFields, type OperationType } from './schema-walker.ts';

/** A GraphQL operation, sent as JSON over HTTP and as a subscribe message over graphql-ws. */
export interface OperationCase {
  kind: 'operation';
  class: string;
  operationType: OperationType;
  query: string;
  variables?: unknown;
  operationName?: unknown;
}

/** Bytes on the wire to /graphql, for what a GraphQL client would never send. */
export interface RawHttpCase {
  kind: 'raw-http';
  class: string;
  method: string;
  path?: string;
  headers: Record<string, string>;
  body?: Buffer | string;
  /** Declare a Content-Length other than the body's, then close the connection. */
  declaredLength?: number;
  /** Send without Content-Length, in chunks. */
  chunked?: boolean;
}

/** Frames on a graphql-ws socket (after connection_init unless `beforeInit`). */
export interface WsFramesCase {
  kind: 'ws-frames';
  class: string;
  frames: (string | Buffer)[];
  beforeInit?: boolean;
}

export type HostileCase = OperationCase | RawHttpCase | WsFramesCase;

const uuid = () => randomUUID();
const b64 = (text: string) => Buffer.from(text).toString('base64');

/** Ids that are not ids: malformed uuids, injections, odd encodings, global ids of nothing. */
export const BAD_IDS: unknown[] = [
  '',
  ' ',
  'not-a-uuid',
  '00000000-0000-0000-0000-00000000000g',
  `${uuid()} `,
  uuid().toUpperCase(),
  "' OR '1'='1",
  '1; DROP TABLE crewai_flow_state_extensions; --',
  '\u0000',
  `${uuid()}\u0000`,
  '../../etc/passwd',
  '{"$ne": null}',
  '🙂',
  'a'.repeat(10_000),
  b64(`MasterFlow:' OR 1=1 --`),
  b64(`Query:${uuid()}`),
  b64(`NoSuchType:${uuid()}`),
  b64(':'),
  b64('MasterFlow:'),
  b64(`MasterFlow:${uuid()}:${uuid()}`),
  '====',
  b64(':'.repeat(1_000)),
  '\ud800',
];

/** Values of the wrong type for an argument of `type`. */
function wrongValues(type: GraphQLInputType): unknown[] {
  const values: unknown[] = [null, {}, [[[1]]], 'x'.repeat(5), 123456789012, true, -1.5, { nested: { deep: [1, 'two'] } }];
  const nullable = getNullableType(type);
  const named = getNamedType(type);
  if (isListType(nullable)) values.push('not-a-list', [null], [{}]);
  if (isEnumType(named)) values.push('NOT_A_VALUE', named.getValues()[0]?.name.toLowerCase(), 0);
  if (isInputObjectType(named)) {
    values.push({ unknownField: 1 }, Object.fromEntries(Object.keys(named.getFields()).map((key) => [key, { wrong: true }])));
  }
  if (isScalarType(named) && ['Int', 'SafeInt'].includes(named.name)) values.push(2 ** 31, -(2 ** 31) - 1, 1e308, 9007199254740993, '1e3', -0);
  return values;
}

/** A GraphQL literal for any JSON value (including ones of the wrong type). */
function literal(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`;
  if (typeof value === 'object') return `{${Object.entries(value).map(([key, inner]) => `${key}: ${literal(inner)}`).join(', ')}}`;
  if (typeof value === 'string') return JSON.stringify(value);
  return String(value);
}

function selectionOf(schema: GraphQLSchema, operationType: OperationType, fieldName: string): string {
  const field = rootFields(schema, operationType).find((candidate) => candidate.name === fieldName)!;
  const named = getNamedType(field.type);
  return isScalarType(named) || isEnumType(named) ? '' : '{ __typename }';
}

/** The schema-derived operation cases. `ids` are real ids of the caller's tenant and of another. */
export function operationCases(schema: GraphQLSchema, ids: { own: string[]; foreign: string[] }): OperationCase[] {
  const cases: OperationCase[] = [];
  for (const operationType of ['query', 'mutation', 'subscription'] as const) {
    for (const field of rootFields(schema, operationType)) {
      const selection = selectionOf(schema, operationType, field.name);
      const base = operationFor(schema, operationType, field, { depth: 3, optionalArguments: true, idFor: () => uuid() });

      // Wrong types, in variables and as literals, one argument at a time.
      field.args.forEach((arg: GraphQLArgument, index) => {
        for (const wrong of wrongValues(arg.type)) {
          cases.push({ kind: 'operation', class: 'wrong-types', operationType, query: base.query, variables: { ...base.variables, [`v${index}`]: wrong } });
          cases.push({ kind: 'operation', class: 'wrong-types', operationType, query: `${operationType} { ${field.name}(${arg.name}: ${literal(wrong)}) ${selection} }` });
        }
        // Big numbers and strings where the argument takes them.
        const named = getNamedType(arg.type);
        if (isScalarType(named) && ['Int', 'SafeInt', 'Float'].includes(named.name)) {
          for (const huge of ['99999999999999999999', '-99999999999999999999', '1e400', '0x10', '007']) {
            cases.push({ kind: 'operation', class: 'huge-numbers', operationType, query: `${operationType} { ${field.name}(${arg.name}: ${huge}) ${selection} }` });
          }
          for (const huge of [Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 2 ** 31, 1e308]) {
            cases.push({ kind: 'operation', class: 'huge-numbers', operationType, query: base.query, variables: { ...base.variables, [`v${index}`]: huge } });
          }
        }
        if (isScalarType(named) && ['String', 'ID', 'UUID', 'JSON'].includes(named.name)) {
          for (const huge of ['x'.repeat(200_000), '🙂'.repeat(50_000), `${'\\'.repeat(10_000)}"`]) {
            cases.push({ kind: 'operation', class: 'huge-strings', operationType, query: base.query, variables: { ...base.variables, [`v${index}`]: huge } });
          }
        }
      });

      // Invalid, foreign and lone-surrogate ids in every id-taking position.
      base.idSlots.forEach((_slot, slotIndex) => {
        for (const bad of [...BAD_IDS, ...ids.foreign.slice(0, 6)]) {
          let call = 0;
          const withBad = operationFor(schema, operationType, field, {
            depth: 3,
            optionalArguments: true,
            idFor: () => (call++ === slotIndex ? bad : uuid()),
          });
          cases.push({ kind: 'operation', class: 'invalid-ids', operationType, query: withBad.query, variables: withBad.variables });
        }
      });
    }
  }

  const deepSelection = (levels: number) => {
    let text = '{ totalCount }';
    for (let level = 0; level < levels; level += 1) text = `{ edges { node { dataImports ${text} } } }`;
    return `{ masterFlows ${text} }`;
  };
  const nestedList = (levels: number) => `${'['.repeat(levels)}"${uuid()}"${']'.repeat(levels)}`;
  let nestedObject: unknown = { flowTypes: ['DISCOVERY'] };
  for (let level = 0; level < 3_000; level += 1) nestedObject = { statuses: nestedObject };
  cases.push(
    { kind: 'operation', class: 'deep-nesting', operationType: 'query', query: deepSelection(40) },
    { kind: 'operation', class: 'deep-nesting', operationType: 'query', query: deepSelection(400) },
    { kind: 'operation', class: 'deep-nesting', operationType: 'query', query: `{ nodes(ids: ${nestedList(300)}) { id } }` },
    { kind: 'operation', class: 'deep-nesting', operationType: 'query', query: 'query($f: MasterFlowFilter) { masterFlows(filter: $f) { totalCount } }', variables: { f: nestedObject } },
    {
      kind: 'operation',
      class: 'deep-nesting',
      operationType: 'query',
      query: `{ ...F0 } ${Array.from({ length: 150 }, (_unused, index) => `fragment F${index} on Query { masterFlows { edges { node { flowId } } } ...F${index + 1} }`).join(' ')} fragment F150 on Query { __typename }`,
    },
  );

  const aliases = (count: number, field: string) => `{ ${Array.from({ length: count }, (_unused, index) => `a${index}: ${field}`).join(' ')} }`;
  cases.push(
    { kind: 'operation', class: 'alias-bombs', operationType: 'query', query: aliases(1_000, 'masterFlows { totalCount }') },
    { kind: 'operation', class: 'alias-bombs', operationType: 'query', query: aliases(16, 'masterFlows(first: 500) { edges { node { rawRecords(first: 500) { edges { node { rawData } } } } } }') },
    { kind: 'operation', class: 'alias-bombs', operationType: 'query', query: aliases(5_000, '__typename') },
    { kind: 'operation', class: 'alias-bombs', operationType: 'query', query: `{ masterFlows { edges { node { ${aliases(200, 'rawRecords { totalCount }').slice(1, -1)} } } } }` },
  );

  const laughs = Array.from({ length: 30 }, (_unused, index) => `fragment L${index + 1} on Query { ...L${index} ...L${index} }`).join(' ');
  cases.push(
    { kind: 'operation', class: 'fragment-cycles', operationType: 'query', query: '{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }' },
    { kind: 'operation', class: 'fragment-cycles', operationType: 'query', query: '{ ...A } fragment A on Query { masterFlows { totalCount } ...A }' },
    { kind: 'operation', class: 'fragment-cycles', operationType: 'query', query: '{ masterFlows { edges { node { ...M } } } } fragment M on MasterFlow { dataImports { edges { node { masterFlow { ...M } } } } }' },
    { kind: 'operation', class: 'fragment-cycles', operationType: 'query', query: `{ ...L30 } fragment L0 on Query { masterFlows { totalCount } } ${laughs}` },
    { kind: 'operation', class: 'fragment-cycles', operationType: 'query', query: '{ ...Missing }' },
    { kind: 'operation', class: 'fragment-cycles', operationType: 'query', query: '{ ...A } fragment A on Query { __typename } fragment A on Query { masterFlows { totalCount } }' },
  );

  for (const query of [
    '{ noSuchField }',
    '{ masterFlows { noSuchField } }',
    '{ masterFlows(noSuchArg: 1) { totalCount } }',
    '{ masterFlows { ... on NoSuchType { id } } }',
    '{ masterFlows @noSuchDirective { totalCount } }',
    'query($x: NoSuchType) { masterFlows { totalCount } }',
    'query($x: Int) { masterFlows { totalCount } }',
    '{ masterFlows(first: $undefined) { totalCount } }',
    'query A { __typename } query A { __typename }',
    'query A { __typename } query B { __typename }',
    '{ __typename } { __typename }',
    'subscription { a: __typename b: __typename }',
    'mutation { __typename }',
    '{ __type(name: "") { name } }',
    '{ __schema { types { fields(includeDeprecated: "yes") { name } } } }',
    'fragment F on Query { __typename }',
    '',
    '   ',
    '# only a comment',
    '{',
    '}}}}}',
    '{ masterFlows { totalCount }',
    'query { masterFlows { totalCount } } extra',
    '{ masterFlows(first: ) { totalCount } }',
    '{ masterFlows(filter: {statuses: [RUNNING, ]}) { totalCount } }',
    '{ "string" }',
    '{ masterFlows { totalCount } } # \u0000',
    `{ ${'masterFlows { totalCount } '.repeat(600)} }`,
  ]) {
    cases.push({ kind: 'operation', class: 'unknown-fields', operationType: 'query', query });
  }
  for (const [query, operationName] of [
    ['query A { __typename } query B { __typename }', 'C'],
    ['query A { __typename }', 12],
    ['query A { __typename }', { name: 'A' }],
    ['query A { __typename }', 'A'.repeat(100_000)],
  ] as const) {
    cases.push({ kind: 'operation', class: 'unknown-fields', operationType: 'query', query, operationName });
  }
  for (const variables of ['not-an-object', [1, 2], 42, { __proto__: { polluted: true } }, JSON.parse('{"__proto__": {"polluted": true}}'), { constructor: { prototype: { polluted: true } } }]) {
    cases.push({ kind: 'operation', class: 'wrong-types', operationType: 'query', query: 'query($first: Int) { masterFlows(first: $first) { totalCount } }', variables });
  }
  for (const value of ['\ud800', '\udfff\ud800', 'a\u0000b', '\u202e\u202d', '\uffff', '\u0007\u001b[31m']) {
    cases.push({ kind: 'operation', class: 'invalid-utf8', operationType: 'query', query: 'query($f: UUID!) { masterFlow(flowId: $f) { flowId } }', variables: { f: value } });
    cases.push({ kind: 'operation', class: 'invalid-utf8', operationType: 'query', query: `{ masterFlows(after: ${JSON.stringify(value)}) { totalCount } }` });
  }
  // Cursors are opaque strings clients echo back: forged ones must not reach the database raw.
  for (const cursor of [b64('MasterFlow:x'), b64(`${uuid()}`), 'garbage', b64('{"id": "\' OR 1=1"}'), b64('1'.repeat(5_000)), b64(ids.foreign[0] ?? uuid()), '\u0000']) {
    for (const arg of ['after', 'before']) {
      cases.push({ kind: 'operation', class: 'invalid-ids', operationType: 'query', query: `query($c: String) { masterFlows(${arg}: $c, ${arg === 'after' ? 'first' : 'last'}: 2) { totalCount edges { node { rawRecords(${arg}: $c) { totalCount } } } } }`, variables: { c: cursor } });
    }
  }
  return cases;
}

/** Requests no GraphQL client would send. `auth` are the caller's credentials. */
export function rawHttpCases(auth: Record<string, string>, limits: { maxBodyBytes: number; maxUploadBytes: number }): RawHttpCase[] {
  const cap = Math.min(limits.maxBodyBytes, 2 * 1024 * 1024);
  const json = { 'content-type': 'application/json', ...auth };
  const cases: RawHttpCase[] = [];
  const ok = JSON.stringify({ query: '{ masterFlows { totalCount } }' });

  cases.push(
    { kind: 'raw-http', class: 'invalid-utf8', method: 'POST', headers: json, body: Buffer.concat([Buffer.from('{"query":"{ masterFlows { totalCount } }","variables":{"x":"'), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from('"}}')]) },
    { kind: 'raw-http', class: 'invalid-utf8', method: 'POST', headers: json, body: Buffer.concat([Buffer.from('{"query":"{ masterFlows'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from(' { totalCount } }"}')]) },
    { kind: 'raw-http', class: 'invalid-utf8', method: 'POST', headers: json, body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(ok)]) },
    { kind: 'raw-http', class: 'invalid-utf8', method: 'POST', headers: { ...json, 'content-type': 'application/json; charset=utf-16' }, body: Buffer.from(ok, 'utf16le') },
    { kind: 'raw-http', class: 'invalid-utf8', method: 'POST', headers: json, body: Buffer.from([0x80, 0x81, 0x82, 0xff]) },
    { kind: 'raw-http', class: 'invalid-utf8', method: 'POST', headers: json, body: '{"query":"{ masterFlows { totalCount } }","variables":{"a":"\\ud800"}}' },
  );

  cases.push(
    { kind: 'raw-http', class: 'oversized-bodies', method: 'POST', headers: json, body: JSON.stringify({ query: '{ masterFlows { totalCount } }', variables: { pad: 'x'.repeat(cap) } }) },
    { kind: 'raw-http', class: 'oversized-bodies', method: 'POST', headers: json, chunked: true, body: JSON.stringify({ query: '{ masterFlows { totalCount } }', variables: { pad: 'x'.repeat(cap * 2) } }) },
    { kind: 'raw-http', class: 'oversized-bodies', method: 'POST', headers: { ...auth, 'content-type': 'multipart/form-data; boundary=b' }, declaredLength: limits.maxUploadBytes + 1, body: '--b\r\n' },
    { kind: 'raw-http', class: 'oversized-bodies', method: 'POST', headers: json, declaredLength: 2 ** 40, body: ok },
    { kind: 'raw-http', class: 'oversized-bodies', method: 'GET', path: `/graphql?query=${'x'.repeat(40_000)}`, headers: auth },
    { kind: 'raw-http', class: 'oversized-bodies', method: 'POST', headers: { ...json, 'x-padding': 'p'.repeat(20_000) }, body: ok },
  );

  for (const cut of [1, 8, 20, ok.length - 1]) {
    cases.push({ kind: 'raw-http', class: 'truncated-bodies', method: 'POST', headers: json, body: ok.slice(0, cut) });
  }
  cases.push(
    { kind: 'raw-http', class: 'truncated-bodies', method: 'POST', headers: json, body: ok.slice(0, 10), declaredLength: ok.length },
    { kind: 'raw-http', class: 'truncated-bodies', method: 'POST', headers: json, body: '' },
    { kind: 'raw-http', class: 'truncated-bodies', method: 'POST', headers: { ...auth, 'content-type': 'multipart/form-data; boundary=b' }, body: '--b\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{"query":"{ __ty' },
  );

  for (const contentType of [
    'text/plain',
    'application/xml',
    'application/x-www-form-urlencoded',
    'application/graphql',
    'application/octet-stream',
    'application/json; charset=latin1',
    'multipart/form-data',
    'image/png',
    '',
    'application/json, text/plain',
  ]) {
    cases.push({ kind: 'raw-http', class: 'wrong-content-types', method: 'POST', headers: { ...auth, 'content-type': contentType }, body: ok });
  }
  for (const body of ['not json', '{"query": 1}', '{"query": null}', '{"query": ["{ __typename }"]}', '{"query": "{ __typename }", "variables": "x"}', '{"query": "{ __typename }", "extensions": "x"}', '[]', 'null', '1', '"{ __typename }"', '{}', '{"query": "{ __typename }", "query": "{ masterFlows { totalCount } }"}', `[${Array.from({ length: 1_000 }, () => ok).join(',')}]`]) {
    cases.push({ kind: 'raw-http', class: 'wrong-content-types', method: 'POST', headers: json, body });
  }

  const multipart = (parts: [string, string, string?][], boundary = 'bnd') => {
    const body = parts.map(([name, content, filename]) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${filename ? `; filename="${filename}"\r\nContent-Type: text/csv` : ''}\r\n\r\n${content}\r\n`).join('') + `--${boundary}--\r\n`;
    return { kind: 'raw-http' as const, class: 'multipart-tricks', method: 'POST', headers: { ...auth, 'content-type': `multipart/form-data; boundary=${boundary}` }, body };
  };
  const operations = JSON.stringify({ query: 'query($file: Upload) { masterFlows { totalCount } }', variables: { file: null } });
  cases.push(
    multipart([['operations', operations]]),
    multipart([['map', '{"0": ["variables.file"]}'], ['0', 'a,b', 'f.csv']]),
    multipart([['operations', operations], ['map', '{"0": ["variables.nope.deeper"]}'], ['0', 'a,b', 'f.csv']]),
    multipart([['operations', operations], ['map', '{"0": ["query"]}'], ['0', 'a,b', 'f.csv']]),
    multipart([['operations', operations], ['map', '{"0": ["variables.__proto__.polluted"]}'], ['0', 'a,b', 'f.csv']]),
    multipart([['operations', operations], ['map', 'not json'], ['0', 'a,b', 'f.csv']]),
    multipart([['operations', 'not json'], ['map', '{}']]),
    multipart([['operations', operations], ['map', '{"0": ["variables.file"], "1": ["variables.file"]}'], ['0', 'a,b', 'f.csv']]),
    multipart([['operations', operations], ['map', '{"0": ["variables.file"]}']]),
    multipart([['operations', operations], ['map', '{"0": "variables.file"}'], ['0', 'a,b', 'f.csv']]),
    multipart([['operations', operations], ['map', '{"0": ["variables.file"]}'], ['0', 'a,b', '../../../etc/passwd']]),
    multipart([['operations', operations], ['map', '{"0": ["variables.file"]}'], ['0', '\u0000\u0001\u0002', 'f\u0000.csv']]),
    multipart(Array.from({ length: 2_000 }, (_unused, index) => [`part${index}`, 'x'] as [string, string])),
    multipart([['operations', operations], ['operations', operations], ['map', '{}']]),
    multipart([['operations', operations], ['map', '{}']], 'x'.repeat(200)),
    { kind: 'raw-http', class: 'multipart-tricks', method: 'POST', headers: { ...auth, 'content-type': 'multipart/form-data; boundary=bnd' }, body: 'no boundary anywhere' },
    { kind: 'raw-http', class: 'multipart-tricks', method: 'POST', headers: { ...auth, 'content-type': 'multipart/form-data' }, body: '--bnd\r\n\r\n--bnd--' },
  );

  for (const method of ['PUT', 'DELETE', 'PATCH', 'TRACE', 'OPTIONS']) {
    cases.push({ kind: 'raw-http', class: 'odd-requests', method, headers: json, body: ok });
  }
  cases.push(
    { kind: 'raw-http', class: 'odd-requests', method: 'GET', path: `/graphql?query=${encodeURIComponent('mutation { __typename }')}`, headers: auth },
    { kind: 'raw-http', class: 'odd-requests', method: 'GET', path: `/graphql?query=${encodeURIComponent('{ masterFlows { totalCount } }')}&variables=notjson`, headers: auth },
    { kind: 'raw-http', class: 'odd-requests', method: 'GET', path: '/graphql?query=%E0%A4%A', headers: auth },
    { kind: 'raw-http', class: 'odd-requests', method: 'POST', path: '/graphql/../graphql', headers: json, body: ok },
    { kind: 'raw-http', class: 'odd-requests', method: 'POST', path: '/%00', headers: json, body: ok },
    { kind: 'raw-http', class: 'odd-requests', method: 'POST', headers: { ...json, authorization: 'Bearer ' + 'a.'.repeat(4_000) }, body: ok },
    { kind: 'raw-http', class: 'odd-requests', method: 'POST', headers: { ...json, authorization: 'Bearer e30.e30.' }, body: ok },
    { kind: 'raw-http', class: 'odd-requests', method: 'POST', headers: { ...json, 'x-request-id': 'bad id with spaces and ünicode' }, body: ok },
    { kind: 'raw-http', class: 'odd-requests', method: 'POST', headers: { ...json, accept: 'text/event-stream' }, body: ok },
    { kind: 'raw-http', class: 'odd-requests', method: 'POST', headers: { ...json, accept: 'application/xml' }, body: ok },
    { kind: 'raw-http', class: 'odd-requests', method: 'POST', headers: { ...json, 'content-encoding': 'gzip' }, body: ok },
  );
  return cases;
}

/** graphql-ws frames no client library would send. */
export function wsFrameCases(): WsFramesCase[] {
  const subscribe = (payload: unknown, id: unknown = '1') => JSON.stringify({ id, type: 'subscribe', payload });
  const frames = (list: (string | Buffer)[], beforeInit = false): WsFramesCase => ({ kind: 'ws-frames', class: 'ws-frames', frames: list, beforeInit });
  return [
    frames(['not json']),
    frames(['{}']),
    frames([JSON.stringify({ type: 'no_such_type' })]),
    frames([subscribe({ query: '{ masterFlows { totalCount } }' })], true),
    frames([JSON.stringify({ type: 'connection_init' })]),
    frames([subscribe({ query: 12 })]),
    frames([subscribe({})]),
    frames([subscribe(null)]),
    frames([subscribe({ query: '{ masterFlows { totalCount } }' }, '')]),
    frames([subscribe({ query: '{ masterFlows { totalCount } }' }, 'x'.repeat(100_000))]),
    frames([subscribe({ query: '{ masterFlows { totalCount } }' }, { nested: true })]),
    frames([subscribe({ query: '{ masterFlows { totalCount } }' }), subscribe({ query: '{ masterFlows { totalCount } }' })]),
    frames([subscribe({ query: '{ masterFlows {' })]),
    frames([subscribe({ query: '{ masterFlows { totalCount } }', variables: 'x' })]),
    frames([subscribe({ query: '{ masterFlows { totalCount } }', operationName: 5 })]),
    frames([Buffer.from([0xff, 0xfe, 0xfd])]),
    frames([Buffer.concat([Buffer.from('{"type":"subscribe","id":"1","payload":{"query":"{ masterFlows'), Buffer.from([0xc3, 0x28]), Buffer.from(' { totalCount } }"}}')])]),
    frames([JSON.stringify({ id: 'never', type: 'complete' })]),
    frames([JSON.stringify({ type: 'ping', payload: 'x'.repeat(10_000) })]),
    frames([JSON.stringify({ type: 'pong' })]),
    frames(Array.from({ length: 100 }, (_unused, index) => subscribe({ query: '{ masterFlows { totalCount } }' }, `burst-${index}`))),
    frames([subscribe({ query: 'subscription { __typename }' })]),
    frames([subscribe({ query: `{ ${Array.from({ length: 1_000 }, (_unused, index) => `a${index}: __typename`).join(' ')} }` })]),
    frames(['{"type":"subscribe","id":"1","payload":{"query":"{ __typename }"}'.repeat(3)]),
  ];
}
