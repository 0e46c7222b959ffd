import { builder } from '../builder.ts';

export const IntegrityTableCountRef = builder.objectRef<{ table: string; rows: number }>('IntegrityTableCount').implement({
  description: 'How many rows a table of the flow graph holds (all tenants).',
  fields: (t) => ({
    table: t.exposeString('table', { description: 'The table.' }),
    rows: t.field({ type: 'SafeInt', description: 'Its number of rows.', resolve: (count) => count.rows }),
  }),
});
