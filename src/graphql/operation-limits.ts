// Bounds on the shape of an operation, checked before anything runs (GraphQL Armor): depth, aliases,
// directives, tokens and cost. They apply to every transport, since graphql-ws runs operations through
// the same envelop (src/http/graphql-ws-server.ts). Each rejection names the limit and its value, so a
// legitimate client that hits one knows which setting to ask for.
import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { costLimitPlugin, costLimitRule, type CostLimitOptions } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import {
  getNullableType,
  getOperationAST,
  GraphQLError,
  GraphQLInt,
  isListType,
  Kind,
  TypeInfo,
  validate,
  valueFromAST,
  visit,
  visitWithTypeInfo,
  type ArgumentNode,
  type DocumentNode,
  type FieldNode,
  type GraphQLSchema,
  type ValidationContext,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { LimitsConfig } from '../config.ts';
import { DEFAULT_PAGE_SIZE } from '../domain/page-size.ts';

/**
 * Armor's errors carry no code and call themselves syntax errors; give each its own code, so clients
 * and metrics can tell them apart, and a message that says what was exceeded.
 */
function coded(code: string) {
  return [
    (_ctx: ValidationContext | null, error: GraphQLError) => {
      (error.extensions as Record<string, unknown>).code = code;
      error.message = error.message.replace(/^Syntax Error: /, '');
    },
  ];
}

/**
 * Armor's cost multiplies a connection's cost by its `first`/`last`, but only when the size is a literal,
 * and counts a connection asked for no size once, although it returns DEFAULT_PAGE_SIZE items: a size passed
 * in a variable would slip through, and nested connections without sizes (back-edges let them nest) would
 * cost almost nothing while reading 50 × 50 × 50 … rows. Before execution, every connection's page size (its
 * literal, its variable's value or default, else the default page size) and every `nodes(ids:)` list's
 * length are written as `first` into a copy of the document, and the same cost rule runs on that copy, so
 * the cost grows with the rows the operation can read.
 */
interface SizedField {
  /** The `first`/`last` arguments as written. */
  sizes: readonly ArgumentNode[];
  /** The list argument whose length is the number of items (`nodes(ids:)`), if any. */
  list: ArgumentNode | undefined;
}

// Which fields are sized depends on the document only (the walk needs type information, which costs more
// than a small compiled read); the walk is done once per document (Yoga's parser cache hands out the same
// document for the same text).
const sizedFieldsBySchema = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, Map<FieldNode, SizedField>>>();

function sizedFields(schema: GraphQLSchema, document: DocumentNode): Map<FieldNode, SizedField> {
  let byDocument = sizedFieldsBySchema.get(schema);
  if (!byDocument) sizedFieldsBySchema.set(schema, (byDocument = new WeakMap()));
  const known = byDocument.get(document);
  if (known) return known;
  const found = new Map<FieldNode, SizedField>();
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const field = typeInfo.getFieldDef();
        if (!field || !node.selectionSet) return;
        const pageArgument = field.args.find((argument) => argument.name === 'first' || argument.name === 'last');
        if (pageArgument) {
          found.set(node, {
            sizes: (node.arguments ?? []).filter((argument) => argument.name.value === 'first' || argument.name.value === 'last'),
            list: undefined,
          });
          return;
        }
        // A list of objects fetched by a list argument (Query.nodes(ids:)): one item per element.
        if (!isListType(getNullableType(field.type))) return;
        const listArgument = field.args.find((argument) => isListType(getNullableType(argument.type)));
        const written = listArgument && node.arguments?.find((argument) => argument.name.value === listArgument.name);
        if (written) found.set(node, { sizes: [], list: written });
      },
    }),
  );
  byDocument.set(document, found);
  return found;
}

function usesVariables(fields: Map<FieldNode, SizedField>): boolean {
  for (const { sizes, list } of fields.values()) {
    if (sizes.some((size) => size.value.kind === Kind.VARIABLE) || list?.value.kind === Kind.VARIABLE) return true;
    if (list?.value.kind === Kind.LIST && list.value.values.some((value) => value.kind === Kind.VARIABLE)) return true;
  }
  return false;
}

function itemsOf(field: SizedField, variables: Record<string, unknown>): number {
  if (field.list) {
    const value = field.list.value;
    if (value.kind === Kind.LIST) return value.values.length;
    if (value.kind === Kind.VARIABLE) {
      const list = variables[value.name.value];
      return Array.isArray(list) ? list.length : 1;
    }
    return 1;
  }
  // The page is `first` or `last` items, whichever is given (the larger when both are), else the default size.
  const given = field.sizes
    .map((size) => valueFromAST(size.value, GraphQLInt, variables))
    .filter((value): value is number => typeof value === 'number' && Number.isSafeInteger(value));
  return given.length > 0 ? Math.max(...given) : DEFAULT_PAGE_SIZE;
}

