// Builds operations from the schema itself, so suites that must cover "every field" (isolation, roles,
// hostile input) also cover fields added after they were written. Given a root field, it fills every
// argument (ids from a caller-supplied source, everything else with a plausible value of its type)
// and selects everything below it to a depth, through interfaces and unions.
import {
  getNamedType,
  getNullableType,
  isAbstractType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  type GraphQLNamedType,
  type GraphQLOutputType,
  type GraphQLSchema,
} from 'graphql';

export type OperationType = 'query' | 'mutation' | 'subscription';

/** Where an id goes: the argument (and input field) path, and the scalar it is typed as. */
export interface IdSlot {
  path: string;
  scalar: string;
}

export interface GeneratedOperation {
  operationType: OperationType;
  /** Root field name, e.g. `masterFlow`. */
  field: string;
  query: string;
  variables: Record<string, unknown>;
  /** Every id-taking position in the operation, in the order `ids` was asked for them. */
  idSlots: IdSlot[];
  /** Whether a variable holds an upload (the request must be multipart). */
  hasUpload: boolean;
  /** Object fields this operation selects, as `Type.field`. */
  covered: Set<string>;
}

/** A marker the walker puts where an Upload goes; transports turn it into a file part. */
export const UPLOAD = Symbol('upload');

export interface WalkOptions {
  /** Object levels below the root field (the root field is level 1). */
  depth?: number;
  /** The value for an id-taking position. */
  idFor(slot: IdSlot): unknown;
  /** Include optional arguments and input fields that are not ids (default: only required ones). */
  optionalArguments?: boolean;
}

const ID_NAME = /(^id$|Id$|^ids$|Ids$)/;

/** Whether an argument or input field takes an id: ID or UUID typed, or named like one. */
export function isIdLike(name: string, type: GraphQLInputType): boolean {
  const named = getNamedType(type);
  if (named.name === 'ID' || named.name === 'UUID') return true;
  return isScalarType(named) && named.name === 'String' && ID_NAME.test(name);
}

export function rootFields(schema: GraphQLSchema, operationType: OperationType): GraphQLField<unknown, unknown>[] {
  const root =
    operationType === 'query' ? schema.getQueryType() : operationType === 'mutation' ? schema.getMutationType() : schema.getSubscriptionType();
  return root ? Object.values(root.getFields()) : [];
}

/** Whether any argument of the field (or any input field below it) takes an id. */
export function takesIds(field: GraphQLField<unknown, unknown>): boolean {
  const visit = (name: string, type: GraphQLInputType, seen: Set<string>): boolean => {
    if (isIdLike(name, type)) return true;
    const named = getNamedType(type);
    if (!isInputObjectType(named) || seen.has(named.name)) return false;
    seen.add(named.name);
    return Object.values(named.getFields()).some((inner) => visit(inner.name, inner.type, seen));
  };
  return field.args.some((arg) => visit(arg.name, arg.type, new Set()));
}

function scalarValue(name: string, argName: string): unknown {
  switch (name) {
    case 'Int':
    case 'SafeInt':
      return argName === 'first' || argName === 'last' ? 2 : 1;
    case 'Float':
      return 1.5;
    case 'Boolean':
      return true;
    case 'DateTime':
      return '2026-01-01T00:00:00.000Z';
    case 'JSON':
      return { probe: true };
    case 'Upload':
    case 'File':
      return UPLOAD;
    default:
      return 'probe';
  }
}

interface Builder {
  variables: Record<string, unknown>;
  definitions: string[];
  idSlots: IdSlot[];
  hasUpload: boolean;
  covered: Set<string>;
  options: WalkOptions;
}

function inputValue(builder: Builder, path: string, name: string, type: GraphQLInputType, depth: number): unknown {
  const nullable = getNullableType(type) as GraphQLInputType;
  if (isListType(nullable)) {
    const item = inputValue(builder, `${path}[0]`, name, nullable.ofType as GraphQLInputType, depth);
    return item === undefined ? [] : [item];
  }
  const named = getNamedType(nullable) as GraphQLNamedType;
  if (isIdLike(name, nullable)) {
    const slot = { path, scalar: named.name };
    builder.idSlots.push(slot);
    return builder.options.idFor(slot);
  }
  if (isEnumType(named)) return named.getValues()[0]?.name ?? null;
  if (isInputObjectType(named)) {
    if (depth > 4) return {};
    const value: Record<string, unknown> = {};
    for (const inner of Object.values(named.getFields())) {
      const required = isNonNullType(inner.type) && inner.defaultValue === undefined;
      if (!required && !isIdLike(inner.name, inner.type) && !builder.options.optionalArguments) continue;
      const innerValue = inputValue(builder, `${path}.${inner.name}`, inner.name, inner.type, depth + 1);
      if (innerValue !== undefined) value[inner.name] = innerValue;
    }
    return value;
  }
  const scalar = scalarValue(named.name, name);
  if (scalar === UPLOAD) builder.hasUpload = true;
  return scalar;
}

