// Global ids ("Typename:id" in base64) arrive from clients as free text. One that is not base64 of
// "Typename:id", is too long to have been issued, or names a type that is not a Node of this schema
// is refused with a clear BAD_USER_INPUT error before any lookup (the relay plugin would otherwise
// fail internally on an unknown type). An id that matches nothing, another tenant's row, or an inner
// id that is not a uuid (node/nodes answer those with null, src/builder.ts) behave like missing ones.
import { decodeBase64, PothosValidationError } from '@pothos/core';
import { GraphQLError, isObjectType, type GraphQLSchema } from 'graphql';

const TYPENAME = /^[A-Z_a-z]\w*$/;
const MAX_GLOBAL_ID_LENGTH = 512;

function invalid(globalID: string): GraphQLError {
  const shown = globalID.length > 64 ? `${globalID.slice(0, 64)}…` : globalID;
  return new GraphQLError(`"${shown}" is not an id this API issued; pass an \`id\` value exactly as returned.`, {
    extensions: { code: 'BAD_USER_INPUT' },
  });
}

let nodeTypes: ReadonlySet<string> = new Set();

/** Records the object types that implement Node, once the schema is built (src/schema/index.ts). */
export function registerNodeTypes(schema: GraphQLSchema): void {
  nodeTypes = new Set(
    Object.values(schema.getTypeMap())
      .filter((type) => isObjectType(type) && type.getInterfaces().some((iface) => iface.name === 'Node'))
      .map((type) => type.name),
  );
}

export function decodeGlobalId(globalID: string): { typename: string; id: string } {
  if (typeof globalID !== 'string' || globalID.length > MAX_GLOBAL_ID_LENGTH) throw invalid(String(globalID));
  let decoded: string;
  try {
    decoded = decodeBase64(globalID);
  } catch (error) {
    if (error instanceof PothosValidationError) throw invalid(globalID);
    throw error;
  }
  const separator = decoded.indexOf(':');
  const typename = decoded.slice(0, separator);
  const id = decoded.slice(separator + 1);
  if (separator < 1 || id === '' || !TYPENAME.test(typename) || !nodeTypes.has(typename)) {
    throw invalid(globalID);
  }
  return { typename, id };
}
