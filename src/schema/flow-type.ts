import { builder } from '../builder.ts';
import { FLOW_TYPES } from '../domain/flow-types.ts';
import { enumValues } from './enum-values.ts';

export const FlowTypeEnum = builder.enumType('FlowType', {
  description: 'The kind of work a master flow does.',
  values: enumValues(FLOW_TYPES, (value) => `A ${value} flow.`),
});
