import { builder } from '../builder.ts';
import { prismaQuerySession } from '../db/prisma-query.ts';
import { integrityReport, type IntegrityReport } from '../services/integrity-report.ts';
import { DatabaseShapeEnum } from './database-shape.ts';
import { IntegrityProblemRef } from './integrity-problem.ts';
import { IntegrityTableCountRef } from './integrity-table-count.ts';

export const IntegrityReportRef = builder.objectRef<IntegrityReport>('IntegrityReport').implement({
  description:
    "The database's integrity against flowgraph's invariants (the same report as `npm run doctor`): foreign keys, " +
    'NOT NULL, indexes, CHECKs and tenant triggers, and, unless only the structure was asked for, the rows.',
  fields: (t) => ({
    shape: t.field({ type: DatabaseShapeEnum, description: 'Which kind of database this is.', resolve: (report) => report.shape }),
    clean: t.exposeBoolean('clean', { description: 'True when no problem was found.' }),
    dataChecked: t.exposeBoolean('dataChecked', { description: 'Whether the rows were checked (full scans), or only the structure.' }),
    migrationsApplied: t.stringList({ description: 'Migrations recorded as applied.', resolve: (report) => report.migrations.applied }),
    migrationsPending: t.stringList({ description: 'Migrations not applied yet.', resolve: (report) => report.migrations.pending }),
    tables: t.field({
      type: [IntegrityTableCountRef],
      description: 'Rows per table of the flow graph (empty when the rows were not checked).',
      resolve: (report) => report.tables,
    }),
    problems: t.field({ type: [IntegrityProblemRef], description: 'Every problem found.', resolve: (report) => report.problems }),
    notes: t.stringList({ description: 'Remarks, such as why the shape was not recognised.', resolve: (report) => report.notes }),
    checkedAt: t.field({ type: 'DateTime', description: 'When the report was made.', resolve: (report) => report.checkedAt }),
  }),
});

builder.queryFields((t) => ({
  integrityReport: t.field({
    type: IntegrityReportRef,
    authScopes: { admin: true },
    description:
      "The integrity report of the whole database (every tenant's rows, counted; no row ids). Requires the admin role.",
    args: {
      dataChecks: t.arg.boolean({
        required: false,
        defaultValue: true,
        description: 'Also check the rows (scans every table); false checks the structure only, from the catalog.',
      }),
    },
    resolve: (_root, args, ctx) => integrityReport(prismaQuerySession(ctx.prisma), { data: args.dataChecks ?? true }),
  }),
}));
