// The table of the tenant's master flows: filters, cursor pagination, one row per flow.
import type { Api } from './api';
import { h, present } from './dom';
import { label, PHASES, relativeTime } from './format';
import type { LiveEvent } from './live-events';
import type { Permissions } from './permissions';
import { uploadForm } from './upload-form';
import { DashboardFlowsDocument, type FlowRowFragment, type MasterFlowStatus, type FlowType } from './generated/graphql';

const STATUSES: MasterFlowStatus[] = ['INITIALIZED', 'RUNNING', 'PAUSED', 'COMPLETED', 'FAILED'];
const TYPES: FlowType[] = ['DISCOVERY', 'ASSESSMENT', 'COLLECTION', 'PLANNING', 'EXECUTION', 'MODERNIZE', 'FINOPS', 'OBSERVABILITY', 'DECOMMISSION'];
const PAGE_SIZE = 25;

export function phaseBar(phases: { phase: string; completed: boolean }[] | undefined, progress: number | undefined): HTMLElement {
  return h(
    'div',
    { class: 'phases', title: `${Math.round(progress ?? 0)} % of the discovery phases complete`, role: 'img', 'aria-label': `${Math.round(progress ?? 0)} percent` },
    PHASES.map((phase) => {
      const done = phases?.find((entry) => entry.phase === phase)?.completed ?? false;
      return h('span', { class: done ? 'segment done' : 'segment', title: label(phase) });
    }),
  );
}

export function statusPill(status: string): HTMLElement {
  return h('span', { class: `pill status-${status.toLowerCase()}`, 'data-testid': 'status' }, label(status));
}

interface TableState {
  statuses: MasterFlowStatus[];
  type: FlowType | '';
  after?: string | null;
  before?: string | null;
}

export class FlowsTable {
  readonly element = h('section', { class: 'flows' });
  private state: TableState = { statuses: [], type: '' };
  private pending: ReturnType<typeof setTimeout> | undefined;
  private readonly changed = new Set<string>();

  constructor(
    private readonly api: Api,
    private readonly open: (flowId: string) => void,
    private readonly may: Permissions,
  ) {}

  /** A live event: redraw the current page (coalesced over 100 ms) and highlight the changed row. */
  onEvent(event: LiveEvent): void {
    this.changed.add(event.flowId);
    clearTimeout(this.pending);
    this.pending = setTimeout(() => void this.render(), 100);
  }

  async render(): Promise<void> {
    const filter = {
      ...(this.state.statuses.length ? { statuses: this.state.statuses } : {}),
      ...(this.state.type ? { flowTypes: [this.state.type] } : {}),
    };
    const page = this.state.before
      ? { last: PAGE_SIZE, before: this.state.before }
      : { first: PAGE_SIZE, after: this.state.after ?? null };
    const data = await this.api.request(DashboardFlowsDocument, { ...page, filter });
    const connection = data.masterFlows;
    const body = h('tbody', {}, connection.edges.map((edge) => this.row(edge.node)));
    this.element.replaceChildren(...present(
      this.may.operate ? uploadForm(this.api, this.open) : null,
      this.filters(),
      h(
        'table',
        { class: 'grid', 'data-testid': 'flows-table' },
        h('thead', {}, h('tr', {}, ['Name', 'Type', 'Status', 'Phase', 'Progress', 'Records (valid / invalid)', 'Last change'].map((title) => h('th', {}, title)))),
        body,
      ),
      connection.edges.length === 0 ? h('p', { class: 'empty' }, 'No flows match these filters.') : null,
      h(
        'nav',
        { class: 'pager' },
        h('span', {}, `${connection.totalCount} flow${connection.totalCount === 1 ? '' : 's'}`),
        h('button', {
          disabled: !connection.pageInfo.hasPreviousPage && !this.state.after,
          onclick: () => this.go({ before: connection.pageInfo.startCursor, after: null }),
        }, '← Previous'),
        h('button', {
          disabled: !connection.pageInfo.hasNextPage,
          onclick: () => this.go({ after: connection.pageInfo.endCursor, before: null }),
        }, 'Next →'),
      ),
    ));
  }

  private go(change: Partial<TableState>): void {
    this.state = { ...this.state, ...change };
    void this.render();
  }

  private filters(): HTMLElement {
    return h(
      'form',
      { class: 'filters', onsubmit: (event: Event) => event.preventDefault() },
      h('fieldset', {}, h('legend', {}, 'Status'),
        STATUSES.map((status) =>
          h('label', {},
            h('input', {
              type: 'checkbox',
              name: 'status',
              value: status,
              checked: this.state.statuses.includes(status),
              onchange: (event: Event) => {
                const checked = (event.target as HTMLInputElement).checked;
                this.go({
                  statuses: checked ? [...this.state.statuses, status] : this.state.statuses.filter((entry) => entry !== status),
                  after: null,
                  before: null,
                });
              },
            }),
            label(status),
          ),
        ),
      ),
      h('label', { class: 'type' }, 'Type ',
        h('select', {
          name: 'type',
          onchange: (event: Event) => this.go({ type: (event.target as HTMLSelectElement).value as FlowType | '', after: null, before: null }),
        },
          h('option', { value: '' }, 'all'),
          TYPES.map((type) => h('option', { value: type, selected: this.state.type === type }, label(type))),
        ),
      ),
    );
  }

  private row(flow: FlowRowFragment): HTMLTableRowElement {
    const discovery = flow.discoveryFlows[0];
    const flash = this.changed.delete(flow.flowId);
    return h(
      'tr',
      { class: flash ? 'flash' : undefined, 'data-flow-id': flow.flowId, tabindex: 0, onclick: () => this.open(flow.flowId), onkeydown: (event: Event) => (event as KeyboardEvent).key === 'Enter' && this.open(flow.flowId) },
      h('td', { class: 'name' }, flow.flowName ?? flow.flowId),
      h('td', {}, label(flow.flowType)),
      h('td', {}, statusPill(flow.flowStatus)),
      h('td', { 'data-testid': 'phase' }, discovery ? label(discovery.currentPhase ?? 'done') : '—'),
      h('td', {}, discovery ? phaseBar(discovery.phases, discovery.progressPercentage) : '—'),
      h('td', { class: 'numbers' }, h('span', { class: 'valid' }, flow.validRecordCount), ' / ', h('span', { class: 'invalid' }, flow.invalidRecordCount)),
      h('td', { title: flow.updatedAt }, relativeTime(flow.updatedAt)),
    );
  }
}
