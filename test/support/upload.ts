// Sends GraphQL multipart requests (the spec curl and Apollo/urql upload links use) over real HTTP.
import { print } from 'graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';
import type { Viewer } from '../../src/context.ts';
import { viewerHeaders } from './graphql.ts';

export interface UploadRequest<TVariables> {
  url: string;
  viewer: Viewer;
  document: TypedDocumentNode<unknown, TVariables> | string;
  /** Variables without the file; the file goes to `variables.input.file`. */
  variables: TVariables;
  file: { name: string; type?: string; content: string | Uint8Array<ArrayBuffer> | Blob };
}

export interface UploadResponse<TData> {
  status: number;
  data?: TData;
  errors?: { message: string; extensions?: Record<string, unknown> }[];
}

/** One multipart POST with the file at `variables.input.file` (FormData + fetch, as a browser sends it). */
export async function uploadFile<TData, TVariables>(
  request: UploadRequest<TVariables> & { document: TypedDocumentNode<TData, TVariables> | string },
): Promise<UploadResponse<TData>> {
  const form = new FormData();
  const query = typeof request.document === 'string' ? request.document : print(request.document);
  form.set('operations', JSON.stringify({ query, variables: request.variables }));
  form.set('map', JSON.stringify({ 0: ['variables.input.file'] }));
  const content = request.file.content;
  const blob = content instanceof Blob ? content : new Blob([content], { type: request.file.type ?? '' });
  form.set('0', blob, request.file.name);
  const response = await fetch(`${request.url}/graphql`, { method: 'POST', headers: viewerHeaders(request.viewer), body: form });
  return { status: response.status, ...((await response.json()) as Omit<UploadResponse<TData>, 'status'>) };
}

/** `rows` CSV data rows after a header, generated on the fly (no file on disk). */
export function csvText(rows: number, header = 'hostname,ip,os,cpu_cores'): string {
  const lines = [header];
  for (let index = 1; index <= rows; index += 1) {
    lines.push(`host-${index}.example,10.0.${Math.floor(index / 250) % 250}.${index % 250},Ubuntu 22.04,${(index % 16) + 1}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * A multipart upload whose file part is written by the caller, chunk by chunk, for tests that need the
 * request to stop half-way (fetch with FormData always sends the whole file).
 */
export function streamingUpload<TVariables>(request: Omit<UploadRequest<TVariables>, 'file'> & { filename: string }) {
  const boundary = `flowgraph-${Math.random().toString(16).slice(2)}`;
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
  });
  const query = typeof request.document === 'string' ? request.document : print(request.document);
  const head =
    `--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n` +
    `${JSON.stringify({ query, variables: request.variables })}\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n{"0":["variables.input.file"]}\r\n` +
    `--${boundary}\r\nContent-Disposition: form-data; name="0"; filename="${request.filename}"\r\nContent-Type: text/csv\r\n\r\n`;
  controller.enqueue(encoder.encode(head));
  const response = fetch(`${request.url}/graphql`, {
    method: 'POST',
    headers: { ...viewerHeaders(request.viewer), 'content-type': `multipart/form-data; boundary=${boundary}` },
    body,
    duplex: 'half',
  } as RequestInit);
  // Keep a rejection (the server was killed) from surfacing as unhandled before the test looks at it.
  response.catch(() => {});
  return {
    response,
    write(text: string) {
      controller.enqueue(encoder.encode(text));
    },
    end() {
      controller.enqueue(encoder.encode(`\r\n--${boundary}--\r\n`));
      controller.close();
    },
  };
}
