// The imports this process is storing right now, by tenant and idempotency key, so that the client that
// sent one can follow it while its request is still open (Query.importProgress). An import writes its
// rows in ONE transaction (store-import.ts), so nothing of it is visible in the database before it
// commits; these counts are kept beside that transaction, in memory, and forgotten when it ends. They
// are this process's only: a query that reaches another instance finds the import once it has committed.
import type { Viewer } from '../context.ts';

export interface ImportInFlight {
  idempotencyKey: string;
  filename: string;
  startedAt: Date;
  /** Rows inserted so far (in the open transaction, not committed). */
  rowsStored: number;
  /** Of those, rows stored as invalid. */
  invalidRows: number;
  /** Bytes of the uploaded file read so far; null for inline rows. */
  bytesRead: number | null;
}

export interface TrackedImport {
  /** Records what the import has stored so far. */
  stored(rowsStored: number, invalidRows: number, bytesRead: number | null): void;
  /** Forgets the import (committed or rolled back). */
  end(): void;
}

type Tenant = Pick<Viewer, 'clientAccountId' | 'engagementId'>;

function keyOf(tenant: Tenant, idempotencyKey: string): string {
  return JSON.stringify([tenant.clientAccountId, tenant.engagementId, idempotencyKey]);
}

export class ImportTracker {
  private readonly running = new Map<string, ImportInFlight>();

  /**
   * Tracks an import under its idempotency key, from before its transaction begins. A second request with
   * a key already tracked is not: it will return the first import or an IdempotencyConflict.
   */
  begin(tenant: Tenant, idempotencyKey: string, filename: string): TrackedImport {
    const key = keyOf(tenant, idempotencyKey);
    if (this.running.has(key)) return { stored: () => {}, end: () => {} };
    const entry: ImportInFlight = { idempotencyKey, filename, startedAt: new Date(), rowsStored: 0, invalidRows: 0, bytesRead: null };
    this.running.set(key, entry);
    return {
      stored: (rowsStored, invalidRows, bytesRead) => {
        entry.rowsStored = rowsStored;
        entry.invalidRows = invalidRows;
        entry.bytesRead = bytesRead;
      },
      end: () => {
        this.running.delete(key);
      },
    };
  }

  /** The tenant's import in flight under this key, as a copy; null when there is none in this process. */
  find(tenant: Tenant, idempotencyKey: string): ImportInFlight | null {
    const entry = this.running.get(keyOf(tenant, idempotencyKey));
    return entry ? { ...entry } : null;
  }

  /** How many imports are in flight (for tests and metrics). */
  get size(): number {
    return this.running.size;
  }
}
