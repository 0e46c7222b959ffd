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
import { getOperationAST, GraphQLError, Kind, validate, visit, type DocumentNode, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { LimitsConfig } from '../config.ts';

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
 * Armor's cost multiplies a connection's cost by its `first`/`last`, but only when the size is a
 * literal; a size passed in a variable would slip through. Before execution, sizes from variables
 * (or their defaults) are written into a copy of the document and the same cost rule runs again.
 */
function withPageSizesInlined(document: DocumentNode, operationName: string | null | undefined, variables: Record<string, unknown> | null | undefined): DocumentNode | null {
  const operation = getOperationAST(document, operationName);
  const values = new Map<string, unknown>();
  for (const definition of operation?.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    const provided = variables?.[name];
    if (provided !== undefined && provided !== null) values.set(name, provided);
    else if (definition.defaultValue?.kind === Kind.INT) values.set(name, Number(definition.defaultValue.value));
  }
  let changed = false;
  const inlined = visit(document, {
    Argument(node) {
      if (node.name.value !== 'first' && node.name.value !== 'last') return undefined;
      if (node.value.kind !== Kind.VARIABLE) return undefined;
      const value = values.get(node.value.name.value);
      if (typeof value !== 'number' || !Number.isSafeInteger(value)) return undefined;
      changed = true;
      return { ...node, value: { kind: Kind.INT, value: String(value) } };
    },
  });
  return changed ? inlined : null;
}

function useCostOfVariables(options: CostLimitOptions): Plugin {
  const check = (args: { schema: import('graphql').GraphQLSchema; document: DocumentNode; operationName?: string | null; variableValues?: Record<string, unknown> | null }) => {
    const inlined = withPageSizesInlined(args.document, args.operationName, args.variableValues);
    if (!inlined) return [];
    try {
      return validate(args.schema, inlined, [costLimitRule(options)]);
    } catch (error) {
      // Armor throws its rejection out of validation (propagateOnRejection).
      if (error instanceof GraphQLError) return [error];
      throw error;
    }
  };
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const errors = check(args);
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const errors = check(args);
      if (errors.length > 0) setResultAndStopExecution({ errors });
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
    useCostOfVariables(cost),
  ];
  // With introspection off, "Did you mean …?" suggestions would reveal the schema piece by piece.
  if (blockFieldSuggestions) plugins.push(blockFieldSuggestionsPlugin() as Plugin);
  return plugins;
}
