// Trusted documents (persisted operations): the operations a client may run, known in advance and named by
// the sha256 hash of their text. Clients send `extensions: { persistedQuery: { version: 1, sha256Hash } }`
// (Apollo's and Yoga's format) in place of the query.
//
// - The dashboard's own documents (dashboard/src/generated/persisted-documents.json, written by
//   `npm run generate`) are always known, so the dashboard sends hashes whatever the mode.
// - With FLOWGRAPH_TRUSTED_DOCUMENTS (manifests an operator supplies) the server runs nothing else: a query
//   sent as text is refused (PERSISTED_QUERY_ONLY), an unknown hash too (PERSISTED_QUERY_NOT_IN_LIST).
//   Without it (development) any query runs, and hashes of known documents resolve.
//
// HTTP and Yoga's own SSE go through Yoga's persisted-operations plugin (usePersistedOperations); graphql-ws
// and the GraphQL-SSE protocol parse operations outside Yoga's request pipeline, so they call
// resolveTrustedQuery before parsing. All three answer with the same errors.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { usePersistedOperations } from '@graphql-yoga/plugin-persisted-operations';

export const DASHBOARD_MANIFEST = new URL('../../dashboard/src/generated/persisted-documents.json', import.meta.url);

export class TrustedDocumentsError extends Error {
  override name = 'TrustedDocumentsError';
}

export interface TrustedDocuments {
  /** Whether only trusted documents run (FLOWGRAPH_TRUSTED_DOCUMENTS is set). */
  enforced: boolean;
  /** The document with this sha256 hash (hex), if it is trusted. */
  lookup(hash: string): string | undefined;
  size: number;
}

const ERRORS = {
  only: {
    message: 'This server runs only trusted documents: send the sha256 hash of a trusted document in extensions.persistedQuery, not a query.',
    extensions: { code: 'PERSISTED_QUERY_ONLY', http: { status: 400 } },
  },
  notFound: {
    message: 'No trusted document has this hash.',
    extensions: { code: 'PERSISTED_QUERY_NOT_IN_LIST', http: { status: 400 } },
  },
  keyNotFound: {
    message: 'Send a query, or the sha256 hash of a trusted document in extensions.persistedQuery.',
    extensions: { code: 'PERSISTED_QUERY_ID_REQUIRED', http: { status: 400 } },
  },
} as const;

export type TrustedDocumentsRefusal = keyof typeof ERRORS;

export function trustedDocumentsError(kind: TrustedDocumentsRefusal): GraphQLError {
  const { message, extensions } = ERRORS[kind];
  return new GraphQLError(message, { extensions: { ...extensions, http: { ...extensions.http } } });
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * The documents of one manifest: a JSON object of hash -> document (what graphql-codegen's client preset and
 * Yoga's documentation write; a `sha256:` prefix on the hash is allowed), or Apollo's persisted query
 * manifest (`{ format: "apollo-persisted-query-manifest", operations: [{ id, body }] }`). Every hash must be
 * the sha256 of its document's text, so a manifest cannot name one document and run another.
 */
function readManifest(path: string): Map<string, string> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new TrustedDocumentsError(`cannot read the trusted documents manifest ${path}: ${(error as Error).message}`);
  }
  const entries: [string, unknown][] =
    json && typeof json === 'object' && (json as { format?: unknown }).format === 'apollo-persisted-query-manifest'
      ? ((json as { operations?: unknown }).operations as { id?: unknown; body?: unknown }[] | undefined ?? []).map((operation) => [
          String(operation.id),
          operation.body,
        ])
      : json && typeof json === 'object' && !Array.isArray(json)
        ? Object.entries(json)
        : [];
  if (entries.length === 0) throw new TrustedDocumentsError(`the trusted documents manifest ${path} holds no documents`);
  const documents = new Map<string, string>();
  for (const [key, document] of entries) {
    const hash = key.replace(/^sha256:/, '').toLowerCase();
    if (typeof document !== 'string' || !/^[0-9a-f]{64}$/.test(hash) || sha256(document) !== hash) {
      throw new TrustedDocumentsError(
        `the trusted documents manifest ${path}: "${key.slice(0, 80)}" is not the sha256 hash of its document`,
      );
    }
    documents.set(hash, document);
  }
  return documents;
}

/** The dashboard's documents, and those of every manifest named (then only these run). */
export function loadTrustedDocuments(manifests: readonly string[]): TrustedDocuments {
  const documents = new Map<string, string>();
  for (const path of [fileURLToPath(DASHBOARD_MANIFEST), ...manifests]) {
    for (const [hash, document] of readManifest(path)) documents.set(hash, document);
  }
  return { enforced: manifests.length > 0, lookup: (hash) => documents.get(hash.toLowerCase()), size: documents.size };
}

/** The hash a request names, in Apollo's and Yoga's format. */
export function persistedQueryHash(extensions: unknown): string | null {
  const persisted = (extensions as { persistedQuery?: { version?: unknown; sha256Hash?: unknown } } | null | undefined)?.persistedQuery;
  return persisted?.version === 1 && typeof persisted.sha256Hash === 'string' ? persisted.sha256Hash.replace(/^sha256:/, '') : null;
}

/**
 * The query an operation of graphql-ws or the GraphQL-SSE protocol runs, decided as Yoga's plugin decides
 * it for HTTP: its text where arbitrary queries are allowed, else the trusted document its hash names.
 */
export function resolveTrustedQuery(
  documents: TrustedDocuments,
  params: { query?: unknown; extensions?: unknown },
): { query: string } | GraphQLError {
  if (typeof params.query === 'string' && params.query !== '') {
    return documents.enforced ? trustedDocumentsError('only') : { query: params.query };
  }
  const hash = persistedQueryHash(params.extensions);
  if (hash === null) return documents.enforced ? trustedDocumentsError('keyNotFound') : { query: String(params.query ?? '') };
  const query = documents.lookup(hash);
  return query === undefined ? trustedDocumentsError('notFound') : { query };
}

/** Yoga's persisted-operations plugin over HTTP (and Yoga's own SSE), with the errors above. */
export function useTrustedDocuments(documents: TrustedDocuments): Plugin {
  const plugin = usePersistedOperations({
    allowArbitraryOperations: !documents.enforced,
    getPersistedOperation: (hash) => documents.lookup(hash.replace(/^sha256:/, '')) ?? null,
    customErrors: {
      notFound: () => trustedDocumentsError('notFound'),
      keyNotFound: () => trustedDocumentsError('keyNotFound'),
      persistedQueryOnly: () => trustedDocumentsError('only'),
    },
  }) as Plugin;
  if (documents.enforced) return plugin;
  // Development: only a request naming a hash (and no query) is the plugin's; everything else is answered
  // exactly as without it.
  return {
    ...plugin,
    onParams(payload) {
      if (!payload.params.query && persistedQueryHash(payload.params.extensions) !== null) return plugin.onParams!(payload);
    },
  };
}
