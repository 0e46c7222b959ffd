// Compiles a read of the flow graph into one SQL statement that PostgreSQL answers with the whole result as
// JSON, plus the function that turns that JSON into the GraphQL response data. This is how PostGraphile and
// Hasura serve nested reads: the database builds the nested rows, selecting only the requested columns, and
// the server neither maps rows into ORM objects nor walks them again through field resolvers. On the read
// benchmark it is what brings flowgraph to PostGraphile's throughput (bench/RESULTS.md, reads).
//
// Written here because nothing in the Pothos/Prisma ecosystem does it: Pothos' Prisma plugin compiles a
// selection into a Prisma query (the reference path), and Prisma 7 then maps every row through its client.
//
// Only what src/graphql/compiled-reads/read-model.ts lists is compiled: Query.masterFlow and
// Query.masterFlows (forward pages, from the start or after a cursor), the listed fields of master flows, data imports, raw
// records and discovery flows, their nested lists, forward pages and counts, `__typename`, aliases,
// fragments and @skip/@include. Anything else throws NotCompilable and the operation runs through the
// Pothos resolvers, which stay the reference: both paths give the same response (test/compiled-reads.test.ts).
import { encodeGlobalID } from '@pothos/plugin-relay';
import { formatPrismaCursor, parsePrismaCursor } from '@pothos/plugin-prisma';
import { getConnectionPageSize } from '@pothos/core';
import {
  getArgumentValues,
  getDirectiveValues,
  getNamedType,
  getNullableType,
  getOperationAST,
  getVariableValues,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type ExecutionArgs,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLLeafType,
  type GraphQLObjectType,
  type GraphQLOutputType,
  type SelectionSetNode,
  type ValueNode,
  type VariableNode,
} from 'graphql';
import type { Tenant } from '../../domain/flow-event-filter.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE_CEILING } from '../../domain/page-size.ts';
import { isUuid } from '../../domain/uuid.ts';
import { MASTER_FLOW_FILTER_FIELDS } from '../../schema/list-queries.ts';
import {
  columnOf,
  READ_MODEL,
  ROOT_MASTER_FLOW_ORDERINGS,
  type FieldSource,
  type Ordering,
  type Relation,
  type SortDirection,
  type TypeModel,
} from './read-model.ts';

/** The operation (or a part of it) is outside what the compiled path answers. */
export class NotCompilable extends Error {}

/** A value the database returned that the GraphQL type would refuse: let the resolvers answer, with their error. */
export class UnexpectedValue extends Error {}

/**
 * A variable's value that the compiled read cannot bind (a cursor it cannot place): the resolvers answer this
 * request, and the same read still serves the next request, whose value may bind.
 */
export class UnbindableValue extends NotCompilable {}

/** The coerced variables of a request, as graphql-js hands them to resolvers. */
export type CoercedVariables = Record<string, unknown>;

export interface CompiledRead {
  /** $1 and $2 are the viewer's client account and engagement: see `parametersFor`. */
  sql: string;
  /** $3 onwards, for the variables it was compiled with. */
  params: unknown[];
  /**
   * Variables whose values reach the statement only as parameters (every use of them is bound): the same
   * read answers any value of theirs with the same nullness, through `bind`. Every other variable shaped
   * the statement (a page size, a directive, an ordering).
   */
  boundVariables: ReadonlySet<string>;
  /** $3 onwards for other variables (same values for the other variables); UnbindableValue when one cannot be. */
  bind(variables: CoercedVariables): unknown[];
  /** The response's `data`, from the statement's single `data` column. */
  shape(data: unknown): Record<string, unknown>;
  /** The operation's root fields (what the resolvers would have run), for reporting a failed statement. */
  rootFields: { key: string; nodes: readonly FieldNode[]; nonNull: boolean }[];
}

/** The statement's parameters for one viewer. */
export function parametersFor(read: CompiledRead, tenant: Tenant, params: unknown[] = read.params): unknown[] {
  return [tenant.clientAccountId, tenant.engagementId, ...params];
}

