// Text PostgreSQL cannot store as it was sent: a NUL (text and jsonb refuse it; the statement fails) and a lone
// UTF-16 surrogate (no UTF-8 encoding; the driver would store U+FFFD in its place). Either is the client's
// mistake, refused before anything is written, never a failed statement masked as an internal error.
const NUL = '\u0000';
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What is wrong with the text, or null when it can be stored as it is. */
export function invalidTextProblem(value: string): string | null {
  if (value.includes(NUL)) return 'contains a NUL character';
  if (LONE_SURROGATE.test(value)) return 'contains an unpaired UTF-16 surrogate';
  return null;
}
