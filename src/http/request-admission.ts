// Registered before the body limit (so that an unauthenticated caller hears 401, not 413) and after the
// multipart parser, whose parser it wraps.
//
// What a GraphQL request must pass before its body is read (issue 16: one unauthenticated 60 MiB body took
// the process down, and a dropped upload held its import for 30 minutes):
// - the caller is authenticated from the headers alone; a refused caller gets its 401 with the connection
//   closed, and not one byte of the body is read or parsed (the principal is handed to the context, which
//   does not verify the token again);
// - a process-wide cap on bodies being received at once (FLOWGRAPH_MAX_PENDING_BODIES), and on the heap
//   buffered bodies take while their requests run (FLOWGRAPH_BODY_BUDGET_BYTES, each body at BODY_HEAP_FACTOR
//   times its size; uploads stream and do not count), both `503` with Retry-After;
// - per-user and per-process caps on open SSE streams (`429`/`503` with Retry-After);
// - every body is read through a watchdog: a client that disconnects errors the body at once (a multipart
//   upload's file stream with it, so its import rolls back now, not at its 30-minute transaction timeout),
//   and a body that delivers less than IDLE_PROGRESS_BYTES within FLOWGRAPH_UPLOAD_IDLE_TIMEOUT_MS while the
//   server waits for it is ended with `408` REQUEST_BODY_TIMEOUT. Time the server spends not reading (the
//   database taking a batch) does not count against the client.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Authenticator, Principal } from '../auth/authenticate.ts';
import type { LimitsConfig } from '../config.ts';
import { Cap, capError, CAP_RETRY_AFTER_SECONDS, principalKey, type Release } from './connection-caps.ts';

/** A body must deliver this much per idle timeout, or the rest of itself. */
export const IDLE_PROGRESS_BYTES = 16 * 1024;

/**
 * Heap a buffered JSON body is taken to need per byte while its request runs: the text, the parsed values
 * (small objects take several times their JSON), GraphQL's coerced copy of the variables and the import's
 * fingerprint; 19 MiB of `{"a":1}` rows took a 256 MiB server down. The body budget counts bodies at this
 * weight, so the largest body the limit admits (1/64 of the heap) takes 1/4 of the heap, and the budget's
 * default (5/16 of it) holds one such body and the small ones of every other request, never two.
 */
export const BODY_HEAP_FACTOR = 16;

export type AdmissionLimits = Pick<
  LimitsConfig,
  'maxPendingBodies' | 'bodyBudgetBytes' | 'uploadIdleTimeoutMs' | 'sseMaxStreams' | 'sseMaxStreamsPerUser' | 'maxBodyBytes'
>;

export interface Admission {
  plugin: Plugin;
  /** The principal authenticated for this request before its body was read. */
  principalOf(request: Request | undefined): Principal | undefined;
  /** Bodies being received now. */
  readonly pendingBodies: Cap;
  /** Open SSE streams. */
  readonly eventStreams: Cap;
}

interface NodeContext {
  req?: IncomingMessage;
  res?: ServerResponse;
}

/** The client went away before its body was complete. Nobody is there to see it; it ends the work. */
export class ClientGoneError extends Error {
  override name = 'ClientGoneError';
  constructor() {
    super('The client closed the connection before its request body was complete.');
  }
}

export function bodyTimeoutError(timeoutMs: number): GraphQLError {
  return new GraphQLError(
    `The request body stopped arriving: less than ${IDLE_PROGRESS_BYTES} bytes in ${timeoutMs} ms. Nothing was stored.`,
    { extensions: { code: 'REQUEST_BODY_TIMEOUT', retryable: true, http: { status: 408, headers: { connection: 'close' } } } },
  );
}

function budgetError(limit: number): GraphQLError {
  return new GraphQLError('This server is receiving as many request bodies as it can hold; try again shortly.', {
    extensions: {
      code: 'BODY_BUDGET_EXCEEDED',
      limit,
      retryable: true,
      http: { status: 503, headers: { 'retry-after': String(CAP_RETRY_AFTER_SECONDS), connection: 'close' } },
    },
  });
}

