// One log line per GraphQL operation (both transports) and one per HTTP request, with the fields an
// operator needs to follow a request (request id, tenant, user, operation, duration, SQL statement
// count, error codes) and nothing a client sent or a row holds. Metrics are fed from the same places.
import { randomUUID } from 'node:crypto';
import { getOperationAST, type ExecutionResult, type GraphQLError } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { GraphQLContext } from '../context.ts';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';

export const REQUEST_ID_HEADER = 'x-request-id';

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

interface RequestRecord {
  requestId: string;
  startedAt: number;
  errorCodes: string[];
  /** Whether an operation of this request reached execution (and counted its own errors). */
  executed: boolean;
}

const records = new WeakMap<Request, RequestRecord>();

/** The request id of an HTTP request (the client's own, when it sent a sane one). */
export function requestIdOf(request: Request | undefined): string {
  return (request && records.get(request)?.requestId) ?? randomUUID();
}

/** The codes of errors as a client receives them; errors without one were masked as internal. */
export function errorCodes(errors: readonly unknown[] | undefined): string[] {
  return (errors ?? []).map((error) => {
    const extensions = (error as Partial<GraphQLError>).extensions;
    const code = extensions?.code;
    if (typeof code === 'string') return code;
    return (error as Partial<GraphQLError>).originalError ? 'INTERNAL_SERVER_ERROR' : 'GRAPHQL_ERROR';
  });
}

function markExecuted(ctx: unknown): void {
  const request = (ctx as { request?: Request }).request;
  const record = request && records.get(request);
  if (record) record.executed = true;
}

function tenantFields(ctx: Partial<GraphQLContext>) {
  return ctx.viewer
    ? { tenant: { clientAccountId: ctx.viewer.clientAccountId, engagementId: ctx.viewer.engagementId }, user: ctx.viewer.userId }
    : {};
}

export function useRequestLogging(logger: Logger, metrics: Metrics): Plugin<GraphQLContext> {
  const countErrors = (codes: string[]) => {
    for (const code of codes) metrics.errors.inc({ code: metrics.boundedLabel('code', code) });
  };
  return {
    onRequest({ request }) {
      const sent = request.headers.get(REQUEST_ID_HEADER);
      records.set(request, {
        requestId: sent && CLIENT_REQUEST_ID.test(sent) ? sent : randomUUID(),
        startedAt: performance.now(),
        errorCodes: [],
        executed: false,
      });
    },
    onExecute({ args }) {
      const startedAt = performance.now();
      const ctx = args.contextValue;
      markExecuted(ctx);
      const operation = getOperationAST(args.document, args.operationName);
      const operationType = operation?.operation ?? 'unknown';
      const operationName = operation?.name?.value ?? 'anonymous';
      return {
        onExecuteDone({ result }) {
          if (isAsyncIterable(result)) return;
          const durationMs = performance.now() - startedAt;
          const codes = errorCodes(result.errors);
          countErrors(codes);
          metrics.operationDuration.observe(
            // No operation name: clients choose it (src/observability/metrics.ts).
            { operation_type: operationType, outcome: codes.length > 0 ? 'error' : 'ok' },
            durationMs / 1_000,
          );
          ctx.log?.info(
            {
              ...tenantFields(ctx),
              operationType,
              operationName,
              durationMs: Math.round(durationMs * 10) / 10,
              sqlStatements: ctx.statements?.statements,
              ...(codes.length > 0 ? { errorCodes: codes } : {}),
            },
            'graphql operation',
          );
        },
      };
    },
    onSubscribe({ args }) {
      const startedAt = performance.now();
      const ctx = args.contextValue;
      markExecuted(ctx);
      const operationName = getOperationAST(args.document, args.operationName)?.name?.value ?? 'anonymous';
      return {
        onSubscribeResult({ result }) {
          if (!isAsyncIterable(result)) {
            const codes = errorCodes(result.errors);
            countErrors(codes);
            ctx.log?.info({ ...tenantFields(ctx), operationType: 'subscription', operationName, errorCodes: codes }, 'subscription refused');
            return;
          }
          metrics.activeSubscriptions.inc();
          let events = 0;
          ctx.log?.info({ ...tenantFields(ctx), operationType: 'subscription', operationName }, 'subscription started');
          // Once per event and subscriber: nothing allocated unless the event carries errors.
          const deliveredBy = (delivery: 'pushed' | 'iterated') => (event: ExecutionResult) => {
            events += 1;
            metrics.eventDeliveries[delivery] += 1;
            if (event.errors) countErrors(errorCodes(event.errors));
          };
          const iterated = deliveredBy('iterated');
          // Results pushed to a graphql-ws socket do not pass onNext (src/context.ts, SubscriptionOutlet).
          ctx.outlet?.listeners.push(deliveredBy('pushed'));
          return {
            onNext({ result: event }) {
              iterated(event);
            },
            onEnd() {
              metrics.activeSubscriptions.dec();
              ctx.log?.info(
                {
                  ...tenantFields(ctx),
                  operationType: 'subscription',
                  operationName,
                  durationMs: Math.round(performance.now() - startedAt),
                  events,
                  sqlStatements: ctx.statements?.statements,
                },
                'subscription ended',
              );
            },
          };
        },
      };
    },
    onResultProcess({ request, result }) {
      const record = records.get(request);
      if (!record || isAsyncIterable(result)) return;
      for (const single of Array.isArray(result) ? result : [result]) record.errorCodes.push(...errorCodes(single.errors));
    },
    onResponse({ request, response }) {
      const record = records.get(request);
      if (!record) return;
      response.headers.set(REQUEST_ID_HEADER, record.requestId);
      metrics.httpResponses.inc({ status: String(response.status) });
      const url = new URL(request.url);
      if (url.pathname === '/health' || url.pathname === '/ready' || url.pathname === '/metrics') return;
      // Errors of requests that never reached execution (bad JSON, limits, authentication) are
      // counted here; executed operations counted theirs above.
      if (!record.executed) countErrors(record.errorCodes);
      logger.info(
        {
          requestId: record.requestId,
          method: request.method,
          path: url.pathname,
          status: response.status,
          durationMs: Math.round((performance.now() - record.startedAt) * 10) / 10,
          ...(record.errorCodes.length > 0 ? { errorCodes: record.errorCodes } : {}),
        },
        'http request',
      );
    },
  };
}
