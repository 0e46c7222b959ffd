// The table of the tenant's master flows: the overview chart, filters, cursor pages, one row per flow.
// Filters and page come from the URL (url-state.ts): changing one navigates, so history keeps it.
import type { Api } from './api';
import { h, present } from './dom';
import { flowFile, flowTitle } from './flow-name';
import { FlowOverview } from './flow-overview';
import { label, PHASES, plural, relativeTime } from './format';
import type { LiveEvent } from './live-events';
import type { Permissions } from './permissions';
import { uploadForm } from './upload-form';
import { hashFor, nextPage, pageArguments, pageState, previousPage, type PageState } from './url-state';
import { DashboardFlowsDocument, type DashboardFlowsQuery, type MasterFlowStatus, type FlowType } from './generated/graphql';

type TableFlow = DashboardFlowsQuery['masterFlows']['edges'][number]['node'];

export const STATUSES: MasterFlowStatus[] = ['INITIALIZED', 'RUNNING', 'PAUSED', 'COMPLETED', 'FAILED'];
const TYPES: FlowType[] = ['DISCOVERY', 'ASSESSMENT', 'COLLECTION', 'PLANNING', 'EXECUTION', 'MODERNIZE', 'FINOPS', 'OBSERVABILITY', 'DECOMMISSION'];
const PAGE_SIZE = 25;
const COLUMNS = ['Name', 'File', 'Type', 'Status', 'Phase', 'Progress', 'Records (valid / invalid)', 'Last change'];

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

interface TableState extends PageState {
  statuses: MasterFlowStatus[];
  type: FlowType | '';
}

function tableState(params: URLSearchParams): TableState {
  const statuses = (params.get('status') ?? '').split(',').filter((value): value is MasterFlowStatus => (STATUSES as string[]).includes(value));
  const type = params.get('type') ?? '';
  return { ...pageState(params), statuses, type: (TYPES as string[]).includes(type) ? (type as FlowType) : '' };
}

export class FlowsTable {
  readonly element = h('section', { class: 'flows' });
  private readonly state: TableState;
  private readonly overview: FlowOverview;
  private pending: ReturnType<typeof setTimeout> | undefined;
  private readonly changed = new Set<string>();
  private upload: HTMLElement | null = null;

  constructor(
    private readonly api: Api,
    params: URLSearchParams,
    private readonly navigate: (hash: string) => void,
    private readonly may: Permissions,
  ) {
    this.state = tableState(params);
    this.overview = new FlowOverview(api, (status) => this.go({ statuses: [status], page: 1 }));
  }

  /** A live event: redraw the current page and the overview (coalesced over 100 ms), highlight the changed row. */
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
    const data = await this.api.request(DashboardFlowsDocument, { ...pageArguments(this.state, PAGE_SIZE), filter });
    const connection = data.masterFlows;
    const first = (this.state.page - 1) * PAGE_SIZE + 1;
    // The upload form is kept across redraws: a live event must not reset a file being chosen or sent.
    this.upload ??= this.may.operate ? uploadForm(this.api, (flowId) => this.navigate(`#/flows/${flowId}`)) : null;
    this.element.replaceChildren(...present(
      this.overview.element,
      this.upload,
      this.filters(),
      h('div', { class: 'table-frame' },
        h(
          'table',
          { class: 'grid cards', 'data-testid': 'flows-table' },
          h('thead', {}, h('tr', {}, COLUMNS.map((title) => h('th', {}, title)))),
          h('tbody', {}, connection.edges.map((edge) => this.row(edge.node))),
        ),
      ),
      connection.edges.length === 0 ? h('p', { class: 'empty' }, 'No flows match these filters.') : null,
      h(
        'nav',
        { class: 'pager', 'aria-label': 'pages' },
        h('span', { 'data-testid': 'page' },
          connection.edges.length
            ? `Page ${this.state.page} · ${first}–${first + connection.edges.length - 1} of ${plural(connection.totalCount, 'flow')}`
            : plural(connection.totalCount, 'flow')),
        h('button', {
          disabled: this.state.page <= 1,
          'data-action': 'previous-page',
          onclick: () => this.go(previousPage(this.state, connection.pageInfo.startCursor)),
        }, '← Previous'),
        h('button', {
          disabled: !connection.pageInfo.hasNextPage,
          'data-action': 'next-page',
          onclick: () => this.go(nextPage(this.state, connection.pageInfo.endCursor)),
        }, 'Next →'),
      ),
    ));
    // After the table, so that a live change reaches the row first (the embedded database answers one
    // query at a time).
    await this.overview.render();
  }

  /** Navigates to this table with `change` applied; filters changing start again at page 1. */
  private go(change: Partial<Record<'page' | 'after' | 'before', string | number | null>> & { statuses?: MasterFlowStatus[]; type?: FlowType | '' }): void {
    const next = { ...this.state, ...change };
    const params = {
      status: (next.statuses ?? []).join(','),
      type: next.type,
      page: next.page && Number(next.page) > 1 ? next.page : null,
      after: next.page && Number(next.page) > 1 ? next.after : null,
      before: next.page && Number(next.page) > 1 ? next.before : null,
    };
    this.navigate(hashFor('/', params));
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
                  page: 1,
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
          onchange: (event: Event) => this.go({ type: (event.target as HTMLSelectElement).value as FlowType | '', page: 1 }),
        },
          h('option', { value: '' }, 'all'),
          TYPES.map((type) => h('option', { value: type, selected: this.state.type === type }, label(type))),
        ),
      ),
    );
  }

  private row(flow: TableFlow): HTMLTableRowElement {
    const discovery = flow.discoveryFlows[0];
    const flash = this.changed.delete(flow.flowId);
    const open = () => this.navigate(`#/flows/${flow.flowId}`);
    // data-label: the column's title, shown beside the value where the table is laid out as cards (phones).
    const cell = (column: number, attributes: Record<string, string>, ...content: (Node | string | number)[]) =>
      h('td', { ...attributes, 'data-label': COLUMNS[column]! }, h('span', { class: 'value' }, ...content));
    return h(
      'tr',
      { class: flash ? 'flash' : undefined, 'data-flow-id': flow.flowId, tabindex: 0, onclick: open, onkeydown: (event: Event) => (event as KeyboardEvent).key === 'Enter' && open() },
      cell(0, { class: 'name', 'data-testid': 'flow-title', title: flow.flowName ?? '' }, flowTitle(flow, flow.firstImport)),
      cell(1, { class: 'file', 'data-testid': 'flow-file' }, flowFile(flow.firstImport) ?? '—'),
      cell(2, {}, label(flow.flowType)),
      cell(3, {}, statusPill(flow.flowStatus)),
      cell(4, { 'data-testid': 'phase' }, discovery ? label(discovery.currentPhase ?? 'done') : '—'),
      cell(5, {}, discovery ? phaseBar(discovery.phases, discovery.progressPercentage) : '—'),
      cell(6, { class: 'numbers' }, h('span', { class: 'valid' }, flow.validRecordCount), ' / ', h('span', { class: 'invalid' }, flow.invalidRecordCount)),
      cell(7, { title: flow.updatedAt }, relativeTime(flow.updatedAt)),
    );
  }
}
