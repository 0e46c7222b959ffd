import { builder } from '../builder.ts';
import type { IntegrityProblem } from '../domain/integrity-rules.ts';
import { IntegrityProblemKindEnum } from './integrity-problem-kind.ts';

// Row ids are left out on purpose: the report covers every tenant, and a request must never see another
// tenant's rows (docs/design.md invariant 2). `npm run doctor` shows sample ids to operators.
export const IntegrityProblemRef = builder.objectRef<IntegrityProblem>('IntegrityProblem').implement({
  description: 'One problem the integrity report found, in the structure or in the rows.',
  fields: (t) => ({
    kind: t.field({ type: IntegrityProblemKindEnum, description: 'What kind of problem.', resolve: (problem) => problem.kind }),
    table: t.exposeString('table', { description: 'The table it concerns.' }),
    column: t.exposeString('column', { nullable: true, description: 'The column it concerns, when one.' }),
    count: t.field({
      type: 'SafeInt',
      nullable: true,
      description: 'How many rows are affected (problems in the rows); null for problems in the structure.',
      resolve: (problem) => problem.count,
    }),
    message: t.exposeString('message', { description: 'What is wrong, in words.' }),
  }),
});
