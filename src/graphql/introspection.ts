// Introspection off (production default, FLOWGRAPH_INTROSPECTION=0): graphql-js' own validation rule
// refuses __schema and __type. It is added in the validate phase, which graphql-ws shares, so the
// socket is no back door.
import { NoSchemaIntrospectionCustomRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export function useIntrospection(enabled: boolean): Plugin {
  if (enabled) return {};
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(NoSchemaIntrospectionCustomRule);
    },
  };
}
