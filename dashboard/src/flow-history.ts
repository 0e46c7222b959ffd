// A flow's event history: what the log holds for it, then every live event as it arrives.
import type { Api } from './api';
import { h } from './dom';
import { label } from './format';
import { DashboardFlowHistoryDocument } from './generated/graphql';

export interface HistoryEntry {
  cursor: string;
  kind: string;
  time: string;
  actor: string;
  payload: unknown;
}

function describe(entry: HistoryEntry): string {
  const payload = (entry.payload ?? {}) as Record<string, unknown>;
  const parts = [label(entry.kind)];
  if (payload.before !== undefined || payload.after !== undefined) parts.push(`${label(String(payload.before ?? '—'))} → ${label(String(payload.after ?? '—'))}`);
  if (typeof payload.phase === 'string') parts.push(label(payload.phase));
  return parts.join(' · ');
}

export class FlowHistory {
  readonly element = h('ol', { class: 'history', 'data-testid': 'history' });
  private readonly cursors = new Set<string>();

  constructor(
    private readonly api: Api,
    private readonly flowId: string,
  ) {}

  async load(): Promise<void> {
    const result = (await this.api.request(DashboardFlowHistoryDocument, { flowId: this.flowId })).flowEvents;
    if (result.__typename !== 'FlowEventConnection') return;
    for (const edge of result.edges) this.add(edge.node);
  }

  add(entry: HistoryEntry): void {
    if (this.cursors.has(entry.cursor)) return;
    this.cursors.add(entry.cursor);
    this.element.prepend(
      h('li', { 'data-kind': entry.kind },
        h('time', { datetime: entry.time }, new Date(entry.time).toLocaleString()),
        h('span', {}, describe(entry)),
        h('span', { class: 'actor' }, entry.actor),
      ),
    );
  }
}
