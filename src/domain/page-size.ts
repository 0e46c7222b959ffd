// Connection page sizes: what a connection returns when the client names no size, and the most it
// will return. Asking for more is an error (src/schema/page-size-limit.ts), never a silent clamp.
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;
