// Cursors of the flow event log. A cursor names a position in the log (a sequence number): "every event
// up to here". It is opaque to clients, so the encoding can change without breaking them, and the same
// cursor works for Query.flowEvents and Subscription.flowEvents.
//
// Two encodings:
// - plain (no key configured): base64 of `FlowEvent:<sequence>`. Readable by anyone who decodes base64:
//   the sequence is global, so a client can watch how many events all tenants together produce, and probe
//   where the log ends with made-up cursors.
// - sealed (FLOWGRAPH_CURSOR_KEY): the sequence encrypted with a key derived from the server's secret, one
//   AES block (8 bytes of sequence, 8 bytes of zeros that authenticate it), base64url. The same sequence
//   always gives the same cursor, so instances sharing the key (and a restarted instance) resume each
//   other's cursors; a client can neither read the sequence nor forge a cursor for another position.
import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto';

const PREFIX = 'FlowEvent:';
const DIGITS = /^(0|[1-9][0-9]{0,18})$/;
const MAX_SEQUENCE = 2n ** 63n - 1n; // bigint column
const BASE64URL_BLOCK = /^[A-Za-z0-9_-]{22}$/;

/**
 * What `decode` answers for a cursor that is a cursor, but not one this server can place in its log: a
 * plain cursor while cursors are sealed (issued before the key was configured), or a sealed one from
 * another key. Below every position, so the log treats it as expired: the client refetches and carries on,
 * and the answer is the same whatever position the cursor names (nothing to learn by probing).
 */
export const UNPLACEABLE_CURSOR = -1n;

export interface FlowEventCursors {
  encode(sequence: bigint): string;
  /** The sequence a cursor names, UNPLACEABLE_CURSOR (see there), or null when the string is not a cursor. */
  decode(cursor: string): bigint | null;
}

export function encodeFlowEventCursor(sequence: bigint): string {
  return Buffer.from(`${PREFIX}${sequence}`, 'utf8').toString('base64');
}

/** The sequence a plain cursor names, or null when the string is not a plain flow event cursor. */
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

/** Plain cursors (no key configured). */
export const plainFlowEventCursors: FlowEventCursors = { encode: encodeFlowEventCursor, decode: decodeFlowEventCursor };

/** Sealed cursors under a key derived from `secret` (FLOWGRAPH_CURSOR_KEY). */
export function sealedFlowEventCursors(secret: string): FlowEventCursors {
  const key = Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), 'flowgraph flow event cursor v1', 32));
  const block = (mode: 'encrypt' | 'decrypt', input: Buffer): Buffer => {
    // ECB of a single block: a deterministic permutation of 128-bit values, which is what a cursor needs
    // (equal positions give equal cursors). There is never more than one block, so nothing repeats.
    const cipher = mode === 'encrypt' ? createCipheriv('aes-256-ecb', key, null) : createDecipheriv('aes-256-ecb', key, null);
    cipher.setAutoPadding(false);
    return Buffer.concat([cipher.update(input), cipher.final()]);
  };
  return {
    encode(sequence) {
      const plain = Buffer.alloc(16);
      plain.writeBigUInt64BE(sequence, 0);
      return block('encrypt', plain).toString('base64url');
    },
    decode(cursor) {
      if (!BASE64URL_BLOCK.test(cursor)) {
        return decodeFlowEventCursor(cursor) === null ? null : UNPLACEABLE_CURSOR;
      }
      const sealed = Buffer.from(cursor, 'base64url');
      if (sealed.length !== 16 || sealed.toString('base64url') !== cursor) return null;
      const plain = block('decrypt', sealed);
      // Another key (or a made-up string of the right shape) decrypts to noise: 2^-64 chance of zeros.
      if (plain.readBigUInt64BE(8) !== 0n) return UNPLACEABLE_CURSOR;
      const sequence = plain.readBigUInt64BE(0);
      return sequence > MAX_SEQUENCE ? UNPLACEABLE_CURSOR : sequence;
    },
  };
}

export function flowEventCursors(secret: string | undefined): FlowEventCursors {
  return secret ? sealedFlowEventCursors(secret) : plainFlowEventCursors;
}
