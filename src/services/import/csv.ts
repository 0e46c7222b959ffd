// CSV uploads: a header row, then one row per record. Parsed with csv-parse as a stream, so only the
// record being parsed is held in memory.
import { pipeline, Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { EmptyFileError, MalformedFileError } from '../../domain/import-errors.ts';
import type { ImportSettings } from '../../domain/import-settings.ts';
import { validateCsvRecord, type ValidatedRow } from '../../domain/row-validation.ts';
import type { TextChunk } from './text.ts';

type Limits = Pick<ImportSettings, 'maxRowBytes'>;

const BATCH = 500;

function malformed(error: CsvError, limits: Limits): MalformedFileError {
  const context = error as CsvError & { lines?: number; index?: number };
  const messages: Record<string, string> = {
    CSV_QUOTE_NOT_CLOSED: 'Invalid CSV: a quoted field is not closed before the end of the file',
    INVALID_OPENING_QUOTE: 'Invalid CSV: a quote appears inside an unquoted field (quote the whole field and double the inner quotes)',
    CSV_INVALID_CLOSING_QUOTE: 'Invalid CSV: a closing quote is followed by other characters than a delimiter',
    CSV_MAX_RECORD_SIZE: `A row is larger than the limit of ${limits.maxRowBytes} bytes`,
  };
  return new MalformedFileError(
    messages[error.code] ?? `Invalid CSV: ${error.message.replace(/ at line \d+.*$/, '')}`,
    context.lines ?? 1,
    (context.index ?? 0) + 1,
  );
}

export async function* csvRows(chunks: AsyncIterable<TextChunk>, limits: Limits): AsyncGenerator<ValidatedRow[]> {
  const parser = parse({
    // Field counts are checked per row (a ragged row is stored as invalid, not fatal).
    relax_column_count: true,
    skip_empty_lines: false,
    info: true,
    max_record_size: limits.maxRowBytes,
  });
  async function* texts() {
    for await (const chunk of chunks) yield chunk.text;
  }
  // pipeline() carries a failure of the text stage (size, encoding) into the parser, and tears both down
  // when this generator is abandoned.
  pipeline(Readable.from(texts()), parser, () => {});

  let header: string[] | undefined;
  let rows = 0;
  let pending: ValidatedRow[] = [];
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (!header) {
        // Blank lines before the header are skipped; the first non-blank line names the columns.
        if (record.every((field) => field.trim() === '')) continue;
        const seen = new Map<string, number>();
        for (const [index, name] of record.entries()) {
          if (name.trim() === '') {
            throw new MalformedFileError(`Column ${index + 1} of the header row has no name`, info.lines, index + 1);
          }
          if (seen.has(name)) {
            throw new MalformedFileError(
              `The header row names column "${name}" twice (columns ${seen.get(name)! + 1} and ${index + 1})`,
              info.lines,
              index + 1,
            );
          }
          seen.set(name, index);
        }
        header = record;
        continue;
      }
      rows += 1;
      pending.push(validateCsvRecord(header, record));
      if (pending.length >= BATCH) {
        yield pending;
        pending = [];
      }
    }
  } catch (error) {
    if (error instanceof CsvError) throw malformed(error, limits);
    throw error;
  } finally {
    parser.destroy();
  }
  if (pending.length > 0) yield pending;
  if (!header) throw new EmptyFileError('The file is empty.');
  if (rows === 0) throw new EmptyFileError('The file has a header row but no data rows.');
}
