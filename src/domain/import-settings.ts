// Limits and tuning of the import pipeline (storeImport). Defaults here; src/config.ts reads overrides
// from the environment.
export interface ImportSettings {
  /** Largest upload (or inline rows, serialised as JSON) accepted, in bytes. */
  maxFileBytes: number;
  /** Largest single row, in bytes; bounds the memory one row can take while it is parsed. */
  maxRowBytes: number;
  /** Deepest nesting of arrays and objects accepted inside one JSON row. */
  maxDepth: number;
  /** Rows per INSERT statement. */
  batchRows: number;
  /** How long one import transaction may stay open (large uploads over slow links take minutes). */
  transactionTimeoutMs: number;
  /** Log a progress line every this many stored rows; 0 logs nothing. */
  progressEveryRows: number;
  /**
   * Write an upload to a temporary file before its transaction opens (the embedded database: its one
   * session would otherwise be held, and every reader wait, for as long as the client takes to send).
   */
  spoolUploads?: boolean;
}

export const DEFAULT_IMPORT_SETTINGS: ImportSettings = {
  maxFileBytes: 100 * 1024 * 1024,
  maxRowBytes: 1024 * 1024,
  maxDepth: 64,
  batchRows: 2_000,
  transactionTimeoutMs: 30 * 60 * 1000,
  progressEveryRows: 0,
};
