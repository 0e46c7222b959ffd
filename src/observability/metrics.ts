// Prometheus metrics (prom-client), served at /metrics: operation latency and outcome, error codes,
// active subscriptions, subscription events delivered, imported rows, and the process defaults
// (memory, CPU, event-loop lag). One registry per app, so tests can run several apps in one process.
// Labels are bounded and chosen by the server only: operation names are chosen by clients (any tenant
// could read the others' from /metrics, and fill the series), so they are not a label, and tenants never
// are; error codes are the server's own, bounded all the same.
import { timingSafeEqual } from 'node:crypto';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Plugin } from 'graphql-yoga';

export const METRICS_PATH = '/metrics';

const MAX_LABEL_VALUES = 200;

export interface Metrics {
  registry: Registry;
  /** Seconds per query or mutation, by type and outcome (ok | error). */
  operationDuration: Histogram<'operation_type' | 'outcome'>;
  /** Errors sent to clients, by `extensions.code` (INTERNAL_SERVER_ERROR for masked ones). */
  errors: Counter<'code'>;
  /** HTTP responses, by status code. */
  httpResponses: Counter<'status'>;
  /** Subscriptions running now, over graphql-ws and SSE. */
  activeSubscriptions: Gauge;
  /**
   * Events delivered to subscribers, by how: `pushed` (straight to a graphql-ws socket, src/context.ts
   * SubscriptionOutlet) or `iterated` (through the operation's iterator chain: SSE, replays, other streams).
   */
  eventsDelivered: Counter<'delivery'>;
  /**
   * Where eventsDelivered is counted: plain tallies, read into the counter when it is collected. An event
   * is delivered once per subscriber, and a prom-client increment (a label lookup) on each delivery was a
   * measurable part of the fan-out's cost (bench/RESULTS.md).
   */
  eventDeliveries: Record<'pushed' | 'iterated', number>;
  /** Raw import records stored by imports (the import service adds to it). */
  importRows: Counter;
  /**
   * Queries by how they were answered: `compiled` (one SQL statement, src/graphql/compiled-reads/),
   * `resolvers` (outside what the compiler covers), `fallback` (compiled, but the statement or a value
   * failed, so the resolvers answered).
   */
  queryPaths: Counter<'path'>;
  /** Keeps a client-chosen label value from growing the series count without bound. */
  boundedLabel(kind: string, value: string): string;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'flowgraph_' });
  const seen = new Map<string, Set<string>>();
  const deliveries = { pushed: 0, iterated: 0 };
  const collected = { pushed: 0, iterated: 0 };
  return {
    registry,
    operationDuration: new Histogram({
      name: 'flowgraph_operation_duration_seconds',
      help: 'Time to execute a GraphQL query or mutation.',
      labelNames: ['operation_type', 'outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    errors: new Counter({
      name: 'flowgraph_errors_total',
      help: 'GraphQL errors sent to clients, by code.',
      labelNames: ['code'],
      registers: [registry],
    }),
    httpResponses: new Counter({
      name: 'flowgraph_http_responses_total',
      help: 'HTTP responses of the GraphQL endpoint, by status.',
      labelNames: ['status'],
      registers: [registry],
    }),
    activeSubscriptions: new Gauge({
      name: 'flowgraph_active_subscriptions',
      help: 'Subscriptions running now (graphql-ws and SSE).',
      registers: [registry],
    }),
    eventsDelivered: new Counter({
      name: 'flowgraph_subscription_events_delivered_total',
      help: 'Events delivered to subscribers, by how: pushed to a graphql-ws socket, or iterated (SSE, replays, other streams).',
      labelNames: ['delivery'],
      registers: [registry],
      collect() {
        for (const delivery of ['pushed', 'iterated'] as const) {
          const delta = deliveries[delivery] - collected[delivery];
          collected[delivery] = deliveries[delivery];
          // Zero too: both series exist from the start, so that a rate over them is defined.
          this.inc({ delivery }, delta);
        }
      },
    }),
    eventDeliveries: deliveries,
    importRows: new Counter({
      name: 'flowgraph_import_rows_total',
      help: 'Raw import records stored by imports.',
      registers: [registry],
    }),
    queryPaths: new Counter({
      name: 'flowgraph_query_paths_total',
      help: 'Queries by how they were answered: compiled (one SQL statement), resolvers, or fallback.',
      labelNames: ['path'],
      registers: [registry],
    }),
    boundedLabel(kind, value) {
      let values = seen.get(kind);
      if (!values) seen.set(kind, (values = new Set()));
      if (values.has(value)) return value;
      if (values.size >= MAX_LABEL_VALUES) return 'other';
      values.add(value);
      return value;
    },
  };
}

/** Whether `header` is `Bearer <token>`, compared in constant time. */
function bearerMatches(header: string | null, token: string): boolean {
  const expected = Buffer.from(`Bearer ${token}`);
  const given = Buffer.from(header ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Serves the registry at /metrics, in Prometheus' text format; with a token, only to requests that carry it
 * as a bearer token (Prometheus: `authorization: { credentials: … }` in the scrape config).
 */
export function useMetricsEndpoint(metrics: Metrics, token?: string): Plugin {
  return {
    onRequest({ url, request, endResponse, fetchAPI }) {
      if (url.pathname !== METRICS_PATH) return;
      if (token !== undefined && !bearerMatches(request.headers.get('authorization'), token)) {
        endResponse(
          new fetchAPI.Response('metrics need the bearer token of FLOWGRAPH_METRICS_TOKEN\n', {
            status: 401,
            headers: { 'content-type': 'text/plain', 'www-authenticate': 'Bearer realm="metrics"' },
          }),
        );
        return;
      }
      return metrics.registry.metrics().then((body) => {
        endResponse(new fetchAPI.Response(body, { status: 200, headers: { 'content-type': metrics.registry.contentType } }));
      });
    },
  };
}