/** The variable an argument (or a field of an object argument, by `path`) is, when it is one directly. */
export function variableAt(node: FieldNode, path: readonly string[]): VariableNode | undefined {
  let value: ValueNode | undefined = node.arguments?.find((argument) => argument.name.value === path[0])?.value;
  for (const name of path.slice(1)) {
    if (value?.kind !== Kind.OBJECT) return undefined;
    value = value.fields.find((field) => field.name.value === name)?.value;
  }
  return value?.kind === Kind.VARIABLE ? value : undefined;
}

type Row = unknown[];
type Build = (row: Row) => unknown;

/** A response object: each response key with what its field reads from `input`, in response order. */
function objectOf<Input>(entries: readonly [string, (input: Input) => unknown][]): (input: Input) => Record<string, unknown> {
  return (input) => {
    const object: Record<string, unknown> = {};
    for (const [key, read] of entries) object[key] = read(input);
    return object;
  };
}

/** One JSON array per object: the compiled fields read their values from its positions. */
interface ObjectSql {
  /** SQL expressions, one per position. */
  slots: string[];
  build(row: Row): Record<string, unknown>;
}

// PostgreSQL allows 100 arguments per function call.
const MAX_SLOTS = 100;

class Compilation {
  readonly params: unknown[];
  /** The type of each parameter, by position. */
  readonly casts: string[] = ['uuid', 'uuid'];
  /** How each parameter ($3 onwards) is computed from a request's variables. */
  readonly binders: ((variables: CoercedVariables) => unknown)[] = [];
  /** Variable occurrences whose value went only into a parameter's binder. */
  readonly bound = new Set<VariableNode>();
  private aliases = 0;

  constructor(
    readonly args: ExecutionArgs,
    readonly fragments: Record<string, FragmentDefinitionNode>,
    /** Coerced as graphql-js coerces them before executing (enum values become their internal values). */
    readonly variables: Record<string, unknown>,
  ) {
    // $1 and $2: the tenant, bound per request, so that a compiled read can be reused by every viewer.
    this.params = [undefined, undefined];
  }

  alias(): string {
    this.aliases += 1;
    return `t${this.aliases}`;
  }

  param(value: unknown, cast: string): string {
    return this.boundParam(value, cast, () => value);
  }

  /** A parameter recomputed from each request's variables by `binder`; `variable` is the occurrence it binds. */
  boundParam(value: unknown, cast: string, binder: (variables: CoercedVariables) => unknown, variable?: VariableNode): string {
    this.params.push(value);
    this.casts.push(cast);
    this.binders.push(binder);
    if (variable) this.bound.add(variable);
    return `$${this.params.length}::${cast}`;
  }

  tenantCondition(alias: string): string {
    return `${alias}.client_account_id = $1::uuid AND ${alias}.engagement_id = $2::uuid`;
  }

  private included(node: FieldNode | { directives?: FieldNode['directives'] }): boolean {
    const skip = getDirectiveValues(GraphQLSkipDirective, node as FieldNode, this.variables);
    if (skip?.if === true) return false;
    const include = getDirectiveValues(GraphQLIncludeDirective, node as FieldNode, this.variables);
    return include?.if !== false;
  }

  private applies(type: GraphQLObjectType, condition: string | undefined): boolean {
    if (condition === undefined || condition === type.name) return true;
    const conditional = this.args.schema.getType(condition);
    return conditional !== undefined && !isObjectType(conditional) && this.args.schema.isSubType(conditional as never, type);
  }

  /** The fields a selection asks of `type`, by response key, in response order (graphql-js' CollectFields). */
  collectFields(type: GraphQLObjectType, selectionSets: readonly SelectionSetNode[]): Map<string, FieldNode[]> {
    const fields = new Map<string, FieldNode[]>();
    const visited = new Set<string>();
    const visit = (selectionSet: SelectionSetNode) => {
      for (const selection of selectionSet.selections) {
        if (!this.included(selection)) continue;
        if (selection.kind === Kind.FIELD) {
          const key = selection.alias?.value ?? selection.name.value;
          const existing = fields.get(key);
          if (existing) existing.push(selection);
          else fields.set(key, [selection]);
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          if (this.applies(type, selection.typeCondition?.name.value)) visit(selection.selectionSet);
        } else {
          const name = selection.name.value;
          if (visited.has(name)) continue;
          visited.add(name);
          const fragment = this.fragments[name];
          if (fragment && this.applies(type, fragment.typeCondition.name.value)) visit(fragment.selectionSet);
        }
      }
    };
    for (const selectionSet of selectionSets) visit(selectionSet);
    return fields;
  }

