// Every type registers itself with the builder on import; this module only gathers them.
import { builder } from '../builder.ts';
import { documentRequiredRoles } from '../auth/scopes.ts';
import { registerNodeTypes } from './global-id.ts';
import './flow-type.ts';
import './master-flow-status.ts';
import './discovery-phase.ts';
import './discovery-flow-status.ts';
import './import-status.ts';
import './phase-transition.ts';
import './discovery-phase-status.ts';
import './master-flow.ts';
import './data-import.ts';
import './raw-import-record.ts';
import './discovery-flow.ts';
import './integrity-report.ts';
import './error.ts';
import './file.ts';
import './store-import-input.ts';
import './master-flow-transitions.ts';
import './master-flow-deletion.ts';
import './flow-event-kind.ts';
import './flow-event-cursor-expired-error.ts';
import './flow-events-overflow-error.ts';
import './flow-event.ts';

import './viewer.ts';
import './flow-statistics.ts';
import './import-progress.ts';
export const schema = builder.toSchema({ sortSchema: true });
registerNodeTypes(schema);
documentRequiredRoles(schema);

// The Prisma plugin adds `totalCount` to connections without a description, and offers no option for
// one; schema.graphql is the API reference, so it gets one here.
for (const type of Object.values(schema.getTypeMap())) {
  if (!('getFields' in type) || !type.name.endsWith('Connection')) continue;
  const totalCount = (type.getFields() as Record<string, { description?: string | null }>).totalCount;
  if (totalCount && !totalCount.description) {
    totalCount.description = 'Number of items in the whole list (every page), with the same filters.';
  }
}
