import { errorTypeMap, wrapErrorIfMatches } from '@pothos/plugin-errors';
import { GraphQLError } from 'graphql';
import { builder } from '../builder.ts';
import { tenantWhere, type GraphQLContext } from '../context.ts';
import type { FlowEventFilter } from '../domain/flow-event-filter.ts';
import type { FlowEventKind } from '../domain/flow-event-kinds.ts';
import type { FlowType } from '../domain/flow-types.ts';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../domain/page-size.ts';
import type { FlowEvent } from '../generated/prisma/client.ts';
import { isResumable, readLogBounds, readTenantEvents } from '../services/event-log.ts';
import { FlowEventCursorExpiredError, FlowEventsOverflowError } from '../services/flow-event-errors.ts';
import { flowEventStream } from '../services/flow-event-stream.ts';
import { FlowEventCursorExpiredErrorRef } from './flow-event-cursor-expired-error.ts';
import { FlowEventKindEnum } from './flow-event-kind.ts';
import { FlowEventsOverflowErrorRef } from './flow-events-overflow-error.ts';
import { FlowTypeEnum } from './flow-type.ts';

export const FlowEventRef = builder.objectRef<FlowEvent>('FlowEvent').implement({
  description:
    'One state change of a master flow, from the durable event log. Events are ordered by the log: a cursor ' +
    'names a position in it, and resuming after a cursor gives every later event exactly once.',
  fields: (t) => ({
    cursor: t.string({
      description: 'Position of the event in the log; pass it as `after` to continue from here.',
      resolve: (event, _args, ctx) => ctx.events.cursors.encode(event.sequence),
    }),
    kind: t.field({ type: FlowEventKindEnum, description: 'What happened.', resolve: (event) => event.kind as FlowEventKind }),
    time: t.field({
      type: 'DateTime',
      description: 'When the change was made (the start of the transaction that made it).',
      resolve: (event) => event.createdAt,
    }),
    actor: t.exposeString('actor', { description: 'User who made the change.' }),
    flowId: t.field({
      type: 'UUID',
      description: 'Flow id of the master flow the event is about (kept after the flow is deleted).',
      resolve: (event) => event.masterFlowId,
    }),
    flowType: t.field({
      type: FlowTypeEnum,
      description: 'Type of the master flow the event is about.',
      resolve: (event) => event.flowType as FlowType,
    }),
    payload: t.expose('payload', {
      type: 'JSON',
      description: 'Details of the change: before and after status, phase, progress, depending on the kind.',
    }),
    masterFlow: t.prismaField({
      type: 'MasterFlow',
      nullable: true,
      description: 'The master flow as it is now (not as it was at the event); null once it has been deleted.',
      resolve: (query, event, _args, ctx) =>
        ctx.prisma.masterFlow.findUnique({ ...query, where: { flowId: event.masterFlowId, ...tenantWhere(ctx) } }),
    }),
  }),
});

const FlowEventFilterInput = builder.inputType('FlowEventFilter', {
  description: 'Which events to include. Lists within a field are alternatives (OR); fields combine (AND).',
  fields: (t) => ({
    masterFlowId: t.field({ type: 'UUID', required: false, description: 'Only events of this master flow (its flow id).' }),
    flowTypes: t.field({ type: [FlowTypeEnum], required: false, description: 'Only events of master flows of these types.' }),
    kinds: t.field({ type: [FlowEventKindEnum], required: false, description: 'Only events of these kinds.' }),
  }),
});

type FilterArg = { masterFlowId?: string | null; flowTypes?: FlowType[] | null; kinds?: FlowEventKind[] | null } | null | undefined;

function toFilter(filter: FilterArg): FlowEventFilter {
  return {
    masterFlowId: filter?.masterFlowId?.toLowerCase() ?? null,
    flowTypes: filter?.flowTypes ?? null,
    kinds: filter?.kinds ?? null,
  };
}

/** The position an `after` argument names; a string that is not a cursor is refused, not ignored. */
function parseAfter(ctx: GraphQLContext, after: string | null | undefined): bigint | null {
  if (after == null) return null;
  const sequence = ctx.events.cursors.decode(after);
  if (sequence === null) {
    throw new GraphQLError('`after` is not a flow event cursor. Pass the `cursor` of an event, unchanged.', {
      extensions: { code: 'BAD_USER_INPUT' },
    });
  }
  return sequence;
}

const FlowEventConnection = builder.connectionObject(
  { type: FlowEventRef, name: 'FlowEventConnection', description: 'A page of the flow event log, oldest first.' },
  { name: 'FlowEventEdge', description: 'An event in a page of the log.' },
);