  argumentsOf(field: GraphQLField<unknown, unknown>, node: FieldNode): Record<string, unknown> {
    return getArgumentValues(field, node, this.variables);
  }
}

function subSelections(nodes: readonly FieldNode[]): SelectionSetNode[] {
  return nodes.flatMap((node) => (node.selectionSet ? [node.selectionSet] : []));
}

function fieldOf(type: GraphQLObjectType, name: string): GraphQLField<unknown, unknown> {
  const field = type.getFields()[name];
  if (!field) throw new NotCompilable(`${type.name}.${name}`);
  return field;
}

function objectTypeOf(field: GraphQLField<unknown, unknown>): GraphQLObjectType {
  const type = getNamedType(field.type);
  if (!isObjectType(type)) throw new NotCompilable(`${field.name} is not an object`);
  return type;
}

function quote(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

function columnSql(alias: string, field: string): string {
  return `${alias}.${quote(columnOf(field))}`;
}

function modelOf(type: GraphQLObjectType): TypeModel {
  const model = READ_MODEL[type.name];
  if (!model) throw new NotCompilable(`type ${type.name}`);
  return model;
}

/** ORDER BY terms of a Prisma orderBy list, on `alias`'s columns or on sort keys `o0`, `o1`… of a subquery. */
function orderTerms(order: Ordering, expression: (field: string, index: number) => string): string[] {
  return order.map((entry, index) => {
    const [field, direction] = sortKey(entry);
    if (typeof direction === 'string') return `${expression(field, index)} ${direction.toUpperCase()}`;
    return `${expression(field, index)} ${direction.sort.toUpperCase()} NULLS ${direction.nulls.toUpperCase()}`;
  });
}

function sortKey(entry: Ordering[number]): [string, SortDirection] {
  const found = Object.entries(entry).find((pair): pair is [string, SortDirection] => pair[1] !== undefined);
  if (!found) throw new NotCompilable('empty ordering');
  return found;
}

/** A leaf value as the GraphQL type serializes it; null only where the field is nullable. */
function leaf(field: GraphQLField<unknown, unknown>, read: ((value: unknown) => unknown) | undefined, slot: number): Build {
  const type = getNamedType(field.type) as GraphQLLeafType;
  const nonNull = isNonNullType(field.type);
  if (!isLeafType(type) || isListType(getNullableType(field.type))) throw new NotCompilable(`${field.name} is not a single leaf`);
  return (row) => {
    const value = row[slot];
    if (value === null || value === undefined) {
      if (nonNull) throw new UnexpectedValue(field.name);
      return null;
    }
    return type.serialize(read ? read(value) : value);
  };
}

/**
 * Serializes a computed value as the field's type: leaves with their scalar or enum, objects property by
 * property (the fields of the types computed values have are plain properties), nullability enforced.
 */
function outputSerializer(compilation: Compilation, type: GraphQLOutputType, nodes: readonly FieldNode[]): (value: unknown) => unknown {
  if (isNonNullType(type)) {
    const inner = outputSerializer(compilation, type.ofType, nodes);
    return (value) => {
      if (value === null || value === undefined) throw new UnexpectedValue('null in a non-null position');
      return inner(value);
    };
  }
  if (isListType(type)) {
    const inner = outputSerializer(compilation, type.ofType, nodes);
    return (value) => (value === null || value === undefined ? null : (value as unknown[]).map(inner));
  }
  if (isLeafType(type)) return (value) => (value === null || value === undefined ? null : type.serialize(value));
  if (!isObjectType(type)) throw new NotCompilable(`abstract type ${type.name}`);
  const entries: [string, (object: Record<string, unknown>) => unknown][] = [];
  for (const [key, fieldNodes] of compilation.collectFields(type, subSelections(nodes))) {
    const name = fieldNodes[0]!.name.value;
    if (name === '__typename') {
      entries.push([key, () => type.name]);
      continue;
    }
    const field = fieldOf(type, name);
    if (field.args.length > 0) throw new NotCompilable(`${type.name}.${name} has arguments`);
    const serialize = outputSerializer(compilation, field.type, fieldNodes);
    entries.push([key, (object) => serialize(object[name])]);
  }
  const build = objectOf(entries);
  return (value) => (value === null || value === undefined ? null : build(value as Record<string, unknown>));
}

class ObjectBuilder {
  readonly slots: string[] = [];
  private readonly positions = new Map<string, number>();

  constructor(readonly compilation: Compilation) {}

  slot(sql: string): number {
    const known = this.positions.get(sql);
    if (known !== undefined) return known;
    if (this.slots.length >= MAX_SLOTS) throw new NotCompilable('too many fields in one object');
    this.slots.push(sql);
    this.positions.set(sql, this.slots.length - 1);
    return this.slots.length - 1;
  }
}

/** The compiled fields of one object of `type`, read from the row of table alias `alias`. */
function compileObject(
  compilation: Compilation,
  type: GraphQLObjectType,
  selectionSets: readonly SelectionSetNode[],
  alias: string,
  builder = new ObjectBuilder(compilation),
): ObjectSql {
  const model = modelOf(type);
  const entries: [string, Build][] = [];
  for (const [key, nodes] of compilation.collectFields(type, selectionSets)) {
    const name = nodes[0]!.name.value;
    if (name === '__typename') {
      entries.push([key, () => type.name]);
      continue;
    }
    const source = model.fields[name];
    if (!source) throw new NotCompilable(`${type.name}.${name}`);
    entries.push([key, compileField(builder, type, alias, fieldOf(type, name), source, nodes)]);
  }
  return { slots: builder.slots, build: objectOf(entries) };
}

function compileField(
  builder: ObjectBuilder,
  type: GraphQLObjectType,
  alias: string,
  field: GraphQLField<unknown, unknown>,
  source: FieldSource,
  nodes: FieldNode[],
): Build {
  const { compilation } = builder;
  switch (source.kind) {
    case 'column': {
      const column = columnSql(alias, source.field);
      return leaf(field, source.read, builder.slot(source.expression ? source.expression(column) : column));
    }
    case 'globalId': {
      const slot = builder.slot(columnSql(alias, source.field));
      return (row) => encodeGlobalID(type.name, String(row[slot]));
    }
    case 'computed': {
      const slots = source.fields.map((name) => [name, builder.slot(columnSql(alias, name))] as const);
      const serialize = outputSerializer(compilation, field.type, nodes);
      return (row) => {
        const model: Record<string, unknown> = {};
        for (const [name, slot] of slots) model[name] = row[slot];
        return serialize(source.compute(model));
      };
    }
    case 'count': {
      const child = alias + 'c';
      const conditions = [joinCondition(source.relation, child, alias)];
      for (const [field, value] of Object.entries(source.where ?? {})) conditions.push(`${columnSql(child, field)} = ${value}`);
      const table = modelOf(targetType(compilation, source.relation)).table;
      return leaf(field, undefined, builder.slot(`(SELECT count(*) FROM ${quote(table)} ${child} WHERE ${conditions.join(' AND ')})`));
    }
    case 'list': {
      if (nodes.some((node) => (node.arguments?.length ?? 0) > 0)) throw new NotCompilable(`${field.name} arguments`);
      const target = objectTypeOf(field);
      const child = compilation.alias();
      const object = compileObject(compilation, target, subSelections(nodes), child);
      const order = orderTerms(source.relation.order, (name) => columnSql(child, name)).join(', ');
      const sql =
        `(SELECT coalesce(json_agg(json_build_array(${object.slots.join(', ')}) ORDER BY ${order}), '[]'::json) ` +
        `FROM ${quote(modelOf(target).table)} ${child} ` +
        `WHERE ${joinCondition(source.relation, child, alias)} AND ${compilation.tenantCondition(child)})`;
      const slot = builder.slot(sql);
      return (row) => (row[slot] as Row[]).map((item) => object.build(item));
    }
    case 'connection': {
      const args = compilation.argumentsOf(field, nodes[0]!);
      const target = targetType(compilation, source.relation);
      const child = compilation.alias();
      // Each filter's value is one bound parameter, read again from each request's variables; the page's rows
      // (alias `child`) and the cursor's row (`k`) are filtered by the same parameters.
      const filters = Object.entries(source.filters ?? {})
        .filter(([argument]) => args[argument] != null)
        .map(([argument, column]) => {
          const node = nodes[0]!;
          const bind = (variables: CoercedVariables) => getArgumentValues(field, node, variables)[argument];
          return [column, compilation.boundParam(args[argument], 'boolean', bind, variableAt(node, [argument]))] as const;
        });
      const conditions = (row: string) => [
        joinCondition(source.relation, row, alias),
        compilation.tenantCondition(row),
        ...filters.map(([column, value]) => `${columnSql(row, column)} = ${value}`),
      ];
      return compileConnection(builder, objectTypeOf(field), nodes, args, {
        field,
        target,
        alias: child,
        where: conditions(child).join(' AND '),
        order: source.relation.order,
        cursorField: source.cursorField,
        // Prisma looks a nested page's cursor up among the rows the page could hold, its filters included.
        cursorScope: conditions('k').join(' AND '),
      });
    }
  }
}

function targetType(compilation: Compilation, relation: Relation): GraphQLObjectType {
  const type = compilation.args.schema.getType(relation.target);
  if (!isObjectType(type)) throw new NotCompilable(relation.target);
  return type;
}

function joinCondition(relation: Relation, child: string, parent: string): string {
  return `${columnSql(child, relation.childField)} = ${columnSql(parent, relation.parentField)}`;
}

interface ConnectionSource {
  /** The connection field (its arguments are read again from each request's variables). */
  field: GraphQLField<unknown, unknown>;
  target: GraphQLObjectType;
  alias: string;
  where: string;
  order: Ordering;
  cursorField: string;
  /** What the cursor's row (table alias `k`) must be to give a position: the viewer's; nested, the parent's child that passes the filters. */
  cursorScope: string;
}

/**
 * The rows from the cursor's row on, in the connection's order, as Prisma's cursor pagination selects them
 * (the caller skips the first, as Prisma does): the cursor's row is looked up by its unique cursor field among
 * the rows the connection could hold, as on the resolvers (the viewer's tenant; for a nested connection, the
 * parent's children that pass its filters), and a row qualifies when it is beyond it on the first order column, or
 * equal there and beyond on the next, and so on, the last comparison including equality. A cursor whose row
 * does not exist there (another tenant's or another flow's row, or none) gives no rows: it reveals nothing of
 * the row it names. Orders over a nullable column (which state where nulls go) are left to the resolvers.
 */
function cursorValue(after: unknown): string {
  let value: unknown;
  try {
    value = parsePrismaCursor(after);
  } catch {
    throw new UnbindableValue('cursor');
  }
  if (typeof value !== 'string' || !isUuid(value)) throw new UnbindableValue('cursor');
  return value;
}

function afterCursor(compilation: Compilation, source: ConnectionSource, table: string, after: unknown, node: FieldNode): string {
  const bind = (variables: CoercedVariables) => cursorValue(getArgumentValues(source.field, node, variables).after);
  const cursor = compilation.boundParam(cursorValue(after), 'uuid', bind, variableAt(node, ['after']));
  const keys = source.order.map(sortKey);
  if (keys.some(([, direction]) => typeof direction !== 'string')) throw new NotCompilable('cursor over a nullable order');
  const position = (field: string) =>
    `(SELECT ${columnSql('k', field)} FROM ${table} k WHERE ${columnSql('k', source.cursorField)} = ${cursor} AND ${source.cursorScope})`;
  const alternatives = keys.map(([field, direction], index) => {
    const equalBefore = keys.slice(0, index).map(([earlier]) => `${columnSql(source.alias, earlier)} = ${position(earlier)}`);
    const last = index === keys.length - 1;
    const beyond = `${columnSql(source.alias, field)} ${direction === 'asc' ? '>' : '<'}${last ? '=' : ''} ${position(field)}`;
    return `(${[...equalBefore, beyond].join(' AND ')})`;
  });
  return `(${alternatives.join(' OR ')})`;
}

/**
 * A forward page of a connection, as Pothos' Prisma plugin answers it: one row more than the page size
 * tells whether there is a next page (getConnectionPageSize and the cursor format are the plugin's own).
 */
function compileConnection(
  builder: ObjectBuilder,
  connectionType: GraphQLObjectType,
  nodes: FieldNode[],
  args: Record<string, unknown>,
  source: ConnectionSource,
): Build {
  const { compilation } = builder;
  if (args.before != null || args.last != null) throw new NotCompilable('backward page');
  const { limit } = getConnectionPageSize({
    args: { first: args.first as number | null | undefined },
    defaultSize: DEFAULT_PAGE_SIZE,
    maxSize: MAX_PAGE_SIZE_CEILING,
  });
  if (!Number.isSafeInteger(limit) || limit < 1) throw new NotCompilable('page size');
  const table = quote(modelOf(source.target).table);
  const { alias } = source;
  const where = args.after == null ? source.where : `${source.where} AND ${afterCursor(compilation, source, table, args.after, nodes[0]!)}`;

  const connectionFields = compilation.collectFields(connectionType, subSelections(nodes));
  const nodeSelections: SelectionSetNode[] = [];
  let needsRows = false;
  let needsCursor = false;
  const edgeFieldsByKey = new Map<string, Map<string, FieldNode[]>>();
  const pageInfoByKey = new Map<string, Map<string, FieldNode[]>>();
  for (const [key, fieldNodes] of connectionFields) {
    const name = fieldNodes[0]!.name.value;
    if (name === 'edges') {
      const edgeType = objectTypeOf(fieldOf(connectionType, 'edges'));
      const edgeFields = compilation.collectFields(edgeType, subSelections(fieldNodes));
      edgeFieldsByKey.set(key, edgeFields);
      needsRows = true;
      for (const edgeNodes of edgeFields.values()) {
        const edgeField = edgeNodes[0]!.name.value;
        if (edgeField === 'node') nodeSelections.push(...subSelections(edgeNodes));
        else if (edgeField === 'cursor') needsCursor = true;
        else if (edgeField !== '__typename') throw new NotCompilable(`edge field ${edgeField}`);
      }
    } else if (name === 'pageInfo') {
      const pageInfoType = objectTypeOf(fieldOf(connectionType, 'pageInfo'));
      const pageFields = compilation.collectFields(pageInfoType, subSelections(fieldNodes));
      pageInfoByKey.set(key, pageFields);
      for (const pageNodes of pageFields.values()) {
        const pageField = pageNodes[0]!.name.value;
        if (pageField === 'hasNextPage' || pageField === 'startCursor' || pageField === 'endCursor') needsRows = true;
        if (pageField === 'startCursor' || pageField === 'endCursor') needsCursor = true;
        else if (!['hasNextPage', 'hasPreviousPage', '__typename'].includes(pageField)) {
          throw new NotCompilable(`pageInfo field ${pageField}`);
        }
      }
    } else if (name !== 'totalCount' && name !== '__typename') {
      throw new NotCompilable(`connection field ${name}`);
    }
  }

  const nodeBuilder = new ObjectBuilder(compilation);
  const node = compileObject(compilation, source.target, nodeSelections, alias, nodeBuilder);
  const cursorSlot = needsCursor ? nodeBuilder.slot(columnSql(alias, source.cursorField)) : -1;

  let rowsSlot = -1;
  if (needsRows) {
    const sortKeys = orderTerms(source.order, (field) => columnSql(alias, field));
    const keyColumns = source.order.map((entry, index) => `${columnSql(alias, sortKey(entry)[0])} AS o${index}`);
    const outerOrder = orderTerms(source.order, (_field, index) => `s.o${index}`);
    rowsSlot = builder.slot(
      `(SELECT coalesce(json_agg(s.j ORDER BY ${outerOrder.join(', ')}), '[]'::json) FROM (` +
        `SELECT json_build_array(${nodeBuilder.slots.join(', ')}) AS j, ${keyColumns.join(', ')} FROM ${table} ${alias} ` +
        `WHERE ${where} ORDER BY ${sortKeys.join(', ')} LIMIT ${limit}${args.after == null ? '' : ' OFFSET 1'}) s)`,
    );
  }
  const totalSlot = [...connectionFields.values()].some((fieldNodes) => fieldNodes[0]!.name.value === 'totalCount')
    ? builder.slot(`(SELECT count(*) FROM ${table} ${alias} WHERE ${source.where})`)
    : -1;
  const totalCount = totalSlot >= 0 ? leaf(fieldOf(connectionType, 'totalCount'), undefined, totalSlot) : null;

  // Pothos: a page after a cursor has a previous page; a first page has none.
  const hasPreviousPage = args.after != null;
  const cursorOf = (row: Row) => formatPrismaCursor({ [source.cursorField]: row[cursorSlot] }, source.cursorField);
  const edgeTypeName = edgeFieldsByKey.size > 0 ? objectTypeOf(fieldOf(connectionType, 'edges')).name : '';
  const pageInfoTypeName = pageInfoByKey.size > 0 ? objectTypeOf(fieldOf(connectionType, 'pageInfo')).name : '';

  return (row) => {
    const rows = needsRows ? (row[rowsSlot] as Row[]) : [];
    const hasNextPage = rows.length === limit;
    const pageRows = hasNextPage ? rows.slice(0, -1) : rows;
    const cursors = needsCursor ? pageRows.map(cursorOf) : [];
    const connection: Record<string, unknown> = {};
    for (const [key, fieldNodes] of connectionFields) {
      const name = fieldNodes[0]!.name.value;
      if (name === '__typename') connection[key] = connectionType.name;
      else if (name === 'totalCount') connection[key] = totalCount!(row);
      else if (name === 'edges') {
        const edgeFields = edgeFieldsByKey.get(key)!;
        connection[key] = pageRows.map((item, index) => {
          const edge: Record<string, unknown> = {};
          for (const [edgeKey, edgeNodes] of edgeFields) {
            const edgeField = edgeNodes[0]!.name.value;
            if (edgeField === '__typename') edge[edgeKey] = edgeTypeName;
            else if (edgeField === 'cursor') edge[edgeKey] = cursors[index];
            else edge[edgeKey] = node.build(item);
          }
          return edge;
        });
      } else {
        const pageInfo: Record<string, unknown> = {};
        for (const [pageKey, pageNodes] of pageInfoByKey.get(key)!) {
          const pageField = pageNodes[0]!.name.value;
          if (pageField === '__typename') pageInfo[pageKey] = pageInfoTypeName;
          else if (pageField === 'hasNextPage') pageInfo[pageKey] = hasNextPage;
          else if (pageField === 'hasPreviousPage') pageInfo[pageKey] = hasPreviousPage;
          else if (pageField === 'startCursor') pageInfo[pageKey] = cursors[0] ?? null;
          else pageInfo[pageKey] = cursors.at(-1) ?? null;
        }
        connection[key] = pageInfo;
      }
    }
    return connection;
  };
}

/** The variables every occurrence of which (in the operation's selections and fragments) is in `bound`. */
function boundVariables(
  selectionSet: SelectionSetNode,
  fragments: readonly FragmentDefinitionNode[],
  bound: ReadonlySet<VariableNode>,
): Set<string> {
  const unbound = new Set<string>();
  const candidates = new Set<string>();
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) {
      for (const item of value) walk(item);
      return;
    }
    if (typeof value !== 'object' || value === null) return;
    const node = value as { kind?: string };
    if (node.kind === Kind.VARIABLE) {
      const variable = node as VariableNode;
      (bound.has(variable) ? candidates : unbound).add(variable.name.value);
      return;
    }
    for (const [key, child] of Object.entries(node)) if (key !== 'loc') walk(child);
  };
  walk(selectionSet);
  for (const fragment of fragments) walk(fragment.selectionSet);
  return new Set([...candidates].filter((name) => !unbound.has(name)));
}

