// Every list a client passes as an argument has a maximum length (FLOWGRAPH_MAX_LIST_LENGTH): `nodes(ids:)`
// with 12,000 ids blocked the event loop for two minutes and 50,000 crashed the process (issue 16), and a
// filter list is turned into SQL. Checked once per operation, before any resolver runs (and before the
// variables are coerced), over every argument in the document whose type holds a list, literal or variable,
// so arguments added later are covered. Inline import rows are the one list limited otherwise: in bytes,
// by the body limit and FLOWGRAPH_MAX_UPLOAD_BYTES.
import {
  GraphQLError,
  getNullableType,
  isInputObjectType,
  isListType,
  TypeInfo,
  valueFromAST,
  visit,
  visitWithTypeInfo,
  type ArgumentNode,
  type DocumentNode,
  type GraphQLInputType,
  type GraphQLSchema,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';

/** Input fields whose lists are bounded in another unit (`Type.field`). */
const BOUNDED_ELSEWHERE = new Set(['StoreImportInput.rows']);

interface ListArgument {
  field: string;
  argument: ArgumentNode;
  type: GraphQLInputType;
}

function holdsList(type: GraphQLInputType, seen = new Set<string>()): boolean {
  const nullable = getNullableType(type);
  if (isListType(nullable)) return true;
  if (!isInputObjectType(nullable) || seen.has(nullable.name)) return false;
  seen.add(nullable.name);
  return Object.entries(nullable.getFields()).some(
    ([name, field]) => !BOUNDED_ELSEWHERE.has(`${nullable.name}.${name}`) && holdsList(field.type, seen),
  );
}

// The list arguments of a document depend on the document only (Yoga's parser cache hands out the same
// document for the same text), so the walk with type information is done once per document.
const listArgumentsBySchema = new WeakMap<GraphQLSchema, WeakMap<DocumentNode, ListArgument[]>>();

function listArguments(schema: GraphQLSchema, document: DocumentNode): ListArgument[] {
  let byDocument = listArgumentsBySchema.get(schema);
  if (!byDocument) listArgumentsBySchema.set(schema, (byDocument = new WeakMap()));
  const known = byDocument.get(document);
  if (known) return known;
  const found: ListArgument[] = [];
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      Argument(node) {
        const definition = typeInfo.getArgument();
        const field = typeInfo.getFieldDef();
        if (definition && holdsList(definition.type)) found.push({ field: field?.name ?? '?', argument: node, type: definition.type });
      },
    }),
  );
  byDocument.set(document, found);
  return found;
}

/** The first list in `value` longer than `max`, as [its path, its length]. */
function overlong(value: unknown, type: GraphQLInputType, max: number, path: string): [string, number] | null {
  if (value === null || value === undefined) return null;
  const nullable = getNullableType(type);
  if (isListType(nullable)) {
    if (!Array.isArray(value)) return overlong(value, nullable.ofType, max, path);
    if (value.length > max) return [path, value.length];
    for (const item of value) {
      const found = overlong(item, nullable.ofType, max, path);
      if (found) return found;
    }
    return null;
  }
  if (!isInputObjectType(nullable) || typeof value !== 'object') return null;
  for (const [name, field] of Object.entries(nullable.getFields())) {
    if (BOUNDED_ELSEWHERE.has(`${nullable.name}.${name}`)) continue;
    const found = overlong((value as Record<string, unknown>)[name], field.type, max, `${path}.${name}`);
    if (found) return found;
  }
  return null;
}

export function listLengthErrors(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | null | undefined,
  maxLength: number,
): GraphQLError[] {
  const errors: GraphQLError[] = [];
  for (const { field, argument, type } of listArguments(schema, document)) {
    const value = valueFromAST(argument.value, type, variables ?? undefined);
    const found = overlong(value, type, maxLength, argument.name.value);
    if (!found) continue;
    const [path, length] = found;
    errors.push(
      new GraphQLError(`${field}(${path}:) has ${length} items; a list argument holds at most ${maxLength}. Send several requests.`, {
        nodes: [argument],
        extensions: { code: 'LIST_TOO_LONG', maxLength, argument: path },
      }),
    );
  }
  return errors;
}

export function useListArgumentLimit(maxLength: number): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const errors = listLengthErrors(args.schema, args.document, args.variableValues, maxLength);
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
    onSubscribe({ args, setResultAndStopExecution }) {
      const errors = listLengthErrors(args.schema, args.document, args.variableValues, maxLength);
      if (errors.length > 0) setResultAndStopExecution({ errors });
    },
  };
}
