import { builder } from '../builder.ts';
import { flowStatistics, type FlowStatistics } from '../services/flow-statistics.ts';
import { FlowPhaseCountRef } from './flow-phase-count.ts';
import { FlowStatusCountRef } from './flow-status-count.ts';

const FlowStatisticsRef = builder.objectRef<FlowStatistics>('FlowStatistics').implement({
  description:
    'The whole of the tenant\'s work at a glance: master flows by status and discovery flows by phase. Every status and ' +
    'phase is listed, with zeros, in lifecycle order.',
  fields: (t) => ({
    masterFlows: t.field({ type: 'SafeInt', description: 'Master flows of the tenant.', resolve: (stats) => stats.masterFlows }),
    byStatus: t.field({
      type: [FlowStatusCountRef],
      description: 'Master flows per lifecycle state, INITIALIZED to FAILED; the counts add up to `masterFlows`.',
      resolve: (stats) => stats.byStatus,
    }),
    discoveryFlows: t.field({ type: 'SafeInt', description: 'Discovery flows of the tenant.', resolve: (stats) => stats.discoveryFlows }),
    byPhase: t.field({
      type: [FlowPhaseCountRef],
      description:
        'Discovery flows per current phase, DATA_IMPORT to ASSET_INVENTORY; with `completedDiscoveryFlows` they add up to `discoveryFlows`.',
      resolve: (stats) => stats.byPhase,
    }),
    completedDiscoveryFlows: t.field({
      type: 'SafeInt',
      description: 'Discovery flows with every phase completed (no current phase).',
      resolve: (stats) => stats.completedDiscoveryFlows,
    }),
  }),
});

builder.queryField('flowStatistics', (t) =>
  t.field({
    type: FlowStatisticsRef,
    description:
      'Counts of the tenant\'s flows by status and by phase, for an overview; a client keeps it current by asking again ' +
      'after the flow events it receives.',
    resolve: (_root, _args, ctx) => flowStatistics(ctx.prisma, ctx.viewer),
  }),
);