interface FlowEventPage {
  edges: { cursor: string; node: FlowEvent }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

async function flowEventPage(ctx: GraphQLContext, filter: FlowEventFilter, after: bigint | null, first: number): Promise<FlowEventPage> {
  const rows = await readTenantEvents(ctx.prisma, ctx.viewer, filter, { after: after ?? 0n }, first + 1);
  if (after !== null) {
    // Read after the page: pruning moves the watermark in the transaction that deletes, so a watermark
    // beyond `after` means rows of this page may have been gone when it was read.
    const bounds = await readLogBounds(ctx.prisma);
    if (!isResumable(after, bounds)) throw new FlowEventCursorExpiredError(ctx.events.cursors.encode(bounds.prunedThrough));
  }
  const edges = rows.slice(0, first).map((node) => ({ cursor: ctx.events.cursors.encode(node.sequence), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: after !== null && after > 0n,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

builder.queryFields((t) => ({
  flowEvents: t.field({
    type: FlowEventConnection,
    description:
      'The tenant\'s flow events, oldest first, a page at a time: the history behind Subscription.flowEvents, ' +
      'with the same cursors.',
    args: {
      filter: t.arg({ type: FlowEventFilterInput, required: false, description: 'Which events to include.' }),
      after: t.arg.string({ required: false, description: 'Only events after this cursor (from an event or a page).' }),
      first: t.arg.int({
        required: false,
        description: `How many events to return (at most ${MAX_PAGE_SIZE}; ${DEFAULT_PAGE_SIZE} by default).`,
      }),
    },
    errors: {
      types: [FlowEventCursorExpiredError],
      directResult: true,
      union: { name: 'FlowEventsPageResult', description: 'A page of the log, or why the cursor cannot be used.' },
    },
    resolve: (_root, args, ctx) =>
      flowEventPage(ctx, toFilter(args.filter), parseAfter(ctx, args.after), args.first ?? DEFAULT_PAGE_SIZE),
  }),
  flowEventCursor: t.string({
    description:
      'The current end of the log, as a cursor. Read it before fetching state, then subscribe with `after` set ' +
      'to it: every change made since arrives, none is missed.',
    resolve: async (_root, _args, ctx) => ctx.events.cursors.encode((await readLogBounds(ctx.prisma)).lastSequence),
  }),
}));

// Subscriptions do not use the errors plugin's `errors` option: it wraps the event stream in an async
// generator, which cannot be returned while it waits for the next event, so an unsubscribed client would
// stay registered until an event happened to arrive. The stream yields the errors as items instead, and
// the resolver wraps them with the plugin's own helper (GraphQL would take a bare Error for a failure).
const STREAM_ERRORS = [FlowEventCursorExpiredError, FlowEventsOverflowError];

const FlowEventsResult = builder.unionType('FlowEventsResult', {
  description:
    'An item of Subscription.flowEvents: an event, or the error that ends the subscription (resume or refetch as it says).',
  types: [FlowEventRef, FlowEventCursorExpiredErrorRef, FlowEventsOverflowErrorRef],
  resolveType: (item) => {
    const errorType = errorTypeMap.get(item as object);
    if (errorType === FlowEventCursorExpiredError) return FlowEventCursorExpiredErrorRef;
    if (errorType === FlowEventsOverflowError) return FlowEventsOverflowErrorRef;
    return FlowEventRef;
  },
});

builder.subscriptionFields((t) => ({
  flowEvents: t.field({
    type: FlowEventsResult,
    description:
      'The tenant\'s flow events as they happen. With `after`, first every event after that cursor from the log, ' +
      'then live ones, with no gap and no duplicate. Without it, only events from now on. Ends with ' +
      'FlowEventsOverflowError when the subscriber falls too far behind, or FlowEventCursorExpiredError when ' +
      '`after` is older than the retention period.',
    args: {
      filter: t.arg({ type: FlowEventFilterInput, required: false, description: 'Which events to include.' }),
      after: t.arg.string({ required: false, description: 'Resume after this cursor (the last event received).' }),
    },
    subscribe: (_root, args, ctx) =>
      flowEventStream(
        { prisma: ctx.prisma, hub: ctx.events.hub, bufferSize: ctx.events.bufferSize, cursors: ctx.events.cursors },
        ctx.viewer,
        toFilter(args.filter),
        parseAfter(ctx, args.after),
      ),
    resolve: (item) => (item instanceof Error ? (wrapErrorIfMatches(item, STREAM_ERRORS) as typeof item) : item),
  }),
}));
