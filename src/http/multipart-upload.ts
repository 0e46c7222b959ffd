// GraphQL multipart requests (https://github.com/jaydenseric/graphql-multipart-request-spec), streamed.
//
// Yoga's built-in multipart support reads the whole request (every file buffered in memory) before it
// executes anything. An import must be parsed and stored while it arrives, so this plugin replaces it: the
// `operations` and `map` fields (which the spec puts before the files) are read first, the operation runs
// as soon as the file part begins, and the resolver reads the file as the request body streams in, at the
// pace the database takes it. Busboy does the multipart parsing.
import { Readable } from 'node:stream';
import { Busboy } from '@fastify/busboy';
import { createGraphQLError, type GraphQLParams, type Plugin } from 'graphql-yoga';
import type { UploadedFile } from '../services/store-import.ts';

/** Largest `operations` or `map` field; the file itself is limited by the import settings. */
const MAX_FIELD_BYTES = 1024 * 1024;

/** An uploaded file whose bytes are read from the request as they arrive; they can be read once. */
class StreamedUpload implements UploadedFile {
  private taken = false;
  constructor(
    readonly name: string,
    readonly type: string,
    private readonly source: Readable,
  ) {}

  stream(): AsyncIterable<Uint8Array> {
    if (this.taken) throw new Error(`The upload "${this.name}" was already read.`);
    this.taken = true;
    return this.source;
  }
}

function badRequest(message: string) {
  return createGraphQLError(message, { extensions: { http: { status: 400 }, code: 'BAD_REQUEST' } });
}

function setPath(target: Record<string, unknown>, path: string, value: unknown): boolean {
  const keys = path.split('.');
  let current: Record<string, unknown> = target;
  for (const [index, key] of keys.entries()) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') return false;
    if (index === keys.length - 1) {
      current[key] = value;
      return true;
    }
    const next = current[key];
    if (typeof next !== 'object' || next === null) return false;
    current = next as Record<string, unknown>;
  }
  return false;
}

function parseJsonField(name: string, value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw badRequest(`Multipart field "${name}" must be valid JSON.`);
  }
}

/** What the parser left running, for the plugin to drain once the response is ready. */
interface OpenBody {
  body: Readable;
  busboy: ReturnType<typeof Busboy>;
}

function parseMultipart(request: Request, open: (body: OpenBody) => void): Promise<GraphQLParams | GraphQLParams[]> {
  return new Promise((resolve, reject) => {
    let busboy: ReturnType<typeof Busboy>;
    try {
      busboy = Busboy({
        headers: { 'content-type': request.headers.get('content-type') ?? '' },
        limits: { fields: 2, files: 1, fieldSize: MAX_FIELD_BYTES },
      });
    } catch (error) {
      reject(badRequest(`Invalid multipart request: ${(error as Error).message}`));
      return;
    }
    if (!request.body) {
      reject(badRequest('The multipart request has no body.'));
      return;
    }
    const body = Readable.from(request.body as unknown as AsyncIterable<Uint8Array>);
    open({ body, busboy });
    // The file being read: when the body fails (the client went away, or stopped sending), the import reading
    // it must hear so at once, and roll back, instead of waiting for bytes that will never come.
    let file: Readable | undefined;
    let operations: Record<string, unknown> | Record<string, unknown>[] | undefined;
    let map: Record<string, unknown> | undefined;
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      reject(error instanceof Error && 'extensions' in error ? error : badRequest(`Invalid multipart request: ${(error as Error)?.message}`));
    };

    busboy.on('field', (name, value, _nameTruncated, valueTruncated) => {
      try {
        if (valueTruncated) throw badRequest(`Multipart field "${name}" is larger than ${MAX_FIELD_BYTES} bytes.`);
        if (name === 'operations') {
          const parsed = parseJsonField(name, value);
          if (typeof parsed !== 'object' || parsed === null) throw badRequest('Multipart field "operations" must be a JSON object or array.');
          operations = parsed as Record<string, unknown>;
        } else if (name === 'map') {
          const parsed = parseJsonField(name, value);
          if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
            throw badRequest('Multipart field "map" must be a JSON object.');
          }
          map = parsed as Record<string, unknown>;
        }
      } catch (error) {
        fail(error);
      }
    });
    busboy.on('file', (name, stream, filename, _encoding, mimeType) => {
      if (settled || !operations || !map) {
        stream.resume();
        fail(badRequest('The "operations" and "map" fields must come before the files.'));
        return;
      }
      const paths = map[name];
      if (!Array.isArray(paths)) {
        // A file no variable refers to is skipped, as Yoga's own parser does; the operation runs at the end.
        stream.resume();
        return;
      }
      file = stream;
      // The error a failed body puts on the file is the import's to read (it iterates the stream); until the
      // import gets there (its transaction may be waiting for a connection), nobody else listens for it.
      stream.on('error', () => {});
      const upload = new StreamedUpload(filename, mimeType, stream);
      for (const path of paths) {
        if (typeof path !== 'string' || !setPath(operations as Record<string, unknown>, path, upload)) {
          stream.resume();
          fail(badRequest(`"map" names a path that is not in "operations": ${JSON.stringify(path)}.`));
          return;
        }
      }
      settled = true;
      resolve(operations as GraphQLParams | GraphQLParams[]);
    });
    busboy.on('finish', () => {
      if (settled) return;
      if (!operations) fail(badRequest('The multipart request has no "operations" field.'));
      else {
        settled = true;
        resolve(operations as GraphQLParams | GraphQLParams[]);
      }
    });
    busboy.on('error', (error: Error) => {
      file?.destroy(error);
      fail(error);
    });
    body.on('error', (error) => {
      file?.destroy(error);
      busboy.destroy();
      fail(error);
    });
    body.pipe(busboy);
  });
}

/** Replaces Yoga's buffering multipart parser (create Yoga with `multipart: false`). */
export function useStreamingMultipart(): Plugin {
  const open = new WeakMap<Request, OpenBody>();
  return {
    onRequestParse({ request, setRequestParser }) {
      const type = request.headers.get('content-type') ?? '';
      if (request.method === 'POST' && type.toLowerCase().startsWith('multipart/form-data')) {
        // Kept under the request Yoga answers (the parser may be handed a wrapped copy of it).
        setRequestParser((req) => parseMultipart(req, (body) => open.set(request, body)));
      }
    },
    onResponse({ request }) {
      // Whatever the operation did not read (an error before the file was read, or a file rejected half-way)
      // is read and thrown away, so the client can finish sending and receive the response.
      const pending = open.get(request);
      if (!pending) return;
      open.delete(request);
      pending.body.unpipe(pending.busboy);
      pending.busboy.destroy();
      pending.body.resume();
    },
  };
}
