// One master flow: summary, the flow graph diagram, its discovery phases, a paged table of raw records,
// and (once events exist) its history.
import type { Api } from './api';
import { h, present } from './dom';
import { flowActions } from './flow-actions';
import { flowGraphDiagram } from './flow-graph-diagram';
import { FlowHistory } from './flow-history';
import type { LiveEvent } from './live-events';
import type { Permissions } from './permissions';
import { phaseBar, statusPill } from './flows-table';
import { label, PHASES, relativeTime } from './format';
import { DashboardFlowDetailDocument, type DashboardFlowDetailQuery } from './generated/graphql';

const RECORDS_PAGE = 20;

interface RecordsState {
  isValid: boolean | null;
  after?: string | null;
  before?: string | null;
}

export type Flow = NonNullable<DashboardFlowDetailQuery['masterFlow']>;

export class FlowDetail {
  readonly element = h('section', { class: 'detail' });
  private records: RecordsState = { isValid: null };
  private readonly history: FlowHistory;
  private historyLoaded = false;
  private pending: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly api: Api,
    readonly flowId: string,
    private readonly navigate: (hash: string) => void,
    private readonly may: Permissions,
  ) {
    this.history = new FlowHistory(api, flowId);
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
    const page = this.records.before
      ? { last: RECORDS_PAGE, before: this.records.before }
      : { first: RECORDS_PAGE, after: this.records.after ?? null };
    const data = await this.api.request(DashboardFlowDetailDocument, {
      flowId: this.flowId,
      ...page,
      isValid: this.records.isValid,
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
    this.element.replaceChildren(...present(
      h('a', { href: '#/' }, '← All flows'),
      h('h1', { 'data-testid': 'flow-name' }, flow.flowName ?? flow.flowId),
      h('dl', { class: 'summary' },
        h('dt', {}, 'Status'), h('dd', {}, statusPill(flow.flowStatus)),
        h('dt', {}, 'Type'), h('dd', {}, label(flow.flowType)),
        h('dt', {}, 'Records'), h('dd', {}, `${flow.rawRecordCount} (${flow.validRecordCount} valid, ${flow.invalidRecordCount} invalid)`),
        h('dt', {}, 'Started by'), h('dd', {}, flow.userId),
        h('dt', {}, 'Last change'), h('dd', { title: flow.updatedAt }, relativeTime(flow.updatedAt)),
        h('dt', {}, 'Flow id'), h('dd', { class: 'mono' }, flow.flowId),
      ),
      flowActions(this.api, flow, this.may, { changed: () => void this.render(), deleted: () => this.navigate('#/') }),
      h('h2', {}, 'Flow graph'),
      flowGraphDiagram(flow),
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

  private go(change: Partial<RecordsState>): void {
    this.records = { ...this.records, ...change };
    void this.render();
  }

  private recordsTable(flow: Flow): HTMLElement {
    const connection = flow.rawRecords;
    const columns = [...new Set(connection.edges.flatMap((edge) => (edge.node.rawData && typeof edge.node.rawData === 'object' && !Array.isArray(edge.node.rawData) ? Object.keys(edge.node.rawData) : [])))].slice(0, 8);
    return h('div', { class: 'records' },
      h('h2', {}, 'Raw records'),
      h('div', { class: 'filters' },
        ...([['all', null], ['valid', true], ['invalid', false]] as const).map(([text, value]) =>
          h('label', {}, h('input', { type: 'radio', name: 'validity', checked: this.records.isValid === value, onchange: () => this.go({ isValid: value, after: null, before: null }) }), text),
        ),
      ),
      h('table', { class: 'grid', 'data-testid': 'records-table' },
        h('thead', {}, h('tr', {}, h('th', {}, 'File'), h('th', {}, 'Row'), ...columns.map((column) => h('th', {}, column)), h('th', {}, 'Valid'), h('th', {}, 'Errors'))),
        h('tbody', {}, connection.edges.map(({ node }) => {
          const data = (node.rawData && typeof node.rawData === 'object' ? node.rawData : {}) as Record<string, unknown>;
          return h('tr', { class: node.isValid ? '' : 'invalid-row' },
            h('td', {}, node.dataImport.filename),
            h('td', { class: 'numbers' }, node.rowNumber),
            ...columns.map((column) => h('td', {}, typeof data[column] === 'object' ? JSON.stringify(data[column]) : String(data[column] ?? ''))),
            h('td', {}, node.isValid ? 'yes' : 'no'),
            h('td', { class: 'errors' }, node.validationErrors ? JSON.stringify(node.validationErrors) : ''),
          );
        })),
      ),
      h('nav', { class: 'pager' },
        h('span', {}, `${connection.totalCount} record${connection.totalCount === 1 ? '' : 's'}`),
        h('button', { disabled: !connection.pageInfo.hasPreviousPage && !this.records.after, onclick: () => this.go({ before: connection.pageInfo.startCursor, after: null }) }, '← Previous'),
        h('button', { disabled: !connection.pageInfo.hasNextPage, onclick: () => this.go({ after: connection.pageInfo.endCursor, before: null }) }, 'Next →'),
      ),
    );
  }
}
