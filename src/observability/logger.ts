// Structured logs (pino, JSON lines on stdout). What goes in: request id, tenant, user, operation
// name and type, duration, SQL statement count, error codes. What never goes in: tokens, headers,
// variables, results or any other row data (the request logging plugin only ever passes those fields;
// the redaction list is a second line of defence).
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from '../config.ts';

export type { Logger } from 'pino';

export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'flowgraph' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['authorization', 'token', '*.authorization', '*.token', 'headers', 'variables', 'connectionParams'],
        censor: '[redacted]',
      },
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pino.destination({ fd: 1, sync: false }),
  );
}
