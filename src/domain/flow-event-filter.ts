// Which events a subscriber or a page of the log wants. The same rule is applied in SQL (replay, pages)
// and in memory (live fan-out); test/flow-event-filter.test.ts keeps the two in agreement.
import type { FlowEventKind } from './flow-event-kinds.ts';

export interface FlowEventFilter {
  /** Only events of this master flow (its flow id). */
  masterFlowId?: string | null;
  /** Only events of master flows of these types; an empty list matches nothing. */
  flowTypes?: readonly string[] | null;
  /** Only events of these kinds; an empty list matches nothing. */
  kinds?: readonly FlowEventKind[] | null;
}

export interface Tenant {
  clientAccountId: string;
  engagementId: string;
}

export interface FilterableFlowEvent extends Tenant {
  masterFlowId: string;
  flowType: string;
  kind: string;
}

export function tenantKey(tenant: Tenant): string {
  return `${tenant.clientAccountId.toLowerCase()}/${tenant.engagementId.toLowerCase()}`;
}

export function matchesFlowEventFilter(event: FilterableFlowEvent, filter: FlowEventFilter): boolean {
  if (filter.masterFlowId != null && filter.masterFlowId.toLowerCase() !== event.masterFlowId.toLowerCase()) return false;
  if (filter.flowTypes != null && !filter.flowTypes.includes(event.flowType)) return false;
  if (filter.kinds != null && !(filter.kinds as readonly string[]).includes(event.kind)) return false;
  return true;
}
