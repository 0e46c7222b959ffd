// Inline rows (`rows: [JSON!]`) go through the same pipeline as uploads: validated like the elements of a
// JSON array, stored in the same batches. They are already in memory (they came in the request).
import { createHash } from 'node:crypto';
import { EmptyFileError, FileTooLargeError, MalformedFileError } from '../../domain/import-errors.ts';
import type { ImportSettings } from '../../domain/import-settings.ts';
import { storageProblem, validateJsonRow, type ValidatedRow } from '../../domain/row-validation.ts';

const BATCH = 500;

/** Size and fingerprint of inline rows: those of the compact JSON array they form. */
export function inlineFingerprint(rows: readonly unknown[], maxBytes: number): { bytes: number; sha256: string } {
  const json = JSON.stringify(rows);
  const bytes = Buffer.byteLength(json);
  if (bytes > maxBytes) throw new FileTooLargeError(maxBytes);
  return { bytes, sha256: createHash('sha256').update(json).digest('hex') };
}

/** For inline rows, a MalformedFile error's line is the 1-based number of the offending row. */
export async function* inlineRows(
  rows: readonly unknown[],
  limits: Pick<ImportSettings, 'maxDepth'>,
): AsyncGenerator<ValidatedRow[]> {
  if (rows.length === 0) throw new EmptyFileError('No rows were given.');
  for (let start = 0; start < rows.length; start += BATCH) {
    const batch = rows.slice(start, start + BATCH).map((value, offset) => {
      const problem = storageProblem(value, limits.maxDepth);
      if (problem) throw new MalformedFileError(`Row ${start + offset + 1} cannot be stored: ${problem}`, start + offset + 1, 1);
      return validateJsonRow(value);
    });
    yield batch;
  }
}
