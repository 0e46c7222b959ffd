import { builder } from '../builder.ts';
import { INTEGRITY_PROBLEM_KINDS, type IntegrityProblemKind } from '../domain/integrity-rules.ts';
import { enumValues } from './enum-values.ts';

const DESCRIPTIONS: Record<IntegrityProblemKind, string> = {
  missing_foreign_key: 'A column that names a parent row has no foreign key.',
  foreign_key_wrong_column: 'A foreign key references the wrong column (a master flow\'s internal id instead of its flow_id).',
  foreign_key_wrong_action: 'A foreign key has the wrong ON DELETE action (children must go with their master flow).',
  constraint_not_validated: 'A constraint was added NOT VALID and has not been validated: existing rows are unchecked.',
  nullable_column: 'A column that must be NOT NULL (master flow or tenant of a child row) is nullable.',
  missing_index: 'No index starts with a foreign-key column, so joins and cascades scan the table.',
  missing_check_constraint: 'A CHECK constraint that keeps a value list (status, phase, type) is missing.',
  missing_tenant_trigger: 'A trigger that keeps a child in its master flow\'s tenant is missing or disabled.',
  repair_in_progress: 'A repair was interrupted after linking the rows; running it again finishes it.',
  null_master_flow_id: 'Rows that name no master flow.',
  missing_master_flow: 'Rows that name a master flow that does not exist.',
  references_internal_id: 'Rows that name their master flow by its internal id instead of its flow_id.',
  null_tenant: 'Rows whose tenant columns are empty.',
  tenant_mismatch: 'Rows whose tenant differs from their master flow\'s.',
  import_mismatch: 'Rows that belong to another master flow than their data import.',
  missing_data_import: 'Discovery flows that name a data import that does not exist.',
  invalid_value: 'Rows with a value the CHECK constraints do not allow (status, phase, progress, flow type).',
  duplicate_row_number: 'Raw import records that share their data import and row number.',
  invalid_row_number: 'Raw import records whose row number is below 1.',
};

export const IntegrityProblemKindEnum = builder.enumType('IntegrityProblemKind', {
  description: 'What kind of integrity problem was found.',
  values: enumValues(INTEGRITY_PROBLEM_KINDS, (value) => DESCRIPTIONS[value]),
});
