// OpenTelemetry tracing, on when OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set:
// a span for each GraphQL operation (the envelop OpenTelemetry plugin; a child of the caller's span when the
// request carries a W3C traceparent), for each SQL statement it sends, and
// for imports and event log reads (src/observability/tracing-hooks.ts), exported over OTLP/HTTP (JSON) with
// the standard OTEL_EXPORTER_OTLP_* settings. server.ts imports this file only when tracing is on, so without
// it no SDK code is loaded.
import { propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-node';
import { setCurrentOtelContext, useOpenTelemetry } from '@envelop/opentelemetry';
import type { Plugin } from 'graphql-yoga';
import { setSpanRunner } from './tracing-hooks.ts';

export interface Tracing {
  /** The Yoga plugin that opens a span per operation (app.ts places it where SQL spans nest under it). */
  plugin: Plugin;
  /** Exports what is left and stops tracing. */
  shutdown(): Promise<void>;
}

export interface TracingOptions {
  /** Where spans go (default: OTLP over HTTP, configured by the OTEL_EXPORTER_OTLP_* variables). */
  exporter?: SpanExporter;
  /** `batch` (default) exports in the background; `simple` exports each span as it ends (tests). */
  processing?: 'batch' | 'simple';
  serviceName?: string;
}

export function startTracing(options: TracingOptions = {}): Tracing {
  const exporter = options.exporter ?? new OTLPTraceExporter();
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName ?? 'flowgraph' }),
    spanProcessors: [options.processing === 'simple' ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter)],
  });
  // The global provider and an AsyncLocalStorage context manager: a span started inside an operation's
  // execution (a SQL statement) finds the operation's span as its parent.
  provider.register();
  const tracer = provider.getTracer('flowgraph');
  setSpanRunner((name, attributes, fn) =>
    tracer.startActiveSpan(name, { attributes }, async (span) => {
      try {
        return await fn((more) => span.setAttributes(more));
      } catch (error) {
        span.recordException(error as Error);
        span.setStatus({ code: SpanStatusCode.ERROR });
        throw error;
      } finally {
        span.end();
      }
    }),
  );
  // Neither variables nor results are recorded (they hold tenant data), nor a document with inline arguments;
  // no span per resolver (a flow graph page resolves thousands of fields).
  const operations = useOpenTelemetry({ resolvers: false, variables: false, result: false }, provider, SpanKind.SERVER, {}, 'flowgraph') as Plugin;
  // A request carrying a W3C `traceparent` (a traced client or gateway) continues that trace: the operation's
  // span becomes a child of the caller's. Before the plugin above, which reads the context it sets.
  const continueTrace: Plugin = {
    onExecute({ args }) {
      const headers = (args.contextValue as { request?: Request }).request?.headers;
      if (!headers?.has('traceparent')) return;
      setCurrentOtelContext(args.contextValue, propagation.extract(ROOT_CONTEXT, headers, { keys: (carrier) => [...carrier.keys()], get: (carrier, key) => carrier.get(key) ?? undefined }));
    },
  };
  const plugin: Plugin = {
    onPluginInit({ addPlugin }) {
      addPlugin(continueTrace);
      addPlugin(operations);
    },
  };
  return {
    plugin,
    async shutdown() {
      setSpanRunner(null);
      await provider.shutdown();
    },
  };
}
