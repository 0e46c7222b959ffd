// Every type registers itself with the builder on import; this module only gathers them.
import { builder } from '../builder.ts';
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

export const schema = builder.toSchema({ sortSchema: true });
