// Connections refuse `first`/`last` beyond the cap with a clear error instead of silently returning
// fewer rows than asked (Pothos' maxConnectionSize clamps). Checked once per operation, before any
// resolver runs, over every connection field in the document, so fields added later are covered.
import { GraphQLError, getNamedType, isUnionType, TypeInfo, valueFromAST, visit, visitWithTypeInfo, GraphQLInt } from 'graphql';
import type { ArgumentNode, DocumentNode, GraphQLOutputType, GraphQLSchema } from 'graphql';

/** A connection, or a union of a connection and typed errors (fields with `errors`). */
function isConnection(type: GraphQLOutputType): boolean {
  const named = getNamedType(type);
  if (isUnionType(named)) return named.getTypes().some((member) => member.name.endsWith('Connection'));
  return named.name.endsWith('Connection');
}

interface PageArgument {
  field: string;
  argument: ArgumentNode;
}

// The page-size arguments of a document depend on the document only; their values may come from variables.
// Walking the document with type information on every request cost more than a small compiled read, so the
// walk is done once per document (Yoga's parser cache hands out the same document for the same text).
const pageArgumentsBySchema = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, PageArgument[]>>();

function pageArguments(schema: GraphQLSchema, document: DocumentNode): PageArgument[] {
  let byDocument = pageArgumentsBySchema.get(schema);
  if (!byDocument) pageArgumentsBySchema.set(schema, (byDocument = new WeakMap()));
  const known = byDocument.get(document);
  if (known) return known;
  const found: PageArgument[] = [];
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Field(node) {
        const field = typeInfo.getFieldDef();
        if (!field || !isConnection(field.type)) return;
        for (const argument of node.arguments ?? []) {
          if (argument.name.value === 'first' || argument.name.value === 'last') found.push({ field: field.name, argument });
        }
      },
    }),
  );
  byDocument.set(document, found);
  return found;
}

export function pageSizeErrors(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | null | undefined,
  maxPageSize: number,
): GraphQLError[] {
  const errors: GraphQLError[] = [];
  for (const { field, argument } of pageArguments(schema, document)) {
    const value = valueFromAST(argument.value, GraphQLInt, variables ?? undefined);
    if (typeof value !== 'number') continue;
    if (value < 0 || value > maxPageSize) {
      errors.push(
        new GraphQLError(
          `${field}(${argument.name.value}: ${value}) is out of range: a page holds 0 to ${maxPageSize} items. ` +
            'Ask for fewer and follow pageInfo.endCursor for the rest.',
          { nodes: [argument], extensions: { code: 'PAGE_SIZE_OUT_OF_RANGE', maxPageSize } },
        ),
      );
    }
  }
  return errors;
}
