// The master flow lifecycle mutations: one per verb. Each takes the version the client last saw.
import { builder } from '../builder.ts';
import { tenantWhere } from '../context.ts';
import { FlowNotFoundError, InvalidTransitionError, StaleFlowError } from '../domain/flow-errors.ts';
import { InvalidInputError } from '../domain/import-errors.ts';
import { invalidTextProblem } from '../domain/text.ts';
import { TRANSITION_VERBS, transitionMasterFlow, type TransitionVerb } from '../services/master-flow-lifecycle.ts';
import './flow-not-found-error.ts';
import './invalid-input-error.ts';
import './invalid-transition-error.ts';
import './stale-flow-error.ts';

const DESCRIPTIONS: Record<TransitionVerb, string> = {
  start: 'Starts an initialized master flow (INITIALIZED → RUNNING).',
  pause: 'Pauses a running master flow (RUNNING → PAUSED); its discovery flow pauses with it.',
  resume: 'Resumes a paused master flow (PAUSED → RUNNING).',
  complete: 'Completes a running or paused master flow (→ COMPLETED, final).',
  fail: 'Marks a running or paused master flow as failed (→ FAILED), recording the reason in its error history.',
  retry: 'Retries a failed master flow (FAILED → RUNNING) and counts the retry.',
};

for (const verb of Object.keys(TRANSITION_VERBS) as TransitionVerb[]) {
  const name = `${verb}MasterFlow`;
  builder.mutationField(name, (t) =>
    t.prismaField({
      type: 'MasterFlow',
      authScopes: { operator: true },
      description: `${DESCRIPTIONS[verb]} Recorded in phaseTransitions; bumps the version.`,
      args: {
        flowId: t.arg({ type: 'UUID', required: true, description: 'The master flow.' }),
        version: t.arg.int({
          required: true,
          description: 'The version of the flow the client last saw; a StaleFlow error when it changed since.',
        }),
        ...(verb === 'fail'
          ? { reason: t.arg.string({ required: true, description: 'Why the flow failed (at most 2,000 characters).' }) }
          : {}),
      },
      errors: {
        types: [FlowNotFoundError, InvalidTransitionError, StaleFlowError, InvalidInputError],
        directResult: true,
        union: {
          name: `${name.charAt(0).toUpperCase()}${name.slice(1)}Result`,
          description: `The changed master flow, or why ${name} changed nothing.`,
        },
      },
      resolve: async (query, _root, args, ctx) => {
        const reason = (args as { reason?: string }).reason;
        if (reason !== undefined && (reason.trim() === '' || reason.length > 2_000)) {
          throw new InvalidInputError('reason', 'reason must be between 1 and 2,000 characters.');
        }
        const problem = reason === undefined ? null : invalidTextProblem(reason);
        if (problem) throw new InvalidInputError('reason', `reason ${problem}.`);
        await transitionMasterFlow(ctx.prisma, ctx.viewer, { flowId: args.flowId, verb, expectedVersion: args.version, reason });
        return ctx.prisma.masterFlow.findFirstOrThrow({ ...query, where: { flowId: args.flowId, ...tenantWhere(ctx) } });
      },
    }),
  );
}
