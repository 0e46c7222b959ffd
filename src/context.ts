// What every resolver receives. Built once per HTTP request or per graphql-ws subscription.
import type { PrismaClient } from './generated/prisma/client.ts';
import type { StatementTally } from './db/statement-counter.ts';
import type { ImportSettings } from './domain/import-settings.ts';
import type { ImportProgress } from './services/store-import.ts';
import type { FlowEventHub } from './services/flow-event-hub.ts';

/** Who is asking, and for which tenant. Every read and write is scoped to this tenant. */
export interface Viewer {
  clientAccountId: string;
  engagementId: string;
  userId: string;
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
  /** This process's fan-out of the flow event log, for subscriptions. */
  events: EventsContext;
}

export interface EventsContext {
  hub: FlowEventHub;
  /** Live events queued for one subscriber before its subscription ends. */
  bufferSize: number;
}

/** The Prisma `where` that keeps a query inside the viewer's tenant. */
export function tenantWhere(ctx: Pick<GraphQLContext, 'viewer'>) {
  return { clientAccountId: ctx.viewer.clientAccountId, engagementId: ctx.viewer.engagementId };
}