function argumentList(builder: Builder, owner: string, args: readonly GraphQLArgument[]): string {
  const parts: string[] = [];
  for (const arg of args) {
    const required = isNonNullType(arg.type) && arg.defaultValue === undefined;
    if (!required && !isIdLike(arg.name, arg.type) && !builder.options.optionalArguments) continue;
    const variable = `v${builder.definitions.length}`;
    builder.variables[variable] = inputValue(builder, `${owner}(${arg.name})`, arg.name, arg.type, 0);
    builder.definitions.push(`$${variable}: ${String(arg.type)}`);
    parts.push(`${arg.name}: $${variable}`);
  }
  return parts.length > 0 ? `(${parts.join(', ')})` : '';
}

function selection(builder: Builder, schema: GraphQLSchema, type: GraphQLOutputType, level: number, maxDepth: number, alias = ''): string {
  const named = getNamedType(type);
  if (isScalarType(named) || isEnumType(named)) return '';
  if (level >= maxDepth) return '{ __typename }';
  if (isAbstractType(named)) {
    const fragments = schema
      .getPossibleTypes(named)
      // Fields of different types may share a name but not a type; aliases keep them apart.
      .map((possible) => `... on ${possible.name} ${selection(builder, schema, possible, level, maxDepth, `${possible.name}_`)}`);
    return `{ __typename ${fragments.join(' ')} }`;
  }
  if (!isObjectType(named)) return '{ __typename }';
  const fields: string[] = ['__typename'];
  for (const field of Object.values(named.getFields())) {
    builder.covered.add(`${named.name}.${field.name}`);
    const args = argumentList(builder, `${named.name}.${field.name}`, field.args);
    fields.push(`${alias ? `${alias}${field.name}: ` : ''}${field.name}${args} ${selection(builder, schema, field.type, level + 1, maxDepth)}`.trim());
  }
  return `{ ${fields.join(' ')} }`;
}

/** One operation on one root field, everything selected below it. */
export function operationFor(
  schema: GraphQLSchema,
  operationType: OperationType,
  field: GraphQLField<unknown, unknown>,
  options: WalkOptions,
): GeneratedOperation {
  const builder: Builder = { variables: {}, definitions: [], idSlots: [], hasUpload: false, covered: new Set(), options };
  const rootName = operationType[0]!.toUpperCase() + operationType.slice(1);
  const args = argumentList(builder, `${rootName}.${field.name}`, field.args);
  const body = selection(builder, schema, field.type, 1, options.depth ?? 6);
  const definitions = builder.definitions.length > 0 ? `(${builder.definitions.join(', ')})` : '';
  return {
    operationType,
    field: field.name,
    query: `${operationType} Walk${definitions} { ${field.name}${args} ${body} }`,
    variables: builder.variables,
    idSlots: builder.idSlots,
    hasUpload: builder.hasUpload,
    covered: builder.covered,
  };
}

/** Every object field reachable from the root types, as `Type.field`. */
export function reachableFields(schema: GraphQLSchema): Set<string> {
  const fields = new Set<string>();
  const seen = new Set<string>();
  const pending: GraphQLNamedType[] = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].filter(
    (type): type is NonNullable<typeof type> => Boolean(type),
  );
  while (pending.length > 0) {
    const type = pending.pop()!;
    if (seen.has(type.name)) continue;
    seen.add(type.name);
    if (isAbstractType(type)) pending.push(...schema.getPossibleTypes(type));
    if (!isObjectType(type)) continue;
    const root = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].includes(type);
    for (const field of Object.values(type.getFields())) {
      if (!root) fields.add(`${type.name}.${field.name}`);
      pending.push(getNamedType(field.type));
    }
  }
  return fields;
}

/** Replaces every occurrence of the given values in a JSON text (ids a response may echo back). */
export function normalize(text: string, replacements: [string, string][]): string {
  let result = text;
  for (const [value, placeholder] of replacements) if (value) result = result.split(value).join(placeholder);
  return result;
}
