// Request body limits. Yoga's own limit (maxRequestBodySize) counts a whole multipart request, so an upload
// over it would get a generic 413 instead of the typed FileTooLarge that storeImport reports; flowgraph turns
// Yoga's limit off and applies this one to every request that is not a multipart upload (uploads are limited
// part by part: src/http/multipart-upload.ts for the fields, the import pipeline for the file).
import { createGraphQLError, type Plugin } from 'graphql-yoga';

function tooLarge(limit: number) {
  return createGraphQLError(`The request body is larger than ${limit} bytes.`, {
    // The connection closes after the answer: the rest of the body is not received only to be thrown away.
    extensions: { http: { status: 413, headers: { connection: 'close' } }, code: 'REQUEST_ENTITY_TOO_LARGE' },
  });
}

function isMultipart(request: Request): boolean {
  return (request.headers.get('content-type') ?? '').toLowerCase().startsWith('multipart/form-data');
}

export function useRequestBodyLimit(limitBytes: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      if (isMultipart(request) || !request.body || !requestParser) return;
      const declared = request.headers.get('content-length');
      if (declared !== null && (!/^\d+$/.test(declared) || Number(declared) > limitBytes)) throw tooLarge(limitBytes);
      const parse = requestParser;
      // A body without a (truthful) Content-Length is counted as it is read.
      setRequestParser((req) => {
        let read = 0;
        // The server adapter may hand over a ponyfilled stream; each kind pipes into its own TransformStream.
        const Transform = req.body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
        const counted = req.body!.pipeThrough(
          new Transform<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              read += chunk.byteLength;
              if (read > limitBytes) controller.error(tooLarge(limitBytes));
              else controller.enqueue(chunk);
            },
          }),
        );
        return parse(new fetchAPI.Request(req.url, { method: req.method, headers: req.headers, body: counted, duplex: 'half' } as RequestInit));
      });
    },
  };
}
