/* eslint-disable */
import * as types from './graphql.js';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "query DashboardFlowDetail($flowId: UUID!, $first: Int, $after: String, $last: Int, $before: String, $isValid: Boolean) {\n  masterFlow(flowId: $flowId) {\n    ...FlowRow\n    userId\n    createdAt\n    flowConfiguration\n    rawRecordCount\n    phaseTransitions {\n      from\n      to\n      at\n      by\n    }\n    dataImports(first: 20) {\n      totalCount\n      edges {\n        node {\n          dataImportId\n          filename\n          importType\n          status\n          totalRecords\n          failedRecords\n          createdAt\n        }\n      }\n    }\n    discoveryFlows {\n      flowId\n      status\n      currentPhase\n      progressPercentage\n      phases {\n        phase\n        completed\n        completedAt\n      }\n    }\n    rawRecords(\n      first: $first\n      after: $after\n      last: $last\n      before: $before\n      isValid: $isValid\n    ) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n      edges {\n        node {\n          id\n          rowNumber\n          rawData\n          isValid\n          validationErrors\n          dataImport {\n            filename\n          }\n        }\n      }\n    }\n  }\n}": typeof types.DashboardFlowDetailDocument,
    "query DashboardFlows($first: Int, $after: String, $last: Int, $before: String, $filter: MasterFlowFilter) {\n  masterFlows(\n    first: $first\n    after: $after\n    last: $last\n    before: $before\n    filter: $filter\n  ) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      hasPreviousPage\n      startCursor\n      endCursor\n    }\n    edges {\n      node {\n        ...FlowRow\n      }\n    }\n  }\n}\n\nfragment FlowRow on MasterFlow {\n  id\n  flowId\n  flowName\n  flowType\n  flowStatus\n  version\n  updatedAt\n  validRecordCount\n  invalidRecordCount\n  discoveryFlows {\n    currentPhase\n    progressPercentage\n    phases {\n      phase\n      completed\n    }\n  }\n}": typeof types.DashboardFlowsDocument,
};
const documents: Documents = {
    "query DashboardFlowDetail($flowId: UUID!, $first: Int, $after: String, $last: Int, $before: String, $isValid: Boolean) {\n  masterFlow(flowId: $flowId) {\n    ...FlowRow\n    userId\n    createdAt\n    flowConfiguration\n    rawRecordCount\n    phaseTransitions {\n      from\n      to\n      at\n      by\n    }\n    dataImports(first: 20) {\n      totalCount\n      edges {\n        node {\n          dataImportId\n          filename\n          importType\n          status\n          totalRecords\n          failedRecords\n          createdAt\n        }\n      }\n    }\n    discoveryFlows {\n      flowId\n      status\n      currentPhase\n      progressPercentage\n      phases {\n        phase\n        completed\n        completedAt\n      }\n    }\n    rawRecords(\n      first: $first\n      after: $after\n      last: $last\n      before: $before\n      isValid: $isValid\n    ) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n      edges {\n        node {\n          id\n          rowNumber\n          rawData\n          isValid\n          validationErrors\n          dataImport {\n            filename\n          }\n        }\n      }\n    }\n  }\n}": types.DashboardFlowDetailDocument,
    "query DashboardFlows($first: Int, $after: String, $last: Int, $before: String, $filter: MasterFlowFilter) {\n  masterFlows(\n    first: $first\n    after: $after\n    last: $last\n    before: $before\n    filter: $filter\n  ) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      hasPreviousPage\n      startCursor\n      endCursor\n    }\n    edges {\n      node {\n        ...FlowRow\n      }\n    }\n  }\n}\n\nfragment FlowRow on MasterFlow {\n  id\n  flowId\n  flowName\n  flowType\n  flowStatus\n  version\n  updatedAt\n  validRecordCount\n  invalidRecordCount\n  discoveryFlows {\n    currentPhase\n    progressPercentage\n    phases {\n      phase\n      completed\n    }\n  }\n}": types.DashboardFlowsDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query DashboardFlowDetail($flowId: UUID!, $first: Int, $after: String, $last: Int, $before: String, $isValid: Boolean) {\n  masterFlow(flowId: $flowId) {\n    ...FlowRow\n    userId\n    createdAt\n    flowConfiguration\n    rawRecordCount\n    phaseTransitions {\n      from\n      to\n      at\n      by\n    }\n    dataImports(first: 20) {\n      totalCount\n      edges {\n        node {\n          dataImportId\n          filename\n          importType\n          status\n          totalRecords\n          failedRecords\n          createdAt\n        }\n      }\n    }\n    discoveryFlows {\n      flowId\n      status\n      currentPhase\n      progressPercentage\n      phases {\n        phase\n        completed\n        completedAt\n      }\n    }\n    rawRecords(\n      first: $first\n      after: $after\n      last: $last\n      before: $before\n      isValid: $isValid\n    ) {\n      totalCount\n      pageInfo {\n        hasNextPage\n        hasPreviousPage\n        startCursor\n        endCursor\n      }\n      edges {\n        node {\n          id\n          rowNumber\n          rawData\n          isValid\n          validationErrors\n          dataImport {\n            filename\n          }\n        }\n      }\n    }\n  }\n}"): typeof import('./graphql.js').DashboardFlowDetailDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query DashboardFlows($first: Int, $after: String, $last: Int, $before: String, $filter: MasterFlowFilter) {\n  masterFlows(\n    first: $first\n    after: $after\n    last: $last\n    before: $before\n    filter: $filter\n  ) {\n    totalCount\n    pageInfo {\n      hasNextPage\n      hasPreviousPage\n      startCursor\n      endCursor\n    }\n    edges {\n      node {\n        ...FlowRow\n      }\n    }\n  }\n}\n\nfragment FlowRow on MasterFlow {\n  id\n  flowId\n  flowName\n  flowType\n  flowStatus\n  version\n  updatedAt\n  validRecordCount\n  invalidRecordCount\n  discoveryFlows {\n    currentPhase\n    progressPercentage\n    phases {\n      phase\n      completed\n    }\n  }\n}"): typeof import('./graphql.js').DashboardFlowsDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
