import { builder } from '../builder.ts';
import type { IntegrityReport } from '../services/integrity-report.ts';
import { enumValues } from './enum-values.ts';

const SHAPES = ['flowgraph', 'legacy', 'repair_in_progress', 'unrecognised'] as const satisfies readonly IntegrityReport['shape'][];

const DESCRIPTIONS: Record<IntegrityReport['shape'], string> = {
  flowgraph: "flowgraph's own schema: its migrations are recorded in _prisma_migrations.",
  legacy: 'The old platform\'s schema (test/fixtures/legacy-schema.sql), not repaired yet: `npm run repair` turns it into flowgraph\'s.',
  repair_in_progress: 'A repair committed its links but has not validated its constraints yet: `npm run repair -- --apply` finishes it.',
  unrecognised: 'Neither flowgraph\'s schema nor the legacy one; the notes say why.',
};

export const DatabaseShapeEnum = builder.enumType('DatabaseShape', {
  description: 'Which kind of database the integrity report looked at.',
  values: enumValues(SHAPES, (value) => DESCRIPTIONS[value]),
});
