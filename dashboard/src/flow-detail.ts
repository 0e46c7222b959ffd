// One master flow: summary, the flow graph diagram, its discovery phases, a paged table of raw records,
// and (once events exist) its history. The records' filter and page come from the URL (url-state.ts).
import type { Api } from './api';
import { h, present } from './dom';
import { flowActions } from './flow-actions';
import { flowGraphDiagram } from './flow-graph-diagram';
import { FlowHistory } from './flow-history';
import type { LiveEvent } from './live-events';
import type { Permissions } from './permissions';
import { phaseBar, statusPill } from './flows-table';
import { flowTitle } from './flow-name';
import { label, PHASES, plural, relativeTime } from './format';
import { hashFor, nextPage, pageArguments, pageState, previousPage, type PageState } from './url-state';
import { DashboardFlowDetailDocument, type DashboardFlowDetailQuery } from './generated/graphql';

const RECORDS_PAGE = 20;
const VALIDITY = { all: null, valid: true, invalid: false } as const;
type Validity = keyof typeof VALIDITY;

interface RecordsState extends PageState {
  validity: Validity;
}

type RawRecord = Flow['rawRecords']['edges'][number]['node'];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** A row's validation errors as sentences (the server's messages), each with its code as a tooltip. */
function rowErrors(errors: unknown): HTMLElement | string {
  if (!Array.isArray(errors) || errors.length === 0) return '';
  return h('ul', { class: 'row-errors' },
    errors.map((error) => (isObject(error) ? h('li', { title: text(error.code) }, text(error.message ?? error.code)) : h('li', {}, text(error)))),
  );
}

/**
 * The values of a row that is not an object keyed by the header (a CSV row with the wrong number of fields
 * keeps its fields as a list; a JSON element may be anything): shown as they are, in one cell.
 */
function rowValues(data: unknown): HTMLElement {
  const values = Array.isArray(data) ? data : [data];
  return h('span', { class: 'row-values' }, values.map((value) => h('span', { class: 'value' }, text(value) || '∅')));
}

export type Flow = NonNullable<DashboardFlowDetailQuery['masterFlow']>;

