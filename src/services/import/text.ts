// First stage of the import pipeline: uploaded bytes → UTF-8 text chunks, one chunk at a time (nothing
// holds the whole file). Counts and hashes the raw bytes, enforces the size limit, strips a byte order
// mark, and rejects what PostgreSQL could not store or what is not text at all (invalid UTF-8, NUL), with
// the line and column where it was found.
import { createHash } from 'node:crypto';
import { FileTooLargeError, MalformedFileError } from '../../domain/import-errors.ts';

export interface Position {
  line: number;
  column: number;
}

/** Where a piece of text starts: line and column (1-based), advanced over the text that precedes it. */
export function advance(from: Position, text: string): Position {
  let newlines = 0;
  let last = -1;
  for (let index = text.indexOf('\n'); index !== -1; index = text.indexOf('\n', index + 1)) {
    newlines += 1;
    last = index;
  }
  return newlines === 0
    ? { line: from.line, column: from.column + text.length }
    : { line: from.line + newlines, column: text.length - last };
}

export interface TextChunk {
  text: string;
  /** Position of the chunk's first character in the file. */
  start: Position;
  /** UTF-8 length of the decoded text before this chunk (the byte order mark excluded). */
  byteStart: number;
}

/** Position of a byte offset (into the decoded text, as UTF-8) that falls inside `chunk`, or its start. */
export function positionAt(chunk: TextChunk, byteOffset: number): Position {
  const within = byteOffset - chunk.byteStart;
  if (within <= 0) return chunk.start;
  return advance(chunk.start, Buffer.from(chunk.text).subarray(0, within).toString('utf8'));
}

/** The bytes at the end of `bytes` that begin a UTF-8 sequence the next chunk completes. */
function incompleteTail(bytes: Uint8Array): Uint8Array {
  for (let back = 1; back <= Math.min(3, bytes.length); back += 1) {
    const byte = bytes[bytes.length - back]!;
    if ((byte & 0xc0) === 0x80) continue;
    const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return length > back ? bytes.slice(bytes.length - back) : new Uint8Array();
  }
  return new Uint8Array();
}

/** Offset of the first byte that cannot start or continue a UTF-8 sequence, or -1. */
function invalidUtf8Offset(bytes: Uint8Array, final: boolean): number {
  let index = 0;
  while (index < bytes.length) {
    const lead = bytes[index]!;
    if (lead < 0x80) {
      index += 1;
      continue;
    }
    const length = lead >= 0xc2 && lead <= 0xdf ? 2 : lead >= 0xe0 && lead <= 0xef ? 3 : lead >= 0xf0 && lead <= 0xf4 ? 4 : 0;
    if (length === 0) return index;
    if (index + length > bytes.length) return final ? index : -1;
    const second = bytes[index + 1]!;
    if (
      (lead === 0xe0 && second < 0xa0) ||
      (lead === 0xed && second > 0x9f) ||
      (lead === 0xf0 && second < 0x90) ||
      (lead === 0xf4 && second > 0x8f)
    ) {
      return index;
    }
    for (let offset = 1; offset < length; offset += 1) {
      if ((bytes[index + offset]! & 0xc0) !== 0x80) return index;
    }
    index += length;
  }
  return -1;
}

export interface DecodedUpload {
  chunks: AsyncGenerator<TextChunk>;
  /** Filled in as the chunks are read; final once they are exhausted. */
  stats: { bytes: number; byteOrderMark: boolean; sha256(): string; sawText: boolean };
}

/** `open` is called when the first chunk is asked for, so an upload that is never read stays unread. */
export function decodeUpload(open: () => AsyncIterable<Uint8Array>, maxBytes: number): DecodedUpload {
  const hash = createHash('sha256');
  let digest: string | undefined;
  const stats = {
    bytes: 0,
    byteOrderMark: false,
    sawText: false,
    sha256: () => (digest ??= hash.digest('hex')),
  };

  async function* chunks(): AsyncGenerator<TextChunk> {
    const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
    let position: Position = { line: 1, column: 1 };
    let byteStart = 0;
    let first = true;

    const emit = (text: string): TextChunk | null => {
      if (first && text.length > 0) {
        first = false;
        if (text.charCodeAt(0) === 0xfeff) {
          stats.byteOrderMark = true;
          text = text.slice(1);
        }
      }
      if (text.length === 0) return null;
      const nul = text.indexOf('\u0000');
      if (nul !== -1) {
        const at = advance(position, text.slice(0, nul));
        throw new MalformedFileError('The file contains a NUL character, which is not text', at.line, at.column);
      }
      if (!stats.sawText && /\S/.test(text)) stats.sawText = true;
      const chunk = { text, start: position, byteStart };
      position = advance(position, text);
      byteStart += Buffer.byteLength(text);
      return chunk;
    };

    // The start of a character split across chunks: the decoder holds it, and an error report needs it.
    let carried: Uint8Array = new Uint8Array();
    const notUtf8 = (chunk: Uint8Array, final: boolean): never => {
      const bytes = new Uint8Array(carried.length + chunk.length);
      bytes.set(carried);
      bytes.set(chunk, carried.length);
      const offset = invalidUtf8Offset(bytes, final);
      const valid = new TextDecoder('utf-8').decode(bytes.subarray(0, offset === -1 ? bytes.length : offset));
      const at = advance(position, valid);
      const shown = offset === -1 ? 'an incomplete character at the end' : `byte 0x${bytes[offset]!.toString(16).padStart(2, '0')}`;
      throw new MalformedFileError(`The file is not UTF-8 text (${shown})`, at.line, at.column);
    };

    for await (const bytes of open()) {
      stats.bytes += bytes.length;
      if (stats.bytes > maxBytes) throw new FileTooLargeError(maxBytes);
      hash.update(bytes);
      let text: string;
      try {
        // ignoreBOM keeps a leading U+FEFF in the text, so emit() can record that the file had one.
        text = decoder.decode(bytes, { stream: true });
      } catch {
        notUtf8(bytes, false);
      }
      carried = incompleteTail(bytes.length >= 3 ? bytes : new Uint8Array([...carried, ...bytes]));
      const chunk = emit(text!);
      if (chunk) yield chunk;
    }
    let tail: string;
    try {
      tail = decoder.decode();
    } catch {
      notUtf8(new Uint8Array(), true);
    }
    const chunk = emit(tail!);
    if (chunk) yield chunk;
  }

  return { chunks: chunks(), stats };
}