/** The document with each sized field's number of items written as its only `first` argument. */
function withPageSizesInlined(
  document: DocumentNode,
  fields: Map<FieldNode, SizedField>,
  operationName: string | null | undefined,
  variables: Record<string, unknown> | null | undefined,
): DocumentNode {
  const operation = getOperationAST(document, operationName);
  // No prototype: a variable may be called $__proto__.
  const values: Record<string, unknown> = Object.create(null);
  for (const definition of operation?.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    const provided = variables?.[name];
    if (provided !== undefined && provided !== null) values[name] = provided;
    else if (definition.defaultValue?.kind === Kind.LIST) values[name] = definition.defaultValue.values;
    else if (definition.defaultValue) values[name] = valueFromAST(definition.defaultValue, GraphQLInt);
  }
  return visit(document, {
    Field(node) {
      const field = fields.get(node);
      if (!field) return undefined;
      const items = itemsOf(field, values);
      const others = (node.arguments ?? []).filter((argument) => argument.name.value !== 'first' && argument.name.value !== 'last');
      const first: ArgumentNode = { kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'first' }, value: { kind: Kind.INT, value: String(items) } };
      // Armor reads the first first/last argument it meets.
      return { ...node, arguments: [first, ...others] };
    },
  });
}

function useCostOfPageSizes(options: CostLimitOptions): Plugin {
  const costErrors = (schema: GraphQLSchema, document: DocumentNode): readonly GraphQLError[] => {
    try {
      return validate(schema, document, [costLimitRule(options)]);
    } catch (error) {
      // Armor throws its rejection out of validation (propagateOnRejection).
      if (error instanceof GraphQLError) return [error];
      throw error;
    }
  };
  // The verdict on a document whose sizes are all literals (or defaults) does not depend on the request.
  const verdicts = new WeakMap<DocumentNode, readonly GraphQLError[]>();
  const check = (args: { schema: GraphQLSchema; document: DocumentNode; operationName?: string | null; variableValues?: Record<string, unknown> | null }) => {
    const known = verdicts.get(args.document);
    if (known) return known;
    const fields = sizedFields(args.schema, args.document);
    if (fields.size === 0) return [];
    const errors = costErrors(args.schema, withPageSizesInlined(args.document, fields, args.operationName, args.variableValues));
    if (!usesVariables(fields)) verdicts.set(args.document, errors);
    return errors;
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const errors = check(args);
      if (errors.length > 0) setResultAndStopExecution({ errors: [...errors] });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const errors = check(args);
      if (errors.length > 0) setResultAndStopExecution({ errors: [...errors] });
    },
  };
}

export function useOperationLimits(
  limits: Pick<LimitsConfig, 'maxDepth' | 'maxAliases' | 'maxDirectives' | 'maxTokens' | 'maxCost'>,
  { blockFieldSuggestions }: { blockFieldSuggestions: boolean },
): Plugin[] {
  const cost: CostLimitOptions = { maxCost: limits.maxCost, exposeLimits: true, flattenFragments: true, onReject: coded('MAX_COST_EXCEEDED') };
  const plugins: Plugin[] = [
    maxTokensPlugin({ n: limits.maxTokens, exposeLimits: true, onReject: coded('MAX_TOKENS_EXCEEDED') }) as Plugin,
    maxDepthPlugin({ n: limits.maxDepth, exposeLimits: true, flattenFragments: true, onReject: coded('MAX_DEPTH_EXCEEDED') }) as Plugin,
    maxAliasesPlugin({ n: limits.maxAliases, exposeLimits: true, onReject: coded('MAX_ALIASES_EXCEEDED') }) as Plugin,
    maxDirectivesPlugin({ n: limits.maxDirectives, exposeLimits: true, onReject: coded('MAX_DIRECTIVES_EXCEEDED') }) as Plugin,
    costLimitPlugin(cost) as Plugin,
    useCostOfPageSizes(cost),
  ];
  // With introspection off, "Did you mean …?" suggestions would reveal the schema piece by piece.
  if (blockFieldSuggestions) plugins.push(blockFieldSuggestionsPlugin() as Plugin);
  return plugins;
}

/**
 * The cost the limit compares with `maxCost` (page sizes and `nodes(ids:)` lengths counted), for tests and
 * operators sizing FLOWGRAPH_MAX_COST.
 */
export function operationCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName?: string | null,
  variables?: Record<string, unknown> | null,
): number {
  let cost = 0;
  const rule = costLimitRule({ maxCost: Number.POSITIVE_INFINITY, flattenFragments: true, onAccept: [(_ctx, { n }) => void (cost = n)] });
  validate(schema, withPageSizesInlined(document, sizedFields(schema, document), operationName, variables), [rule]);
  return cost;
}
