// Per-principal and per-process caps on what stays open: graphql-ws sockets and operations, SSE streams,
// request bodies being received. One client (one token) must not be able to hold what every tenant needs,
// and all clients together must not hold more than the heap can carry (the per-process defaults are
// derived from it in src/config.ts). A slot is taken when the thing opens and given back exactly once,
// whichever way it ends.
import { GraphQLError } from 'graphql';
import type { Viewer } from '../context.ts';

/** Which bound refused a slot. */
export type CapScope = 'user' | 'process';

/** A held slot; releasing twice is harmless. */
export type Release = () => void;

/** The key a principal's slots are counted under: the user within its tenant. */
export function principalKey(viewer: Pick<Viewer, 'clientAccountId' | 'engagementId' | 'userId'>): string {
  return `${viewer.clientAccountId}\u0000${viewer.engagementId}\u0000${viewer.userId}`;
}

export class Cap {
  private readonly byKey = new Map<string, number>();
  private total = 0;

  constructor(
    readonly perKey: number,
    readonly perProcess: number,
  ) {}

  /** Slots held now, in all (for tests and metrics). */
  get size(): number {
    return this.total;
  }

  heldBy(key: string): number {
    return this.byKey.get(key) ?? 0;
  }

  /** A slot for `key` (omit it for a process-wide slot only), or the scope that refused it. */
  acquire(key?: string): Release | CapScope {
    if (this.total >= this.perProcess) return 'process';
    const held = key === undefined ? 0 : (this.byKey.get(key) ?? 0);
    if (key !== undefined && held >= this.perKey) return 'user';
    this.total += 1;
    if (key !== undefined) this.byKey.set(key, held + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total -= 1;
      if (key === undefined) return;
      const left = (this.byKey.get(key) ?? 1) - 1;
      if (left <= 0) this.byKey.delete(key);
      else this.byKey.set(key, left);
    };
  }
}

/** Seconds a refused client is told to wait (the `Retry-After` header). */
export const CAP_RETRY_AFTER_SECONDS = 5;

/**
 * The HTTP error for a refused slot: 429 when the caller holds too many itself (it can close one), 503 when
 * the process is full (another instance, or this one later, can serve it). Both with Retry-After, and the
 * connection closed, so that a body nobody will read is not received either.
 */
export function capError(what: string, code: string, scope: CapScope, limit: number): GraphQLError {
  const message =
    scope === 'user'
      ? `You have ${limit} ${what} open already, the most one user may have; close one first.`
      : `This server has ${limit} ${what} open, the most it holds at once; try again shortly.`;
  return new GraphQLError(message, {
    extensions: {
      code,
      scope,
      limit,
      retryable: true,
      http: {
        status: scope === 'user' ? 429 : 503,
        headers: { 'retry-after': String(CAP_RETRY_AFTER_SECONDS), connection: 'close' },
      },
    },
  });
}
