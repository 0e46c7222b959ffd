import { builder } from '../builder.ts';
import { IMPORT_STATUSES, type ImportStatus } from '../domain/import-status.ts';
import { enumValues } from './enum-values.ts';

const DESCRIPTIONS: Record<ImportStatus, string> = {
  pending: 'Received, not processed yet.',
  processing: 'Being parsed and stored.',
  completed: 'Every row is stored.',
  failed: 'Processing stopped with an error.',
};

export const ImportStatusEnum = builder.enumType('ImportStatus', {
  description: 'Processing state of a data import.',
  values: enumValues(IMPORT_STATUSES, (value) => DESCRIPTIONS[value]),
});
