// A response key named `__proto__` cannot be kept the same way everywhere: graphql-js builds results on
// prototype-less objects and keeps it, graphql-jit's generated code and the compiled read path assign it to
// plain objects, where it replaces the prototype and the field vanishes from the response. So it is refused,
// on every path and transport, before anything runs (a validation error naming the alias).
import { GraphQLError, type ASTVisitor, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';

const RESERVED = new Set(['__proto__']);

function reservedAliasRule(context: ValidationContext): ASTVisitor {
  return {
    Field(node) {
      const key = node.alias?.value;
      if (key !== undefined && RESERVED.has(key)) {
        context.reportError(
          new GraphQLError(`The alias "${key}" is reserved: choose another name for ${node.name.value}.`, {
            nodes: [node.alias!],
          }),
        );
      }
    },
  };
}

export function useReservedAliases(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(reservedAliasRule);
    },
  };
}
