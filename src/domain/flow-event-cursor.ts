// Cursors of the flow event log. A cursor names a position in the log (a sequence number): "every event
// up to here". It is opaque to clients (base64 of `FlowEvent:<sequence>`), so the encoding can change
// without breaking them, and the same cursor works for Query.flowEvents and Subscription.flowEvents.
const PREFIX = 'FlowEvent:';
const DIGITS = /^(0|[1-9][0-9]{0,18})$/;
const MAX_SEQUENCE = 2n ** 63n - 1n; // bigint column

export function encodeFlowEventCursor(sequence: bigint): string {
  return Buffer.from(`${PREFIX}${sequence}`, 'utf8').toString('base64');
}

/** The sequence a cursor names, or null when the string is not a flow event cursor. */
export function decodeFlowEventCursor(cursor: string): bigint | null {
  if (cursor.length > 64) return null;
  const decoded = Buffer.from(cursor, 'base64').toString('utf8');
  if (!decoded.startsWith(PREFIX)) return null;
  const digits = decoded.slice(PREFIX.length);
  if (!DIGITS.test(digits)) return null;
  const sequence = BigInt(digits);
  if (sequence > MAX_SEQUENCE) return null;
  // Reject strings that only decode to a cursor by base64's leniency (whitespace, missing padding...).
  if (encodeFlowEventCursor(sequence) !== cursor) return null;
  return sequence;
}
