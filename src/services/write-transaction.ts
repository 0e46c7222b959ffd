// Every write runs in one interactive transaction through runWrite(), which names who writes (the event log's
// actor) and turns the database errors a client can provoke into typed errors instead of masked ones.
//
// flowgraph appends no events itself: the triggers of the flow tables do, for every writer (migration
// 20261202000000_flow_event_triggers). What they cannot know is which flowgraph user made the change, so the
// first statement of every write transaction puts it in the transaction-local setting flowgraph.actor, which
// they record. A setting local to the transaction also works through a pooler in transaction mode.
import { AsyncLocalStorage } from 'node:async_hooks';
import { FlowNotFoundError } from '../domain/flow-errors.ts';
import { InvalidInputError } from '../domain/import-errors.ts';
import { Prisma, type PrismaClient } from '../generated/prisma/client.ts';

export interface WriteOptions {
  /** Who makes the change (a user id), recorded as the actor of the events the change appends. */
  actor: string;
  /** How long the transaction may stay open. */
  timeoutMs?: number;
  /**
   * How long to wait for the transaction to start. On PGlite (one session) a write queues behind any open
   * transaction, an import included, so the default waits as long as an import may take.
   */
  maxWaitMs?: number;
  /** The master flow the write is about, named in a "not found" error when it vanished meanwhile. */
  flowId?: string;
}

export const DEFAULT_WRITE_TIMEOUT_MS = 30_000;

/**
 * A write given up because the server is shutting down and its grace period ended: its transaction was rolled
 * back, so nothing of it is stored and the client may send it again (it gets a retryable SHUTTING_DOWN).
 */
export class WriteAbortedError extends Error {
  override name = 'WriteAbortedError';
  constructor() {
    super('the write was rolled back: the server is shutting down');
  }
}

/**
 * The signal that tells the writes of the operation running now to give up (src/http/drain.ts sets it per
 * operation). Carried implicitly so that every service's writes obey it without each passing it on.
 */
const abortScope = new AsyncLocalStorage<AbortSignal>();

export function withWriteAbort<T>(signal: AbortSignal, work: () => T): T {
  return abortScope.run(signal, work);
}

/**
 * The signal of the operation running now, for work that is part of a write but happens before its
 * transaction opens (an upload being received, store-import.ts): it must give up when the write would.
 */
export function writeAbortSignal(): AbortSignal | undefined {
  return abortScope.getStore();
}

/** `work`, or a WriteAbortedError as soon as `signal` aborts (work then ends on its own, unobserved). */
function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  work.catch(() => {});
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(new WriteAbortedError());
    signal.addEventListener('abort', abort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort));
  });
}

/** The PostgreSQL error behind a Prisma error, whether it came from a model query or a raw one. */
function sqlState(error: Prisma.PrismaClientKnownRequestError): string | undefined {
  const meta = error.meta as { code?: unknown; driverAdapterError?: { cause?: { originalCode?: unknown; kind?: unknown } } } | undefined;
  const cause = meta?.driverAdapterError?.cause;
  if (typeof cause?.originalCode === 'string') return cause.originalCode;
  if (cause?.kind === 'ForeignKeyConstraintViolation') return '23503';
  if (cause?.kind === 'NullConstraintViolation') return '23502';
  if (typeof meta?.code === 'string') return meta.code;
  return undefined;
}

function nullColumn(error: Prisma.PrismaClientKnownRequestError): string {
  const meta = error.meta as { driverAdapterError?: { cause?: { constraint?: { fields?: string[] } } } } | undefined;
  return meta?.driverAdapterError?.cause?.constraint?.fields?.[0] ?? /column "([^"]+)"/.exec(error.message)?.[1] ?? 'a field';
}

/**
 * The typed error for a database error a client can cause, or null for anything else (which stays masked).
 * A foreign-key violation means a row the write refers to is gone: in flowgraph that is always a master flow
 * (or its import) deleted by a concurrent request, so the client hears "not found", as if it had come later.
 */
export function clientCausedError(error: unknown, flowId: string | undefined): Error | null {
  if (!(error instanceof Prisma.PrismaClientKnownRequestError)) return null;
  const state = error.code === 'P2003' ? '23503' : error.code === 'P2011' ? '23502' : sqlState(error);
  if (state === '23503') return new FlowNotFoundError(flowId ?? null);
  if (state === '23502') return new InvalidInputError(nullColumn(error), `A value is required for ${nullColumn(error)}.`);
  return null;
}

export async function runWrite<T>(
  prisma: PrismaClient,
  work: (tx: Prisma.TransactionClient) => Promise<T>,
  options: WriteOptions,
): Promise<T> {
  const timeout = options.timeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS;
  const signal = abortScope.getStore();
  if (signal?.aborted) throw new WriteAbortedError();
  // When the signal aborts, the callback rejects at once and Prisma rolls the transaction back; the work's
  // next statement then fails on the closed transaction and is not observed.
  const guarded = signal
    ? (tx: Prisma.TransactionClient) => (signal.aborted ? Promise.reject(new WriteAbortedError()) : abortable(work(tx), signal))
    : work;
  try {
    return await prisma.$transaction(
      async (tx) => {
        await nameActor(tx, options.actor);
        return guarded(tx);
      },
      { timeout, maxWait: options.maxWaitMs ?? Math.max(timeout, 30 * 60 * 1000) },
    );
  } catch (error) {
    if (signal?.aborted && !(error instanceof WriteAbortedError)) {
      // A statement cut short by the rollback fails in its own way; what the client must hear is why.
      if (!clientCausedError(error, options.flowId)) throw new WriteAbortedError();
    }
    throw clientCausedError(error, options.flowId) ?? error;
  }
}

/** Names the actor of the events this transaction's changes append (see the header). */
export async function nameActor(tx: Prisma.TransactionClient, actor: string): Promise<void> {
  await tx.$queryRaw`SELECT set_config('flowgraph.actor', ${actor}, true)`;
}
