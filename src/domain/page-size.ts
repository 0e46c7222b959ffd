// Connection page sizes: what a connection returns when the client names no size, and the most it
// will ever return. The configured cap (FLOWGRAPH_MAX_PAGE_SIZE, 500 by default) is enforced before
// execution with a clear error (src/graphql/page-size-limit.ts), never by a silent clamp; Pothos'
// own clamp sits at the ceiling the configuration accepts, so it never cuts a page the cap allows.
export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;
/** Highest value FLOWGRAPH_MAX_PAGE_SIZE accepts. */
export const MAX_PAGE_SIZE_CEILING = 10_000;
