// Yoga keeps parsed documents (and the parse errors of invalid ones) in LRU caches of 1,000 entries each, keyed
// by the document's text. A document's text is bounded only by the body limit (a string literal is one token),
// and what hangs off a cached document (its validation, graphql-jit's compiled code, the walks of the limit
// plugins) took ~110-130 KB of heap for a 1.3 KB query: 1,000 of them, or 1,000 invalid 4 MiB documents kept as
// keys, are more than a 256 MiB heap holds. These caches are bounded in estimated bytes instead (issue 16).
// Written here because Yoga's own cache (lru-cache underneath) is bounded by count only as Yoga creates it.

/** A least-recently-used cache bounded by the estimated heap its entries take (the `get`/`set` Yoga expects). */
export class ByteBoundedCache<T> {
  private readonly entries = new Map<string, { value: T; bytes: number }>();
  private total = 0;

  constructor(
    readonly maxBytes: number,
    /** The heap one entry is taken to hold, from its key (the document's text). */
    private readonly estimate: (key: string) => number,
  ) {}

  get bytes(): number {
    return this.total;
  }

  get(key: string): T | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: T): void {
    const bytes = this.estimate(key);
    const known = this.entries.get(key);
    if (known) {
      this.entries.delete(key);
      this.total -= known.bytes;
    }
    // An entry that would take a large share of the budget is not kept: it is parsed again when it comes back.
    if (bytes > this.maxBytes / 8) return;
    this.entries.set(key, { value, bytes });
    this.total += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.total <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.total -= entry.bytes;
    }
  }
}

/** Heap a cached document is taken to hold per character of its text, and at least. */
const DOCUMENT_BYTES_PER_CHAR = 64;
const DOCUMENT_BYTES_FIXED = 16 * 1024;

export function documentCaches<Document, Failure>(maxBytes: number) {
  return {
    documentCache: new ByteBoundedCache<Document>(maxBytes, (text) => DOCUMENT_BYTES_FIXED + DOCUMENT_BYTES_PER_CHAR * text.length),
    // A parse error keeps its message and the text as the key.
    errorCache: new ByteBoundedCache<Failure>(maxBytes / 4, (text) => 1_024 + 2 * text.length),
  };
}
