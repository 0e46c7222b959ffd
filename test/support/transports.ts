// Sends a generated operation the ways a client can: HTTP (JSON, or multipart when it carries an
// upload), graphql-ws, and SSE for subscriptions. Each returns the response as text, so suites can
// compare responses and search them for data that must not be there.
import { UPLOAD, type GeneratedOperation } from './schema-walker.ts';
import { readSse } from './sse.ts';
import type { RawSocket } from './ws-client.ts';

export interface TransportResult {
  status: number;
  text: string;
}

function uploadPaths(value: unknown, path: string, found: string[]): void {
  if (value === UPLOAD) found.push(path);
  else if (Array.isArray(value)) value.forEach((item, index) => uploadPaths(item, `${path}.${index}`, found));
  else if (value && typeof value === 'object') for (const [key, inner] of Object.entries(value)) uploadPaths(inner, `${path}.${key}`, found);
}

function withoutUploads(value: unknown): unknown {
  if (value === UPLOAD) return null;
  if (Array.isArray(value)) return value.map(withoutUploads);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, withoutUploads(inner)]));
  return value;
}

export async function overHttp(
  url: string,
  headers: Record<string, string>,
  operation: Pick<GeneratedOperation, 'query' | 'variables' | 'hasUpload'>,
  { timeoutMs = 30_000 } = {},
): Promise<TransportResult> {
  let body: string | FormData;
  const requestHeaders: Record<string, string> = { ...headers };
  if (operation.hasUpload) {
    const paths: string[] = [];
    uploadPaths(operation.variables, 'variables', paths);
    const form = new FormData();
    form.append('operations', JSON.stringify({ query: operation.query, variables: withoutUploads(operation.variables) }));
    form.append('map', JSON.stringify(Object.fromEntries(paths.map((path, index) => [String(index), [path]]))));
    paths.forEach((_path, index) => form.append(String(index), new Blob(['hostname,os\nprobe-1,linux\n'], { type: 'text/csv' }), 'probe.csv'));
    body = form;
  } else {
    requestHeaders['content-type'] = 'application/json';
    body = JSON.stringify({ query: operation.query, variables: operation.variables });
  }
  const response = await fetch(url, { method: 'POST', headers: requestHeaders, body, signal: AbortSignal.timeout(timeoutMs) });
  return { status: response.status, text: await response.text() };
}

let operationIds = 0;

/** One query or mutation over an open, acknowledged graphql-ws socket. */
export async function overWebSocket(socket: RawSocket, operation: Pick<GeneratedOperation, 'query' | 'variables'>): Promise<TransportResult> {
  operationIds += 1;
  const frames = await socket.operation(`op-${operationIds}`, operation.query, operation.variables);
  return { status: 0, text: JSON.stringify(frames.map(({ type, payload }) => ({ type, payload }))) };
}

/** Subscribes over graphql-ws and collects what arrives within the window, then completes. */
export async function subscribeOverWebSocket(
  socket: RawSocket,
  operation: Pick<GeneratedOperation, 'query' | 'variables'>,
  windowMs: number,
  duringWindow: () => Promise<void> = async () => {},
): Promise<TransportResult> {
  operationIds += 1;
  const id = `sub-${operationIds}`;
  const done = socket.operation(id, operation.query, operation.variables);
  const timer = new Promise<'window'>((resolve) => setTimeout(() => resolve('window'), windowMs));
  await duringWindow();
  await Promise.race([done, timer]);
  socket.send({ id, type: 'complete' });
  const frames = socket.frames.filter((frame) => frame.id === id);
  return { status: 0, text: JSON.stringify(frames.map(({ type, payload }) => ({ type, payload }))) };
}

/** Subscribes over SSE and collects what arrives within the window. */
export async function subscribeOverSse(
  url: string,
  headers: Record<string, string>,
  operation: Pick<GeneratedOperation, 'query' | 'variables'>,
  windowMs: number,
  duringWindow: () => Promise<void> = async () => {},
): Promise<TransportResult> {
  const controller = new AbortController();
  const response = await fetch(url, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query: operation.query, variables: operation.variables }),
    signal: controller.signal,
  });
  if (!response.headers.get('content-type')?.includes('text/event-stream')) {
    return { status: response.status, text: await response.text() };
  }
  const events: unknown[] = [];
  const reading = readSse(response, (event) => events.push({ event: event.event, data: event.data })).catch(() => undefined);
  await duringWindow();
  await Promise.race([reading, new Promise((resolve) => setTimeout(resolve, windowMs))]);
  controller.abort();
  await reading;
  return { status: response.status, text: JSON.stringify(events) };
}
