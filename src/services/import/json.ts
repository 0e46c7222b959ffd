// JSON uploads: the file must be one top-level array; each element is a row. Parsed with
// @streamparser/json one text chunk at a time, so only the row being parsed is held in memory.
import { Tokenizer, TokenParser, TokenType, type ParsedTokenInfo } from '@streamparser/json';
import { EmptyFileError, MalformedFileError } from '../../domain/import-errors.ts';
import type { ImportSettings } from '../../domain/import-settings.ts';
import { storageProblem, validateJsonRow, type ValidatedRow } from '../../domain/row-validation.ts';
import { positionAt, type TextChunk } from './text.ts';

type Limits = Pick<ImportSettings, 'maxRowBytes' | 'maxDepth'>;

/** The library's messages carry offsets in bytes; ours say line and column instead. */
function describe(message: string): string {
  const unexpected = /^Unexpected (?:[A-Z_]+ \()?("(?:[^"]|\\")*"|"""|".")\)?/.exec(message);
  if (unexpected) return `Invalid JSON: unexpected ${unexpected[1]}`;
  return 'Invalid JSON';
}

export async function* jsonRows(chunks: AsyncIterable<TextChunk>, limits: Limits): AsyncGenerator<ValidatedRow[]> {
  const tokenizer = new Tokenizer();
  const parser = new TokenParser({ paths: ['$.*'], keepStack: false });
  let current: TextChunk | undefined;
  let failure: MalformedFileError | undefined;
  let sawToken = false;
  let depth = 0;
  let lastTokenOffset = 0;
  let fedBytes = 0;
  let lastRowEnd = 0;
  let rows = 0;
  let pending: ValidatedRow[] = [];

  const fail = (message: string, byteOffset: number) => {
    if (failure) return;
    const at = current ? positionAt(current, byteOffset) : { line: 1, column: 1 };
    failure = new MalformedFileError(message, at.line, at.column);
  };

  tokenizer.onToken = (info: ParsedTokenInfo) => {
    if (failure) return;
    lastTokenOffset = info.offset;
    if (!sawToken) {
      sawToken = true;
      if (info.token !== TokenType.LEFT_BRACKET) {
        fail('A JSON upload must be an array of objects; this one does not start with "["', info.offset);
        return;
      }
    }
    if (parser.isEnded) {
      fail('Unexpected content after the end of the JSON array', info.offset);
      return;
    }
    if (info.token === TokenType.LEFT_BRACE || info.token === TokenType.LEFT_BRACKET) {
      depth += 1;
      // Rejected here, before the parser builds the value: its assembly is recursive.
      if (depth > limits.maxDepth + 1) {
        fail(`A row is nested deeper than ${limits.maxDepth} levels`, info.offset);
        return;
      }
    } else if (info.token === TokenType.RIGHT_BRACE || info.token === TokenType.RIGHT_BRACKET) {
      depth -= 1;
    }
    parser.write(info);
  };
  tokenizer.onError = (error: Error) => {
    const offset = /absolute position "(\d+)"/.exec(error.message);
    fail(describe(error.message), offset ? Number(offset[1]) : lastTokenOffset);
  };
  parser.onError = (error: Error) => fail(describe(error.message), lastTokenOffset);
  parser.onValue = ({ value }) => {
    if (failure) return;
    rows += 1;
    lastRowEnd = lastTokenOffset;
    const problem = storageProblem(value, limits.maxDepth);
    if (problem) {
      fail(`Row ${rows} cannot be stored: ${problem}`, lastTokenOffset);
      return;
    }
    pending.push(validateJsonRow(value));
  };

  for await (const chunk of chunks) {
    current = chunk;
    tokenizer.write(chunk.text);
    fedBytes = chunk.byteStart + Buffer.byteLength(chunk.text);
    if (!failure && fedBytes - lastRowEnd > limits.maxRowBytes + 1) {
      fail(`A row is larger than the limit of ${limits.maxRowBytes} bytes`, fedBytes);
    }
    if (failure) throw failure;
    if (pending.length > 0) {
      yield pending;
      pending = [];
    }
  }
  if (!sawToken) throw new EmptyFileError('The file is empty.');
  if (!parser.isEnded) {
    fail('The JSON array is not closed: the file ends in the middle of it', fedBytes);
    throw failure!;
  }
  if (!tokenizer.isEnded) tokenizer.end();
  if (failure) throw failure;
  if (rows === 0) throw new EmptyFileError('The JSON array is empty: there are no rows to import.');
}
