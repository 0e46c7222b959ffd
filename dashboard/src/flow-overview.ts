// The whole of the tenant's work at a glance: master flows by status and discovery flows by phase, as two
// bar charts (Query.flowStatistics). The table redraws it on every live event, so the bars move with the
// flows. A status bar filters the table by that status.
import type { Api } from './api';
import { h, svg } from './dom';
import { count, label, plural } from './format';
import { DashboardFlowStatisticsDocument, type DashboardFlowStatisticsQuery, type MasterFlowStatus } from './generated/graphql';

type Statistics = DashboardFlowStatisticsQuery['flowStatistics'];

interface Bar {
  key: string;
  text: string;
  count: number;
  kind: string;
}

/**
 * One bar chart: a row per bar, its label and count as text (sized like the page's text at any width) and
 * the bar as a one-rectangle SVG whose width is a percentage attribute (no inline styles: the dashboard is
 * served with a Content-Security-Policy).
 */
function chart(title: string, bars: Bar[], testId: string, onPick?: (key: string) => void): HTMLElement {
  const largest = Math.max(1, ...bars.map((bar) => bar.count));
  const rows = bars.map((bar) => {
    const share = bar.count === 0 ? 0 : Math.max(1, (bar.count / largest) * 100);
    const graphic = svg('svg', { class: 'chart-bar-frame', 'aria-hidden': 'true' },
      svg('rect', { class: 'chart-track', width: '100%', height: '100%', rx: 3 }),
      svg('rect', { class: `chart-bar ${bar.kind}`, width: `${share.toFixed(1)}%`, height: '100%', rx: 3 }),
    );
    const content = [h('span', { class: 'chart-label' }, bar.text), graphic, h('span', { class: 'chart-count' }, count(bar.count))];
    const attributes = { class: 'chart-row', 'data-key': bar.key, 'data-count': bar.count, title: `${bar.text}: ${count(bar.count)}` };
    return onPick
      ? h('button', { ...attributes, type: 'button', class: 'chart-row pickable', onclick: () => onPick(bar.key) }, ...content)
      : h('div', attributes, ...content);
  });
  return h('figure', { class: 'chart-panel', 'data-testid': testId }, h('figcaption', {}, title), h('div', { class: 'chart' }, rows));
}

export class FlowOverview {
  readonly element = h('section', { class: 'overview', 'aria-label': 'overview' });

  constructor(
    private readonly api: Api,
    private readonly filterByStatus: (status: MasterFlowStatus) => void,
  ) {}

  async render(): Promise<void> {
    const stats: Statistics = (await this.api.request(DashboardFlowStatisticsDocument, {})).flowStatistics;
    const byStatus = stats.byStatus.map((entry) => ({ key: entry.status, text: label(entry.status), count: entry.count, kind: `status-${entry.status.toLowerCase()}` }));
    const byPhase = [
      ...stats.byPhase.map((entry) => ({ key: entry.phase, text: label(entry.phase), count: entry.count, kind: 'phase' })),
      { key: 'DONE', text: 'all phases done', count: stats.completedDiscoveryFlows, kind: 'phase done' },
    ];
    this.element.replaceChildren(
      chart(`${plural(stats.masterFlows, 'flow')} by status`, byStatus, 'chart-status', (status) => this.filterByStatus(status as MasterFlowStatus)),
      chart(`${plural(stats.discoveryFlows, 'discovery flow')} by phase`, byPhase, 'chart-phase'),
    );
  }
}
