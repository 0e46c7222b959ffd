// Bounds on the shape of an operation, checked before anything runs (GraphQL Armor): depth, aliases,
// directives, tokens and cost. They apply to every transport, since graphql-ws runs operations through
// the same envelop (src/http/graphql-ws-server.ts). Each rejection names the limit and its value, so a
// legitimate client that hits one knows which setting to ask for.
import { blockFieldSuggestionsPlugin } from '@escape.tech/graphql-armor-block-field-suggestions';
import { costLimitPlugin } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesPlugin } from '@escape.tech/graphql-armor-max-aliases';
import { maxDepthPlugin } from '@escape.tech/graphql-armor-max-depth';
import { maxDirectivesPlugin } from '@escape.tech/graphql-armor-max-directives';
import { maxTokensPlugin } from '@escape.tech/graphql-armor-max-tokens';
import type { GraphQLError, ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { LimitsConfig } from '../config.ts';

/** Armor's errors carry no code; give each one, so clients and metrics can tell them apart. */
function coded(code: string) {
  return [
    (_ctx: ValidationContext | null, error: GraphQLError) => {
      (error.extensions as Record<string, unknown>).code = code;
    },
  ];
}

export function useOperationLimits(
  limits: Pick<LimitsConfig, 'maxDepth' | 'maxAliases' | 'maxDirectives' | 'maxTokens' | 'maxCost'>,
  { blockFieldSuggestions }: { blockFieldSuggestions: boolean },
): Plugin[] {
  const plugins: Plugin[] = [
    maxTokensPlugin({ n: limits.maxTokens, exposeLimits: true, onReject: coded('MAX_TOKENS_EXCEEDED') }) as Plugin,
    maxDepthPlugin({ n: limits.maxDepth, exposeLimits: true, flattenFragments: true, onReject: coded('MAX_DEPTH_EXCEEDED') }) as Plugin,
    maxAliasesPlugin({ n: limits.maxAliases, exposeLimits: true, onReject: coded('MAX_ALIASES_EXCEEDED') }) as Plugin,
    maxDirectivesPlugin({ n: limits.maxDirectives, exposeLimits: true, onReject: coded('MAX_DIRECTIVES_EXCEEDED') }) as Plugin,
    costLimitPlugin({ maxCost: limits.maxCost, exposeLimits: true, flattenFragments: true, onReject: coded('MAX_COST_EXCEEDED') }) as Plugin,
  ];
  // With introspection off, "Did you mean …?" suggestions would reveal the schema piece by piece.
  if (blockFieldSuggestions) plugins.push(blockFieldSuggestionsPlugin() as Plugin);
  return plugins;
}