/**
 * The compiled form of a query operation, or NotCompilable. It depends on the document, the operation name
 * and the variables only; the tenant that scopes every table it reads (as tenantWhere does on the
 * reference path) is bound when it runs.
 */
export function compileRead(args: ExecutionArgs): CompiledRead {
  const operation = getOperationAST(args.document, args.operationName);
  if (!operation || operation.operation !== 'query') throw new NotCompilable('not a query');
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of args.document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  }
  const variables = getVariableValues(args.schema, operation.variableDefinitions ?? [], args.variableValues ?? {});
  if (variables.errors) throw new NotCompilable('variables');
  const compilation = new Compilation(args, fragments, variables.coerced);
  const queryType = args.schema.getQueryType()!;
  const root = new ObjectBuilder(compilation);
  const entries: [string, Build][] = [];
  const rootFields: CompiledRead['rootFields'] = [];

  for (const [key, nodes] of compilation.collectFields(queryType, [operation.selectionSet])) {
    const name = nodes[0]!.name.value;
    if (name === '__typename') {
      entries.push([key, () => queryType.name]);
      continue;
    }
    const field = fieldOf(queryType, name);
    rootFields.push({ key, nodes, nonNull: isNonNullType(field.type) });
    const fieldArgs = compilation.argumentsOf(field, nodes[0]!);
    if (name === 'masterFlow') {
      const type = objectTypeOf(field);
      const alias = compilation.alias();
      const object = compileObject(compilation, type, subSelections(nodes), alias);
      const node = nodes[0]!;
      const flowId = compilation.boundParam(
        fieldArgs.flowId,
        'uuid',
        (variables) => getArgumentValues(field, node, variables).flowId,
        variableAt(node, ['flowId']),
      );
      const slot = root.slot(
        `(SELECT json_build_array(${object.slots.join(', ')}) FROM ${quote(modelOf(type).table)} ${alias} ` +
          `WHERE ${columnSql(alias, 'flowId')} = ${flowId} AND ${compilation.tenantCondition(alias)} LIMIT 1)`,
      );
      entries.push([key, (row) => (row[slot] === null ? null : object.build(row[slot] as Row))]);
    } else if (name === 'masterFlows') {
      const target = args.schema.getType('MasterFlow') as GraphQLObjectType;
      const alias = compilation.alias();
      const conditions = [compilation.tenantCondition(alias)];
      const filter = (fieldArgs.filter ?? {}) as Record<string, unknown>;
      for (const [argument, column] of Object.entries(MASTER_FLOW_FILTER_FIELDS)) {
        if (filter[argument] == null) continue;
        const node = nodes[0]!;
        const bind = (variables: CoercedVariables) =>
          ((getArgumentValues(field, node, variables).filter ?? {}) as Record<string, unknown>)[argument];
        const list = compilation.boundParam(filter[argument], 'text[]', bind, variableAt(node, ['filter', argument]));
        conditions.push(`${columnSql(alias, column)} = ANY(${list})`);
      }
      const order = ROOT_MASTER_FLOW_ORDERINGS[String(fieldArgs.orderBy ?? 'CREATED_AT_DESC')];
      if (!order) throw new NotCompilable('ordering');
      entries.push([
        key,
        compileConnection(root, objectTypeOf(field), nodes, fieldArgs, {
          field,
          target,
          alias,
          where: conditions.join(' AND '),
          order,
          cursorField: 'flowId',
          cursorScope: compilation.tenantCondition('k'),
        }),
      ]);
    } else {
      throw new NotCompilable(`Query.${name}`);
    }
  }

  // A statement must use every parameter it is sent, and a selection may not need some of them (the tenant
  // when only __typename is asked, a filter when only pageInfo.hasPreviousPage is): all are listed here.
  const parameters = compilation.casts.map((cast, index) => `$${index + 1}::${cast}`).join(', ');
  const sql = `SELECT json_build_array(${root.slots.join(', ')}) AS data FROM (SELECT ${parameters}) AS parameters`;
  const shape = objectOf(entries);
  const binders = compilation.binders;
  return {
    sql,
    params: compilation.params.slice(2),
    boundVariables: boundVariables(operation.selectionSet, Object.values(fragments), compilation.bound),
    bind: (variables) => binders.map((binder) => binder(variables)),
    rootFields,
    shape: (data) => shape(data as Row),
  };
}
