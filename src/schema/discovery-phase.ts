import { builder } from '../builder.ts';
import { DISCOVERY_PHASES, type DiscoveryPhase } from '../domain/discovery-phases.ts';
import { enumValues } from './enum-values.ts';

const DESCRIPTIONS: Record<DiscoveryPhase, string> = {
  data_import: 'The file is stored as raw import records.',
  data_validation: 'Records are checked against the expected shape.',
  field_mapping: 'Source fields are mapped to the platform\'s asset fields.',
  data_cleansing: 'Values are normalised and corrected.',
  asset_inventory: 'Assets are created in the inventory.',
};

export const DiscoveryPhaseEnum = builder.enumType('DiscoveryPhase', {
  description: 'The five phases of a discovery flow, in the order they are completed.',
  values: enumValues(DISCOVERY_PHASES, (value) => DESCRIPTIONS[value]),
});