/** The same error, with the connection closed after it: the body it refuses is never read. */
function closing(error: unknown): unknown {
  if (!(error instanceof GraphQLError)) return error;
  const http = (error.extensions.http ?? {}) as { status?: number; headers?: Record<string, string> };
  return new GraphQLError(error.message, {
    extensions: { ...error.extensions, http: { ...http, headers: { ...http.headers, connection: 'close' } } },
  });
}

function isMultipart(request: Request): boolean {
  return (request.headers.get('content-type') ?? '').toLowerCase().startsWith('multipart/form-data');
}

function hasBody(request: Request, node: IncomingMessage | undefined): boolean {
  if (!request.body) return false;
  if (!node) return true;
  return node.headers['transfer-encoding'] !== undefined || Number(node.headers['content-length'] ?? 0) > 0;
}

interface Watch {
  idleTimeoutMs: number;
  /** Bytes to reserve as they arrive (buffered bodies); null for streamed uploads. */
  reserve: ((bytes: number) => boolean) | null;
  budgetLimit: number;
  node: IncomingMessage | undefined;
  res: ServerResponse | undefined;
  done(): void;
}

/**
 * The body, read on demand through the watchdog described above. Written by hand: the idle clock must run
 * only while the consumer waits for data, which a TransformStream cannot tell.
 */
function watchedBody(source: ReadableStream<Uint8Array>, watch: Watch): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let waitedMs = 0;
  let sinceProgress = 0;
  let finished = false;
  let fail: ((error: unknown) => void) | undefined;
  let stream!: ReadableStreamDefaultController<Uint8Array>;
  const finish = (error?: unknown) => {
    if (finished) return;
    finished = true;
    watch.done();
    watch.node?.off('close', onClose);
    if (error !== undefined) {
      fail?.(error);
      try {
        stream.error(error);
      } catch {
        // already closed
      }
      reader.cancel(error).catch(() => {});
    }
  };
  const onClose = () => {
    // A tick later: the server itself closes a request it refuses (a body over the limit), and that refusal,
    // arriving through the reader, is the error to report.
    if (!watch.node?.complete) setImmediate(() => finish(new ClientGoneError()));
  };
  watch.node?.once('close', onClose);
  if (watch.node?.destroyed && !watch.node.complete) queueMicrotask(onClose);
  return new ReadableStream<Uint8Array>({
    start(controller) {
      stream = controller;
    },
    async pull(controller) {
      if (finished) return;
      const started = Date.now();
      const timer = setTimeout(() => {
        // The client may still be sending: the connection closes after the response rather than read on.
        if (watch.res && !watch.res.headersSent) watch.res.shouldKeepAlive = false;
        finish(bodyTimeoutError(watch.idleTimeoutMs));
      }, Math.max(1, watch.idleTimeoutMs - waitedMs));
      const failed = new Promise<never>((_resolve, reject) => (fail = reject));
      failed.catch(() => {});
      try {
        const { done, value } = await Promise.race([reader.read(), failed]);
        if (finished) return;
        if (done) {
          finish();
          controller.close();
          return;
        }
        waitedMs += Date.now() - started;
        sinceProgress += value.byteLength;
        if (sinceProgress >= IDLE_PROGRESS_BYTES) {
          sinceProgress = 0;
          waitedMs = 0;
        }
        if (watch.reserve && !watch.reserve(value.byteLength)) {
          finish(budgetError(watch.budgetLimit));
          return;
        }
        controller.enqueue(value);
      } catch (error) {
        finish(error);
      } finally {
        clearTimeout(timer);
        fail = undefined;
      }
    },
    cancel(reason) {
      finish();
      return reader.cancel(reason);
    },
  });
}

