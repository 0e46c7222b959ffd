// The flow graph of one master flow as a small left-to-right diagram: master flow → data imports →
// discovery flow, with the five phases of the discovery flow as steps.
import { svg } from './dom';
import { flowTitle } from './flow-name';
import { label, PHASES } from './format';
import type { DashboardFlowDetailQuery } from './generated/graphql';

type Flow = NonNullable<DashboardFlowDetailQuery['masterFlow']>;

const BOX_W = 190;
const BOX_H = 46;

function box(x: number, y: number, title: string, subtitle: string, kind: string): SVGElement {
  return svg('g', { class: `node ${kind}`, transform: `translate(${x},${y})` },
    svg('rect', { width: BOX_W, height: BOX_H, rx: 8 }),
    svg('text', { x: 10, y: 19, class: 'title' }, title.length > 26 ? `${title.slice(0, 25)}…` : title),
    svg('text', { x: 10, y: 36, class: 'subtitle' }, subtitle),
  );
}

function edge(x1: number, y1: number, x2: number, y2: number): SVGElement {
  const middle = (x1 + x2) / 2;
  return svg('path', { class: 'edge', d: `M${x1},${y1} C${middle},${y1} ${middle},${y2} ${x2},${y2}` });
}

export function flowGraphDiagram(flow: Flow): SVGElement {
  const imports = flow.dataImports.edges.map((edgeOf) => edgeOf.node);
  const discovery = flow.discoveryFlows[0];
  const rows = Math.max(imports.length, 1);
  const height = Math.max(rows * (BOX_H + 16) + 16, 170);
  const root = svg('svg', { class: 'diagram', viewBox: `0 0 980 ${height}`, role: 'img', 'aria-label': 'flow graph' });
  const masterY = height / 2 - BOX_H / 2;
  root.append(box(10, masterY, flowTitle(flow, flow.dataImports), `master flow · ${label(flow.flowStatus)}`, 'master'));
  imports.forEach((dataImport, index) => {
    const y = 16 + index * (BOX_H + 16);
    root.append(edge(10 + BOX_W, masterY + BOX_H / 2, 260, y + BOX_H / 2));
    root.append(box(260, y, dataImport.filename, `${dataImport.totalRecords} rows · ${dataImport.failedRecords} invalid`, 'import'));
  });
  if (discovery) {
    const y = height / 2 - BOX_H / 2;
    root.append(edge(260 + BOX_W, 16 + BOX_H / 2, 510, y + BOX_H / 2));
    root.append(box(510, y, 'discovery flow', `${Math.round(discovery.progressPercentage)} % · ${label(discovery.status)}`, 'discovery'));
    PHASES.forEach((phase, index) => {
      const state = discovery.phases.find((entry) => entry.phase === phase);
      const cx = 730 + index * 56;
      const cy = y + BOX_H / 2;
      if (index > 0) root.append(svg('line', { class: 'step-link', x1: cx - 44, y1: cy, x2: cx - 12, y2: cy }));
      const circle = svg('circle', { class: state?.completed ? 'step done' : discovery.currentPhase === phase ? 'step current' : 'step', cx, cy, r: 12 });
      circle.append(svg('title', {}, `${label(phase)}${state?.completedAt ? ` — completed ${new Date(state.completedAt).toLocaleString()}` : ''}`));
      root.append(circle, svg('text', { class: 'step-label', x: cx, y: cy + 28, 'text-anchor': 'middle' }, String(index + 1)));
    });
  }
  return root;
}
