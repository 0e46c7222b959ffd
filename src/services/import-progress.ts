// The imports this process is storing right now, by tenant and idempotency key, so that the client that
// sent one can follow it while its request is still open (Query.importProgress). An import writes its
// rows in ONE transaction (store-import.ts), so nothing of it is visible in the database before it
// commits; these counts are kept beside that transaction, in memory, and forgotten when it ends. They
// are this process's only: a query that reaches another instance finds the import once it has committed.
import type { Viewer } from '../context.ts';

/**
 * RECEIVING: the upload is still arriving and is written to a temporary file first (the embedded database,
 * store-import.ts `spooled`), so nothing is stored yet; STORING: the transaction stores its rows.
 */
export const IMPORT_STAGES = ['receiving', 'storing'] as const;
export type ImportStage = (typeof IMPORT_STAGES)[number];

export interface ImportInFlight {
  idempotencyKey: string;
  filename: string;
  startedAt: Date;
  stage: ImportStage;
  /** Rows inserted so far (in the open transaction, not committed). */
  rowsStored: number;
  /** Of those, rows stored as invalid. */
  invalidRows: number;
  /**
   * Bytes of the uploaded file read so far; null for inline rows. While RECEIVING the bytes received, while
   * STORING the bytes parsed (of the temporary file, when the upload was received into one).
   */
  bytesRead: number | null;
}

export interface TrackedImport {
  /** Records how much of the upload has been received (stage RECEIVING). */
  received(bytesRead: number): void;
  /** The transaction has opened: rows are stored from now on (stage STORING). */
  storing(bytesRead: number | null): void;
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
    if (this.running.has(key)) return { received: () => {}, storing: () => {}, stored: () => {}, end: () => {} };
    const entry: ImportInFlight = {
      idempotencyKey,
      filename,
      startedAt: new Date(),
      stage: 'storing',
      rowsStored: 0,
      invalidRows: 0,
      bytesRead: null,
    };
    this.running.set(key, entry);
    return {
      received: (bytesRead) => {
        entry.stage = 'receiving';
        entry.bytesRead = bytesRead;
      },
      storing: (bytesRead) => {
        entry.stage = 'storing';
        entry.rowsStored = 0;
        entry.invalidRows = 0;
        entry.bytesRead = bytesRead;
      },
      stored: (rowsStored, invalidRows, bytesRead) => {
        entry.stage = 'storing';
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