export class FlowDetail {
  readonly element = h('section', { class: 'detail' });
  private readonly records: RecordsState;
  private readonly history: FlowHistory;
  private historyLoaded = false;
  private pending: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly api: Api,
    readonly flowId: string,
    params: URLSearchParams,
    private readonly navigate: (hash: string) => void,
    private readonly may: Permissions,
  ) {
    this.history = new FlowHistory(api, flowId);
    const validity = params.get('records');
    this.records = { ...pageState(params), validity: validity === 'valid' || validity === 'invalid' ? validity : 'all' };
  }

  /** A live event: this flow's go into its history and redraw the view (coalesced over 100 ms). */
  onEvent(event: LiveEvent): void {
    if (event.flowId !== this.flowId) return;
    this.history.add(event);
    clearTimeout(this.pending);
    this.pending = setTimeout(() => void this.render(), 100);
  }

  async render(): Promise<void> {
    if (!this.historyLoaded) {
      this.historyLoaded = true;
      await this.history.load();
    }
    const data = await this.api.request(DashboardFlowDetailDocument, {
      flowId: this.flowId,
      ...pageArguments(this.records, RECORDS_PAGE),
      isValid: VALIDITY[this.records.validity],
    });
    const flow = data.masterFlow;
    if (!flow) {
      this.element.replaceChildren(...present(
        h('a', { href: '#/' }, '← All flows'),
        h('p', { class: 'empty', 'data-testid': 'flow-missing' }, 'This flow does not exist (any more).'),
      ));
      return;
    }
    const discovery = flow.discoveryFlows[0];
    const files = flow.dataImports.edges.map((edge) => `${edge.node.filename} (${edge.node.importType})`);
    document.title = `${flowTitle(flow, flow.dataImports)} · flowgraph`;
    this.element.replaceChildren(...present(
      h('a', { href: '#/' }, '← All flows'),
      h('h1', { 'data-testid': 'flow-name' }, flowTitle(flow, flow.dataImports)),
      h('dl', { class: 'summary' },
        h('dt', {}, 'Status'), h('dd', {}, statusPill(flow.flowStatus)),
        h('dt', {}, 'Type'), h('dd', {}, label(flow.flowType)),
        h('dt', {}, files.length === 1 ? 'File' : 'Files'), h('dd', { 'data-testid': 'flow-files' }, files.join(', ') || '—'),
        h('dt', {}, 'Name'), h('dd', {}, flow.flowName ?? '—'),
        h('dt', {}, 'Records'), h('dd', {}, `${flow.rawRecordCount} (${flow.validRecordCount} valid, ${flow.invalidRecordCount} invalid)`),
        h('dt', {}, 'Started by'), h('dd', {}, flow.userId),
        h('dt', {}, 'Last change'), h('dd', { title: flow.updatedAt }, relativeTime(flow.updatedAt)),
        h('dt', {}, 'Flow id'), h('dd', { class: 'mono' }, flow.flowId),
      ),
      flowActions(this.api, flow, this.may, { changed: () => void this.render(), deleted: () => this.navigate('#/') }),
      h('h2', {}, 'Flow graph'),
      h('div', { class: 'table-frame scroll' }, flowGraphDiagram(flow)),
      discovery
        ? h('div', { class: 'phase-list' },
            h('h2', {}, 'Discovery phases'),
            phaseBar(discovery.phases, discovery.progressPercentage),
            h('ol', {}, PHASES.map((phase) => {
              const state = discovery.phases.find((entry) => entry.phase === phase);
              return h('li', { class: state?.completed ? 'done' : discovery.currentPhase === phase ? 'current' : '' },
                label(phase),
                state?.completedAt ? h('time', { datetime: state.completedAt }, ` — ${new Date(state.completedAt).toLocaleString()}`) : null,
              );
            })),
          )
        : null,
      this.recordsTable(flow),
      h('h2', {}, 'History'),
      this.history.element,
    ));
  }

  /** Navigates to this view with the records' filter or page changed; a new filter starts at page 1. */
  private go(change: Partial<Record<'page' | 'after' | 'before', string | number | null>> & { validity?: Validity }): void {
    const next = { ...this.records, ...change };
    const paged = next.page !== null && Number(next.page) > 1;
    this.navigate(hashFor(`/flows/${this.flowId}`, {
      records: next.validity === 'all' ? null : next.validity,
      page: paged ? next.page : null,
      after: paged ? next.after : null,
      before: paged ? next.before : null,
    }));
  }

  private recordsTable(flow: Flow): HTMLElement {
    const connection = flow.rawRecords;
    // The columns are the keys of the rows on this page that are objects (a CSV file's header).
    const columns = [...new Set(connection.edges.flatMap((edge) => (isObject(edge.node.rawData) ? Object.keys(edge.node.rawData) : [])))].slice(0, 8);
    const width = Math.max(columns.length, 1);
    const values = (node: RawRecord): HTMLElement[] => {
      if (!isObject(node.rawData)) return [h('td', { colspan: width, class: 'spread', 'data-label': 'Values' }, rowValues(node.rawData))];
      if (columns.length === 0) return [h('td', { 'data-label': 'Values' }, text(node.rawData))];
      const data = node.rawData;
      return columns.map((column) => h('td', { 'data-label': column }, text(data[column])));
    };
    const first = (this.records.page - 1) * RECORDS_PAGE + 1;
    return h('div', { class: 'records' },
      h('h2', {}, 'Raw records'),
      h('div', { class: 'filters' },
        ...(Object.keys(VALIDITY) as Validity[]).map((validity) =>
          h('label', {}, h('input', { type: 'radio', name: 'validity', value: validity, checked: this.records.validity === validity, onchange: () => this.go({ validity, page: 1 }) }), validity),
        ),
      ),
      h('div', { class: 'table-frame scroll' },
        h('table', { class: 'grid', 'data-testid': 'records-table' },
          h('thead', {}, h('tr', {}, h('th', {}, 'File'), h('th', {}, 'Row'), ...(columns.length ? columns : ['Values']).map((column) => h('th', {}, column)), h('th', {}, 'Valid'), h('th', {}, 'Problems'))),
          h('tbody', {}, connection.edges.map(({ node }) =>
            h('tr', { class: node.isValid ? '' : 'invalid-row', 'data-row': node.rowNumber },
              h('td', {}, node.dataImport.filename),
              h('td', { class: 'numbers' }, node.rowNumber),
              ...values(node),
              h('td', {}, node.isValid ? 'yes' : 'no'),
              h('td', { class: 'errors', 'data-testid': 'row-errors' }, rowErrors(node.validationErrors)),
            ),
          )),
        ),
      ),
      h('nav', { class: 'pager', 'aria-label': 'record pages' },
        h('span', { 'data-testid': 'records-page' },
          connection.edges.length
            ? `Page ${this.records.page} · ${first}–${first + connection.edges.length - 1} of ${plural(connection.totalCount, 'record')}`
            : plural(connection.totalCount, 'record')),
        h('button', { disabled: this.records.page <= 1, 'data-action': 'previous-page', onclick: () => this.go(previousPage(this.records, connection.pageInfo.startCursor)) }, '← Previous'),
        h('button', { disabled: !connection.pageInfo.hasNextPage, 'data-action': 'next-page', onclick: () => this.go(nextPage(this.records, connection.pageInfo.endCursor)) }, 'Next →'),
      ),
    );
  }
}
