// Where flowgraph's own spans are made (SQL statements, imports, event log reads), without importing any
// OpenTelemetry code: until src/observability/tracing.ts installs a span runner (OTEL_EXPORTER_OTLP_ENDPOINT
// set, or a test), every hook is a plain call of the function it wraps, so tracing costs nothing when off.

export type SpanAttributes = Record<string, string | number | boolean>;

/** Runs `fn` inside a span; `annotate` adds attributes known only once the work is done. */
export type SpanRunner = <T>(name: string, attributes: SpanAttributes, fn: (annotate: (attributes: SpanAttributes) => void) => Promise<T>) => Promise<T>;

let runner: SpanRunner | null = null;

export function setSpanRunner(next: SpanRunner | null): void {
  runner = next;
}

const ignore = () => {};

/** A span for a piece of flowgraph's work (an import, a read of the event log), a child of the current one. */
export function workSpan<T>(name: string, attributes: SpanAttributes, fn: (annotate: (attributes: SpanAttributes) => void) => Promise<T>): Promise<T> {
  return runner ? runner(name, attributes, fn) : fn(ignore);
}

/**
 * A span for one SQL statement, named by its first keyword. The statement's text (with placeholders, never
 * its parameters) is the `db.statement` attribute.
 */
export function statementSpan<T>(sql: string | undefined, fn: () => Promise<T>): Promise<T> {
  if (!runner) return fn();
  const text = sql ?? '';
  const operation = /^\s*(?:--[^\n]*\n\s*)*([A-Za-z]+)/.exec(text)?.[1]?.toUpperCase() ?? 'SQL';
  return runner(`sql ${operation}`, { 'db.system': 'postgresql', 'db.operation': operation, 'db.statement': text }, fn);
}

/**
 * Whether the environment asks for traces: an OTLP endpoint (OTEL_EXPORTER_OTLP_ENDPOINT, or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) and not OTEL_SDK_DISABLED=true. The service is OTEL_SERVICE_NAME
 * (default flowgraph).
 */
export function tracingFromEnvironment(env: Record<string, string | undefined>): { serviceName: string } | undefined {
  if (!(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) || env.OTEL_SDK_DISABLED === 'true') return undefined;
  return { serviceName: env.OTEL_SERVICE_NAME || 'flowgraph' };
}
