/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { DocumentTypeDecoration } from '@graphql-typed-document-node/core';
/** State of a discovery flow; it always mirrors its master flow. */
export type DiscoveryFlowStatus =
  /** Its master flow is initialized or running. */
  | 'ACTIVE'
  /** Every phase is complete. */
  | 'COMPLETED'
  /** Its master flow failed. */
  | 'FAILED'
  /** Its master flow is paused. */
  | 'PAUSED';

/** The five phases of a discovery flow, in the order they are completed. */
export type DiscoveryPhase =
  /** Assets are created in the inventory. */
  | 'ASSET_INVENTORY'
  /** Values are normalised and corrected. */
  | 'DATA_CLEANSING'
  /** The file is stored as raw import records. */
  | 'DATA_IMPORT'
  /** Records are checked against the expected shape. */
  | 'DATA_VALIDATION'
  /** Source fields are mapped to the platform's asset fields. */
  | 'FIELD_MAPPING';

/** The kind of work a master flow does. */
export type FlowType =
  /** A assessment flow. */
  | 'ASSESSMENT'
  /** A collection flow. */
  | 'COLLECTION'
  /** A decommission flow. */
  | 'DECOMMISSION'
  /** A discovery flow. */
  | 'DISCOVERY'
  /** A execution flow. */
  | 'EXECUTION'
  /** A finops flow. */
  | 'FINOPS'
  /** A modernize flow. */
  | 'MODERNIZE'
  /** A observability flow. */
  | 'OBSERVABILITY'
  /** A planning flow. */
  | 'PLANNING';

/** Processing state of a data import. */
export type ImportStatus =
  /** Every row is stored. */
  | 'COMPLETED'
  /** Processing stopped with an error. */
  | 'FAILED'
  /** Received, not processed yet. */
  | 'PENDING'
  /** Being parsed and stored. */
  | 'PROCESSING';

/** Restricts a list of master flows. Lists within a field are alternatives (OR); fields combine (AND). */
export type MasterFlowFilter = {
  /** Only flows of these types. */
  flowTypes?: Array<FlowType> | null | undefined;
  /** Only flows in these states. */
  statuses?: Array<MasterFlowStatus> | null | undefined;
};

/** Lifecycle state of a master flow: INITIALIZED → RUNNING, RUNNING ⇄ PAUSED, RUNNING|PAUSED → COMPLETED|FAILED, FAILED → RUNNING. */
export type MasterFlowStatus =
  /** Finished successfully. Final. */
  | 'COMPLETED'
  /** Stopped by an error; can be retried. */
  | 'FAILED'
  /** Created, not started yet. */
  | 'INITIALIZED'
  /** Stopped by a user; can be resumed. */
  | 'PAUSED'
  /** Working through its phases. */
  | 'RUNNING';

export type DashboardFlowDetailQueryVariables = Exact<{
  flowId: string;
  first?: number | null | undefined;
  after?: string | null | undefined;
  last?: number | null | undefined;
  before?: string | null | undefined;
  isValid?: boolean | null | undefined;
}>;


export type DashboardFlowDetailQuery = { masterFlow: { userId: string, createdAt: string, flowConfiguration: unknown, rawRecordCount: number, id: string, flowId: string, flowName: string | null, flowType: FlowType, flowStatus: MasterFlowStatus, version: number, updatedAt: string, validRecordCount: number, invalidRecordCount: number, phaseTransitions: Array<{ from: MasterFlowStatus | null, to: MasterFlowStatus, at: string, by: string }>, dataImports: { totalCount: number, edges: Array<{ node: { dataImportId: string, filename: string, importType: string, status: ImportStatus, totalRecords: number, failedRecords: number, createdAt: string } }> }, discoveryFlows: Array<{ flowId: string, status: DiscoveryFlowStatus, currentPhase: DiscoveryPhase | null, progressPercentage: number, phases: Array<{ phase: DiscoveryPhase, completed: boolean, completedAt: string | null }> }>, rawRecords: { totalCount: number, pageInfo: { hasNextPage: boolean, hasPreviousPage: boolean, startCursor: string | null, endCursor: string | null }, edges: Array<{ node: { id: string, rowNumber: number, rawData: unknown, isValid: boolean, validationErrors: unknown, dataImport: { filename: string } } }> } } | null };

export type DashboardFlowsQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
  last?: number | null | undefined;
  before?: string | null | undefined;
  filter?: MasterFlowFilter | null | undefined;
}>;


