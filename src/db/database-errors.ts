// Recognises the failures that are the database's, not the request's: the server is unreachable or
// restarting, the connection dropped, the pool is exhausted, or a statement hit statement_timeout.
// Clients get a retryable error for these instead of a generic internal one (src/graphql/error-masking.ts).
// Prisma wraps driver errors a few levels deep (meta.driverAdapterError.cause); pg's own errors
// (used by the raw SQL session) are plain Errors with a SQLSTATE or a socket error code.

export type DatabaseFailure = 'unavailable' | 'statement_timeout' | 'invalid_value';

/**
 * SQLSTATEs raised when a value cannot be stored or compared as its column's type (text that is not a
 * uuid, a number out of range, a string too long, an impossible date). Values come from requests, so
 * these are the request's fault, not the server's.
 */
const INVALID_VALUE_CODES = new Set(['22P02', '22003', '22001', '22007', '22008', '22021', '22023', '2200H']);
const INVALID_VALUE_KINDS = new Set(['InvalidInputValue', 'ValueOutOfRange', 'LengthMismatch']);

/** Driver adapter error kinds that mean "no usable connection". */
const UNAVAILABLE_KINDS = new Set([
  'DatabaseNotReachable',
  'ConnectionClosed',
  'SocketTimeout',
  'TooManyConnections',
  'DatabaseDoesNotExist',
  'TlsConnectionError',
]);

/** Prisma error codes that mean the same. */
const UNAVAILABLE_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);

const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

function classifyOne(value: Record<string, unknown>): DatabaseFailure | null {
  const code = typeof value.code === 'string' ? value.code : typeof value.originalCode === 'string' ? value.originalCode : undefined;
  if (code === '57014') return 'statement_timeout';
  if (code && INVALID_VALUE_CODES.has(code)) return 'invalid_value';
  if (typeof value.kind === 'string' && INVALID_VALUE_KINDS.has(value.kind)) return 'invalid_value';
  if (code && (code.startsWith('08') || code.startsWith('57P') || code === '53300' || code === '55000' || code === '3D000')) return 'unavailable';
  if (code && (UNAVAILABLE_PRISMA_CODES.has(code) || SOCKET_CODES.has(code))) return 'unavailable';
  if (typeof value.kind === 'string' && UNAVAILABLE_KINDS.has(value.kind)) return 'unavailable';
  const message = typeof value.message === 'string' ? value.message : '';
  if (/timeout exceeded when trying to connect|Connection terminated|not queryable|Can't reach database server/i.test(message)) {
    return 'unavailable';
  }
  return null;
}

export function classifyDatabaseError(error: unknown): DatabaseFailure | null {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length > 0) {
    const value = pending.shift();
    if (!value || typeof value !== 'object' || seen.has(value) || seen.size > 20) continue;
    seen.add(value);
    const record = value as Record<string, unknown>;
    const failure = classifyOne(record);
    if (failure) return failure;
    const meta = record.meta as Record<string, unknown> | undefined;
    pending.push(record.cause, record.originalError, meta?.driverAdapterError);
  }
  return null;
}
