// What every resolver receives. Built once per HTTP request or per graphql-ws operation.
import type { ExecutionResult } from 'graphql';
import type { Logger } from 'pino';
import type { Role } from './auth/roles.ts';
import type { PrismaClient } from './generated/prisma/client.ts';
import type { StatementTally } from './db/statement-counter.ts';
import type { ImportSettings } from './domain/import-settings.ts';
import type { Metrics } from './observability/metrics.ts';
import type { ImportProgress } from './services/store-import.ts';
import type { FlowEventCursors } from './domain/flow-event-cursor.ts';
import type { FlowEventHub } from './services/flow-event-hub.ts';
import type { ImportTracker } from './services/import-progress.ts';

/** Who is asking, and for which tenant. Every read and write is scoped to this tenant. */
export interface Viewer {
  clientAccountId: string;
  engagementId: string;
  userId: string;
  /** What the caller may do (src/auth/roles.ts); the schema checks them through scope-auth. */
  roles: Role[];
}

export interface GraphQLContext {
  viewer: Viewer;
  prisma: PrismaClient;
  /** SQL statements this operation has issued so far. */
  statements: StatementTally;
  /** Limits and tuning of storeImport. */
  imports: ImportSettings;
  /** Told about the progress of running imports (the server logs it). */
  onImportProgress?: (progress: ImportProgress) => void;
  /** This process's imports in flight, by idempotency key (Query.importProgress). */
  importTracker: ImportTracker;
  /** This process's fan-out of the flow event log, for subscriptions. */
  events: EventsContext;
  /** Correlates this operation's log lines; echoed in the `x-request-id` response header. */
  requestId: string;
  /** When the caller's credentials expire (ms since the epoch): subscriptions end then. Null: never. */
  credentialsExpireAt: number | null;
  /** Logger bound to this request (request id, tenant); never log tokens or row data through it. */
  log: Logger;
  /** The process's Prometheus metrics (for example `metrics.importRows.inc(n)` after an import). */
  metrics: Metrics;
  /** graphql-ws operations only: the way to the client's socket for pushed results (see SubscriptionOutlet). */
  outlet?: SubscriptionOutlet;
}

/**
 * Sends a subscription's results straight to its graphql-ws socket, outside the chain of async iterators
 * (envelop's plugins, graphql-ws' loop) that each result otherwise passes per subscriber. At fan-out that
 * chain was most of the cost of a delivery (src/graphql/shared-subscription-execution.ts, bench/RESULTS.md).
 */
export interface SubscriptionOutlet {
  /**
   * Sends `result`, already as the client must see it (masked), as the operation's next `next` message.
   * True when the socket took it; a promise when the client is behind, settled once its connection has
   * taken the message. Sends nothing once the operation has ended.
   */
  send(result: ExecutionResult): true | Promise<void>;
  /** Told of every result sent this way (request logging counts them, as its onNext counts the others). */
  readonly listeners: ((result: ExecutionResult) => void)[];
}

export interface EventsContext {
  hub: FlowEventHub;
  /** Live events queued for one subscriber before its subscription ends. */
  bufferSize: number;
  /** How positions in the log are written as cursors (plain, or sealed with FLOWGRAPH_CURSOR_KEY). */
  cursors: FlowEventCursors;
}

/** The Prisma `where` that keeps a query inside the viewer's tenant. */
export function tenantWhere(ctx: Pick<GraphQLContext, 'viewer'>) {
  return { clientAccountId: ctx.viewer.clientAccountId, engagementId: ctx.viewer.engagementId };
}