export type DashboardFlowsQuery = { masterFlows: { totalCount: number, pageInfo: { hasNextPage: boolean, hasPreviousPage: boolean, startCursor: string | null, endCursor: string | null }, edges: Array<{ node: { id: string, flowId: string, flowName: string | null, flowType: FlowType, flowStatus: MasterFlowStatus, version: number, updatedAt: string, validRecordCount: number, invalidRecordCount: number, discoveryFlows: Array<{ currentPhase: DiscoveryPhase | null, progressPercentage: number, phases: Array<{ phase: DiscoveryPhase, completed: boolean }> }> } }> } };

export type FlowRowFragment = { id: string, flowId: string, flowName: string | null, flowType: FlowType, flowStatus: MasterFlowStatus, version: number, updatedAt: string, validRecordCount: number, invalidRecordCount: number, discoveryFlows: Array<{ currentPhase: DiscoveryPhase | null, progressPercentage: number, phases: Array<{ phase: DiscoveryPhase, completed: boolean }> }> };

export class TypedDocumentString<TResult, TVariables>
  extends String
  implements DocumentTypeDecoration<TResult, TVariables>
{
  __apiType?: NonNullable<DocumentTypeDecoration<TResult, TVariables>['__apiType']>;
  private value: string;
  public __meta__?: Record<string, any> | undefined;

  constructor(value: string, __meta__?: Record<string, any> | undefined) {
    super(value);
    this.value = value;
    this.__meta__ = __meta__;
  }

  override toString(): string & DocumentTypeDecoration<TResult, TVariables> {
    return this.value;
  }
}
export const FlowRowFragmentDoc = new TypedDocumentString(`
    fragment FlowRow on MasterFlow {
  id
  flowId
  flowName
  flowType
  flowStatus
  version
  updatedAt
  validRecordCount
  invalidRecordCount
  discoveryFlows {
    currentPhase
    progressPercentage
    phases {
      phase
      completed
    }
  }
}
    `, {"fragmentName":"FlowRow"}) as unknown as TypedDocumentString<FlowRowFragment, unknown>;
export const DashboardFlowDetailDocument = new TypedDocumentString(`
    query DashboardFlowDetail($flowId: UUID!, $first: Int, $after: String, $last: Int, $before: String, $isValid: Boolean) {
  masterFlow(flowId: $flowId) {
    ...FlowRow
    userId
    createdAt
    flowConfiguration
    rawRecordCount
    phaseTransitions {
      from
      to
      at
      by
    }
    dataImports(first: 20) {
      totalCount
      edges {
        node {
          dataImportId
          filename
          importType
          status
          totalRecords
          failedRecords
          createdAt
        }
      }
    }
    discoveryFlows {
      flowId
      status
      currentPhase
      progressPercentage
      phases {
        phase
        completed
        completedAt
      }
    }
    rawRecords(
      first: $first
      after: $after
      last: $last
      before: $before
      isValid: $isValid
    ) {
      totalCount
      pageInfo {
        hasNextPage
        hasPreviousPage
        startCursor
        endCursor
      }
      edges {
        node {
          id
          rowNumber
          rawData
          isValid
          validationErrors
          dataImport {
            filename
          }
        }
      }
    }
  }
}
    fragment FlowRow on MasterFlow {
  id
  flowId
  flowName
  flowType
  flowStatus
  version
  updatedAt
  validRecordCount
  invalidRecordCount
  discoveryFlows {
    currentPhase
    progressPercentage
    phases {
      phase
      completed
    }
  }
}`) as unknown as TypedDocumentString<DashboardFlowDetailQuery, DashboardFlowDetailQueryVariables>;
export const DashboardFlowsDocument = new TypedDocumentString(`
    query DashboardFlows($first: Int, $after: String, $last: Int, $before: String, $filter: MasterFlowFilter) {
  masterFlows(
    first: $first
    after: $after
    last: $last
    before: $before
    filter: $filter
  ) {
    totalCount
    pageInfo {
      hasNextPage
      hasPreviousPage
      startCursor
      endCursor
    }
    edges {
      node {
        ...FlowRow
      }
    }
  }
}
    fragment FlowRow on MasterFlow {
  id
  flowId
  flowName
  flowType
  flowStatus
  version
  updatedAt
  validRecordCount
  invalidRecordCount
  discoveryFlows {
    currentPhase
    progressPercentage
    phases {
      phase
      completed
    }
  }
}`) as unknown as TypedDocumentString<DashboardFlowsQuery, DashboardFlowsQueryVariables>;