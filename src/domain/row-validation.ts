// Basic validation of imported rows. A row that fails it is still stored, exactly as parsed, with
// is_valid = false and the reasons in validation_errors; only values PostgreSQL cannot store at all
// (storageProblem) make the whole import fail.

export type RowErrorCode = 'NOT_AN_OBJECT' | 'EMPTY_ROW' | 'FIELD_COUNT';

export interface RowError {
  code: RowErrorCode;
  message: string;
}

export interface ValidatedRow {
  rawData: unknown;
  errors: RowError[];
}

function isBlank(value: unknown): boolean {
  return value === null || value === '';
}

/**
 * A CSV record against its header. A record with as many fields as the header becomes an object keyed by
 * the header; any other record keeps its fields as an array, so nothing the file held is lost.
 */
export function validateCsvRecord(header: readonly string[], fields: readonly string[]): ValidatedRow {
  const matches = fields.length === header.length;
  const rawData = matches ? Object.fromEntries(header.map((name, index) => [name, fields[index]!])) : [...fields];
  if (fields.every(isBlank)) return { rawData, errors: [{ code: 'EMPTY_ROW', message: 'The row is empty.' }] };
  if (!matches) {
    return {
      rawData,
      errors: [
        {
          code: 'FIELD_COUNT',
          message: `The row has ${fields.length} field${fields.length === 1 ? '' : 's'}; the header has ${header.length}.`,
        },
      ],
    };
  }
  return { rawData, errors: [] };
}

/** A JSON row (an element of the uploaded array, or one inline row). */
export function validateJsonRow(value: unknown): ValidatedRow {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    return { rawData: value, errors: [{ code: 'NOT_AN_OBJECT', message: `The row is ${kind}, not an object.` }] };
  }
  if (Object.values(value).every(isBlank)) {
    return { rawData: value, errors: [{ code: 'EMPTY_ROW', message: 'The row is empty.' }] };
  }
  return { rawData: value, errors: [] };
}

// A lone UTF-16 surrogate: JavaScript strings may hold one (from a JSON "\ud800" escape), jsonb refuses it.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function stringProblem(text: string): string | null {
  if (text.includes('\u0000')) return 'contains a NUL character (\\u0000), which PostgreSQL cannot store';
  if (LONE_SURROGATE.test(text)) return 'contains an unpaired UTF-16 surrogate escape, which is not a character';
  return null;
}

/**
 * Why `value` cannot be stored in a jsonb column as it is, or null when it can. Walks the value with an
 * explicit stack, so a deeply nested value cannot overflow the call stack.
 */
export function storageProblem(value: unknown, maxDepth: number): string | null {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!;
    if (typeof current === 'string') {
      const problem = stringProblem(current);
      if (problem) return `a value ${problem}`;
    } else if (typeof current === 'number') {
      if (!Number.isFinite(current)) return 'a number is outside the range a JSON number can hold';
    } else if (typeof current === 'object' && current !== null) {
      if (depth >= maxDepth) return `values are nested deeper than ${maxDepth} levels`;
      if (Array.isArray(current)) {
        for (const item of current) stack.push({ value: item, depth: depth + 1 });
      } else {
        for (const [key, item] of Object.entries(current)) {
          const problem = stringProblem(key);
          if (problem) return `a key ${problem}`;
          stack.push({ value: item, depth: depth + 1 });
        }
      }
    } else if (current !== null && typeof current !== 'boolean') {
      return `a value of type ${typeof current} is not JSON`;
    }
  }
  return null;
}
