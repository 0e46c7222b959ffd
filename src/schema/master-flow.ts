import { builder } from '../builder.ts';
import { tenantWhere, type GraphQLContext } from '../context.ts';
import { relationLoadStrategyFor } from '../db/relation-load-strategy.ts';
import type { FlowType } from '../domain/flow-types.ts';
import type { MasterFlowStatus } from '../domain/master-flow-status.ts';
import { masterFlowChangeStream } from '../services/flow-event-stream.ts';
import type { Prisma } from '../generated/prisma/client.ts';
import { FlowTypeEnum } from './flow-type.ts';
import { MasterFlowStatusEnum } from './master-flow-status.ts';
import {
  DATA_IMPORT_ORDER,
  DISCOVERY_FLOW_ORDER,
  MASTER_FLOW_FILTER_FIELDS,
  MASTER_FLOW_ORDERINGS,
  MASTER_FLOW_RAW_RECORD_ORDER,
  type MasterFlowOrdering,
} from './list-queries.ts';
import { parsePhaseTransitions, PhaseTransitionRef } from './phase-transition.ts';

export const MasterFlowRef = builder.prismaNode('MasterFlow', {
  description:
    'A master flow: the root of a user\'s work. Its data imports, raw import records and discovery flows all belong to it.',
  id: { field: 'flowId' },
  // Node lookups and fallback loads stay inside the viewer's tenant: another tenant's flow is "not found".
  findUnique: (flowId, ctx) => ({ flowId, ...tenantWhere(ctx) }),
  nullable: true,
  fields: (t) => ({
    flowId: t.expose('flowId', { type: 'UUID', description: 'Public id of the flow; children reference it.' }),
    clientAccountId: t.expose('clientAccountId', { type: 'UUID', description: 'Client account (tenant) of the flow.' }),
    engagementId: t.expose('engagementId', { type: 'UUID', description: 'Engagement (tenant) of the flow.' }),
    userId: t.exposeString('userId', { description: 'User who started the flow.' }),
    flowType: t.field({
      type: FlowTypeEnum,
      description: 'Kind of flow.',
      resolve: (flow) => flow.flowType as FlowType,
    }),
    flowName: t.exposeString('flowName', { nullable: true, description: 'Human-readable name.' }),
    flowStatus: t.field({
      type: MasterFlowStatusEnum,
      description: 'Lifecycle state.',
      resolve: (flow) => flow.flowStatus as MasterFlowStatus,
    }),
    flowConfiguration: t.expose('flowConfiguration', {
      type: 'JSON',
      description: 'Free-form configuration; an import\'s master flow holds `data_import_id` here.',
    }),
    phaseTransitions: t.field({
      type: [PhaseTransitionRef],
      description: 'Every status change, oldest first.',
      resolve: (flow) => parsePhaseTransitions(flow.phaseTransitions),
    }),
    errorHistory: t.expose('errorHistory', { type: 'JSON', description: 'Errors the flow has met, newest last.' }),
    retryCount: t.exposeInt('retryCount', { description: 'How many times the flow was retried after failing.' }),
    parentFlowId: t.expose('parentFlowId', { type: 'UUID', nullable: true, description: 'Parent flow, for flows started by other flows.' }),
    version: t.exposeInt('version', {
      description: 'Bumped by every change; pass it back to a transition to detect concurrent changes.',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the flow was created.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When the flow last changed.' }),
    dataImports: t.relatedConnection(
      'dataImports',
      {
        description: 'Files imported into this flow, oldest first.',
        cursor: 'id',
        totalCount: true,
        query: (_args, ctx) => ({ where: tenantWhere(ctx), orderBy: DATA_IMPORT_ORDER }),
      },
      { name: 'MasterFlowDataImportsConnection', description: 'A page of a master flow\'s data imports.' },
      { name: 'MasterFlowDataImportsEdge', description: 'A data import in a page.' },
    ),
    rawRecords: t.relatedConnection(
      'rawRecords',
      {
        description: 'Every raw import record of the flow, ordered by data import, then row number.',
        cursor: 'id',
        totalCount: true,
        args: {
          isValid: t.arg.boolean({ description: 'Only valid (true) or only invalid (false) records.' }),
        },
        query: (args, ctx) => ({
          where: { ...tenantWhere(ctx), ...(args.isValid == null ? {} : { isValid: args.isValid }) },
          orderBy: MASTER_FLOW_RAW_RECORD_ORDER,
        }),
      },
      { name: 'MasterFlowRawRecordsConnection', description: 'A page of a master flow\'s raw import records.' },
      { name: 'MasterFlowRawRecordsEdge', description: 'A raw import record in a page.' },
    ),
    discoveryFlows: t.relation('discoveryFlows', {
      description: 'Discovery flows walking this flow\'s data through the discovery phases.',
      query: (_args, ctx) => ({ where: tenantWhere(ctx), orderBy: DISCOVERY_FLOW_ORDER }),
    }),
    dataImportCount: t.relationCount('dataImports', { description: 'Number of data imports.' }),
    rawRecordCount: t.relationCount('rawRecords', { description: 'Number of raw import records.' }),
    validRecordCount: t.relationCount('rawRecords', {
      description: 'Number of raw import records that passed validation.',
      where: { isValid: true },
    }),
    invalidRecordCount: t.relationCount('rawRecords', {
      description: 'Number of raw import records that failed validation.',
      where: { isValid: false },
    }),
  }),
});

const MasterFlowFilter = builder.inputType('MasterFlowFilter', {
  description: 'Restricts a list of master flows. Lists within a field are alternatives (OR); fields combine (AND).',
  fields: (t) => ({
    flowTypes: t.field({ type: [FlowTypeEnum], required: false, description: 'Only flows of these types.' }),
    statuses: t.field({ type: [MasterFlowStatusEnum], required: false, description: 'Only flows in these states.' }),
  }),
});

const MasterFlowOrder = builder.enumType('MasterFlowOrder', {
  description: 'Sort order of a list of master flows; ties are broken by flow id.',
  values: {
    CREATED_AT_DESC: { value: 'CREATED_AT_DESC', description: 'Newest first (the default).' },
    CREATED_AT_ASC: { value: 'CREATED_AT_ASC', description: 'Oldest first.' },
    UPDATED_AT_DESC: { value: 'UPDATED_AT_DESC', description: 'Most recently changed first.' },
    UPDATED_AT_ASC: { value: 'UPDATED_AT_ASC', description: 'Least recently changed first.' },
    NAME_ASC: { value: 'NAME_ASC', description: 'By name, A to Z; unnamed flows last.' },
    NAME_DESC: { value: 'NAME_DESC', description: 'By name, Z to A; unnamed flows last.' },
  } as const,
});

function masterFlowWhere(
  ctx: GraphQLContext,
  filter: { flowTypes?: FlowType[] | null; statuses?: MasterFlowStatus[] | null } | null | undefined,
): Prisma.MasterFlowWhereInput {
  const where: Prisma.MasterFlowWhereInput = tenantWhere(ctx);
  for (const [argument, field] of Object.entries(MASTER_FLOW_FILTER_FIELDS)) {
    const values = filter?.[argument as keyof typeof MASTER_FLOW_FILTER_FIELDS];
    if (values) where[field] = { in: values };
  }
  return where;
}

builder.queryFields((t) => ({
  masterFlow: t.prismaField({
    type: 'MasterFlow',
    nullable: true,
    description: 'A master flow by its flow id; null when it does not exist or belongs to another tenant.',
    args: { flowId: t.arg({ type: 'UUID', required: true, description: 'The flow id.' }) },
    resolve: (query, _root, args, ctx) =>
      ctx.prisma.masterFlow.findFirst({
        ...query,
        relationLoadStrategy: relationLoadStrategyFor(query),
        where: { flowId: args.flowId, ...tenantWhere(ctx) },
      }),
  }),
  masterFlows: t.prismaConnection(
    {
      type: 'MasterFlow',
      description: 'The tenant\'s master flows, filtered and sorted, a page at a time.',
      cursor: 'flowId',
      args: {
        filter: t.arg({ type: MasterFlowFilter, required: false, description: 'Which flows to include.' }),
        orderBy: t.arg({
          type: MasterFlowOrder,
          required: false,
          defaultValue: 'CREATED_AT_DESC',
          description: 'Sort order.',
        }),
      },
      totalCount: (_connection, args, ctx) => ctx.prisma.masterFlow.count({ where: masterFlowWhere(ctx, args.filter) }),
      resolve: (query, _root, args, ctx) =>
        ctx.prisma.masterFlow.findMany({
          ...query,
          // Prisma finds a cursor's row by its unique field alone, so another tenant's flow id would give a
          // position (and reveal that the flow exists, and when it was created); scoped to the tenant, such a
          // cursor finds no row and the page is empty, as after a flow that does not exist.
          ...(query.cursor ? { cursor: { ...query.cursor, ...tenantWhere(ctx) } } : {}),
          relationLoadStrategy: relationLoadStrategyFor(query),
          where: masterFlowWhere(ctx, args.filter),
          orderBy: MASTER_FLOW_ORDERINGS[(args.orderBy ?? 'CREATED_AT_DESC') as MasterFlowOrdering],
        }),
    },
    { name: 'MasterFlowConnection', description: 'A page of master flows.' },
    { name: 'MasterFlowEdge', description: 'A master flow in a page.' },
  ),
}));


builder.subscriptionFields((t) => ({
  masterFlowChanged: t.prismaField({
    type: 'MasterFlow',
    nullable: true,
    description:
      'The master flow now, then again after each of its changes (changes that happen while the previous state is ' +
      'being sent fold into one). Null, and the end of the subscription, when the flow does not exist, belongs to ' +
      'another tenant, or has been deleted.',
    args: { flowId: t.arg({ type: 'UUID', required: true, description: 'The flow id.' }) },
    subscribe: (_root, args, ctx) =>
      masterFlowChangeStream(ctx.prisma, ctx.events.hub, ctx.viewer, args.flowId.toLowerCase()),
    resolve: (query, _change, args, ctx) =>
      ctx.prisma.masterFlow.findFirst({ ...query, where: { flowId: args.flowId, ...tenantWhere(ctx) } }),
  }),
}));