export function requestAdmission(authenticator: Authenticator, limits: AdmissionLimits): Admission {
  const principals = new WeakMap<Request, Principal>();
  const pendingBodies = new Cap(Number.MAX_SAFE_INTEGER, limits.maxPendingBodies);
  const eventStreams = new Cap(limits.sseMaxStreamsPerUser, limits.sseMaxStreams);
  let budgetHeld = 0;

  const plugin: Plugin = {
    async onRequestParse({ request, serverContext, requestParser, setRequestParser, fetchAPI }) {
      if (!requestParser) return;
      const { req: node, res } = serverContext as NodeContext;
      const withBody = hasBody(request, node);
      let principal: Principal;
      try {
        principal = await authenticator.authenticate((name) => request.headers.get(name) ?? undefined);
      } catch (error) {
        throw withBody ? closing(error) : error;
      }
      principals.set(request, principal);

      // Everything held for this request is given back when its response is done (or its connection lost).
      const releases: Release[] = [];
      const releaseAll = () => {
        for (const release of releases.splice(0)) release();
      };
      res?.once('close', releaseAll);

      if (res && (request.headers.get('accept') ?? '').includes('text/event-stream')) {
        const slot = eventStreams.acquire(principalKey(principal.viewer));
        if (typeof slot === 'string') {
          releaseAll();
          throw capError('event streams', 'TOO_MANY_EVENT_STREAMS', slot, slot === 'user' ? eventStreams.perKey : eventStreams.perProcess);
        }
        releases.push(slot);
      }
      if (!withBody) return;

      const bodySlot = pendingBodies.acquire();
      if (typeof bodySlot === 'string') {
        releaseAll();
        throw capError('request bodies being received', 'TOO_MANY_PENDING_BODIES', 'process', pendingBodies.perProcess);
      }
      releases.push(bodySlot);

      const streamed = isMultipart(request);
      const declared = Number(node?.headers['content-length'] ?? request.headers.get('content-length') ?? 0);
      // Over the body limit: refused next, unread, by src/http/request-body-limit.ts (413).
      if (!streamed && declared > limits.maxBodyBytes) return;
      let reserved = 0;
      releases.push(() => {
        budgetHeld -= reserved;
        reserved = 0;
      });
      const reserve = (bodyBytes: number) => {
        const bytes = bodyBytes * BODY_HEAP_FACTOR;
        if (budgetHeld + bytes > limits.bodyBudgetBytes) return false;
        budgetHeld += bytes;
        reserved += bytes;
        return true;
      };
      if (!streamed) {
        // A declared size is reserved before a byte is read; a chunked body reserves as it arrives.
        if (Number.isSafeInteger(declared) && declared > 0 && !reserve(declared)) {
          releaseAll();
          throw budgetError(limits.bodyBudgetBytes);
        }
      }
      const declaredReserved = reserved / BODY_HEAP_FACTOR;
      let counted = 0;
      let extra = 0;
      const watch: Watch = {
        idleTimeoutMs: limits.uploadIdleTimeoutMs,
        budgetLimit: limits.bodyBudgetBytes,
        // Bytes beyond what was declared (a chunked body, or a lying Content-Length) are reserved as they come.
        reserve: streamed
          ? null
          : (bytes) => {
              counted += bytes;
              const needed = Math.max(0, counted - declaredReserved) - extra;
              if (needed <= 0) return true;
              extra += needed;
              return reserve(needed);
            },
        node,
        res,
        // Without a Node response (in-process fetch) everything goes back when the body ends.
        done: res ? bodySlot : releaseAll,
      };
      const parse = requestParser;
      setRequestParser((req) => {
        const body = watchedBody(req.body as ReadableStream<Uint8Array>, watch);
        return parse(new fetchAPI.Request(req.url, { method: req.method, headers: req.headers, body, duplex: 'half' } as RequestInit));
      });
    },
  };

  return {
    plugin,
    principalOf: (request) => (request ? principals.get(request) : undefined),
    pendingBodies,
    eventStreams,
  };
}
