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

/** What a flow event records. */
export type FlowEventKind =
  /** Something else a dashboard shows changed: a name, a failure reason, a counter, an import or discovery flow added or removed (payload: entity — master_flow, data_import or discovery_flow —, change — updated, created or deleted — and, for updates, the changed columns in `fields`). At most one per master flow and transaction, and none in a transaction that already has another event for the flow. */
  | 'FLOW_UPDATED'
  /** An import was stored: its master flow, data import, raw records and discovery flow. */
  | 'IMPORT_STORED'
  /** A master flow was created. */
  | 'MASTER_FLOW_CREATED'
  /** The master flow and its whole subtree were deleted (payload: before, dataImportsDeleted, rawRecordsDeleted, discoveryFlowsDeleted). */
  | 'MASTER_FLOW_DELETED'
  /** A discovery phase was completed (payload: phase, currentPhase, progressPercentage). */
  | 'PHASE_COMPLETED'
  /** The master flow's status changed (payload: before, after, version). */
  | 'STATUS_CHANGED';

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

/** What a caller may do. Each role includes the ones listed before it. */
export type Role =
  /** Also deletes flows and reads the integrity report. */
  | 'ADMIN'
  /** Also imports files and moves flows through their lifecycle. */
  | 'OPERATOR'
  /** Reads the flow graph and its events. */
  | 'VIEWER';

/** A file to import (multipart upload: CSV with a header row, or a JSON array of objects; UTF-8, a byte order mark is accepted) or inline rows, with what describes them. Give exactly one of `file` and `rows`. */
export type StoreImportInput = {
  /** The uploaded file. Its format comes from the extension of `filename` (.csv, .json), else from its MIME type. */
  file?: unknown;
  /** Name of the file (at most 255 characters). */
  filename: string;
  /** Makes retries safe: a second request with the same key, content and details returns the first import and writes nothing; the same key with anything different is an IdempotencyConflict. Keys are per tenant (at most 255 characters). */
  idempotencyKey?: string | null | undefined;
  /** Category of the import (at most 50 characters). */
  importCategory?: string | null | undefined;
  /** Kind of data, for example `servers` or `cmdb` (at most 50 characters). */
  importType: string;
  /** Rows given inline instead of a file; each should be an object, like the elements of a JSON upload. */
  rows?: Array<unknown> | null | undefined;
  /** System the data was exported from (at most 100 characters). */
  sourceSystem?: string | null | undefined;
};

type ActionFailure_EmptyFile_Fragment = { message: string };

type ActionFailure_FileTooLarge_Fragment = { message: string };

type ActionFailure_FlowEventCursorExpiredError_Fragment = { message: string };

type ActionFailure_FlowEventsOverflowError_Fragment = { message: string };

type ActionFailure_FlowNotFound_Fragment = { message: string };

type ActionFailure_FlowNotRunning_Fragment = { message: string };

type ActionFailure_IdempotencyConflict_Fragment = { message: string };

type ActionFailure_InvalidInput_Fragment = { message: string };

type ActionFailure_InvalidTransition_Fragment = { message: string };

type ActionFailure_MalformedFile_Fragment = { message: string };

type ActionFailure_PhaseOutOfOrder_Fragment = { message: string };

type ActionFailure_StaleFlow_Fragment = { message: string };

type ActionFailure_UnsupportedFormat_Fragment = { message: string };

export type ActionFailureFragment =
  | ActionFailure_EmptyFile_Fragment
  | ActionFailure_FileTooLarge_Fragment
  | ActionFailure_FlowEventCursorExpiredError_Fragment
  | ActionFailure_FlowEventsOverflowError_Fragment
  | ActionFailure_FlowNotFound_Fragment
  | ActionFailure_FlowNotRunning_Fragment
  | ActionFailure_IdempotencyConflict_Fragment
  | ActionFailure_InvalidInput_Fragment
  | ActionFailure_InvalidTransition_Fragment
  | ActionFailure_MalformedFile_Fragment
  | ActionFailure_PhaseOutOfOrder_Fragment
  | ActionFailure_StaleFlow_Fragment
  | ActionFailure_UnsupportedFormat_Fragment
;

export type DashboardPauseMutationVariables = Exact<{
  flowId: string;
  version: number;
}>;


export type DashboardPauseMutation = { pauseMasterFlow:
    | { __typename: 'FlowNotFound', message: string }
    | { __typename: 'InvalidInput', message: string }
    | { __typename: 'InvalidTransition', message: string }
    | { __typename: 'MasterFlow', flowStatus: MasterFlowStatus, version: number }
    | { __typename: 'StaleFlow', message: string }
   };

export type DashboardResumeMutationVariables = Exact<{
  flowId: string;
  version: number;
}>;


export type DashboardResumeMutation = { resumeMasterFlow:
    | { __typename: 'FlowNotFound', message: string }
    | { __typename: 'InvalidInput', message: string }
    | { __typename: 'InvalidTransition', message: string }
    | { __typename: 'MasterFlow', flowStatus: MasterFlowStatus, version: number }
    | { __typename: 'StaleFlow', message: string }
   };

export type DashboardRetryMutationVariables = Exact<{
  flowId: string;
  version: number;
}>;


export type DashboardRetryMutation = { retryMasterFlow:
    | { __typename: 'FlowNotFound', message: string }
    | { __typename: 'InvalidInput', message: string }
    | { __typename: 'InvalidTransition', message: string }
    | { __typename: 'MasterFlow', flowStatus: MasterFlowStatus, version: number }
    | { __typename: 'StaleFlow', message: string }
   };

export type DashboardStartMutationVariables = Exact<{
  flowId: string;
  version: number;
}>;


export type DashboardStartMutation = { startMasterFlow:
    | { __typename: 'FlowNotFound', message: string }
    | { __typename: 'InvalidInput', message: string }
    | { __typename: 'InvalidTransition', message: string }
    | { __typename: 'MasterFlow', flowStatus: MasterFlowStatus, version: number }
    | { __typename: 'StaleFlow', message: string }
   };

export type DashboardCompletePhaseMutationVariables = Exact<{
  flowId: string;
  phase: DiscoveryPhase;
  version?: number | null | undefined;
}>;


export type DashboardCompletePhaseMutation = { completeDiscoveryPhase:
    | { __typename: 'DiscoveryFlow', currentPhase: DiscoveryPhase | null, progressPercentage: number }
    | { __typename: 'FlowNotFound', message: string }
    | { __typename: 'FlowNotRunning', message: string }
    | { __typename: 'PhaseOutOfOrder', message: string }
    | { __typename: 'StaleFlow', message: string }
   };

export type DashboardDeleteMutationVariables = Exact<{
  flowId: string;
}>;


export type DashboardDeleteMutation = { deleteMasterFlow:
    | { __typename: 'FlowNotFound', message: string }
    | { __typename: 'MasterFlowDeletion', dataImportsDeleted: number, rawRecordsDeleted: number, discoveryFlowsDeleted: number }
   };

export type DashboardUploadMutationVariables = Exact<{
  input: StoreImportInput;
}>;


export type DashboardUploadMutation = { storeImport:
    | { __typename: 'EmptyFile', message: string }
    | { __typename: 'FileTooLarge', message: string }
    | { __typename: 'IdempotencyConflict', message: string }
    | { __typename: 'InvalidInput', message: string }
    | { __typename: 'MalformedFile', message: string }
    | { __typename: 'MasterFlow', flowId: string, flowName: string | null, rawRecordCount: number, invalidRecordCount: number }
    | { __typename: 'UnsupportedFormat', message: string }
   };

export type DashboardEventsSubscriptionVariables = Exact<{
  after?: string | null | undefined;
}>;


export type DashboardEventsSubscription = { flowEvents:
    | { __typename: 'FlowEvent', cursor: string, kind: FlowEventKind, time: string, actor: string, flowId: string, payload: unknown, masterFlow: { id: string, flowId: string, flowName: string | null, flowType: FlowType, flowStatus: MasterFlowStatus, version: number, updatedAt: string, validRecordCount: number, invalidRecordCount: number, discoveryFlows: Array<{ currentPhase: DiscoveryPhase | null, progressPercentage: number, phases: Array<{ phase: DiscoveryPhase, completed: boolean }> }> } | null }
    | { __typename: 'FlowEventCursorExpiredError', message: string, oldestCursor: string }
    | { __typename: 'FlowEventsOverflowError', message: string, lastCursor: string }
   };

export type DashboardEventCursorQueryVariables = Exact<{ [key: string]: never; }>;


export type DashboardEventCursorQuery = { flowEventCursor: string };

export type DashboardFlowHistoryQueryVariables = Exact<{
  flowId: string;
  after?: string | null | undefined;
}>;


export type DashboardFlowHistoryQuery = { flowEvents:
    | { __typename: 'FlowEventConnection', edges: Array<{ node: { cursor: string, kind: FlowEventKind, time: string, actor: string, payload: unknown } }> }
    | { __typename: 'FlowEventCursorExpiredError', message: string }
   };

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


export type DashboardFlowsQuery = { masterFlows: { totalCount: number, pageInfo: { hasNextPage: boolean, hasPreviousPage: boolean, startCursor: string | null, endCursor: string | null }, edges: Array<{ node: { id: string, flowId: string, flowName: string | null, flowType: FlowType, flowStatus: MasterFlowStatus, version: number, updatedAt: string, validRecordCount: number, invalidRecordCount: number, firstImport: { totalCount: number, edges: Array<{ node: { filename: string, importType: string } }> }, discoveryFlows: Array<{ currentPhase: DiscoveryPhase | null, progressPercentage: number, phases: Array<{ phase: DiscoveryPhase, completed: boolean }> }> } }> } };

export type FlowRowFragment = { id: string, flowId: string, flowName: string | null, flowType: FlowType, flowStatus: MasterFlowStatus, version: number, updatedAt: string, validRecordCount: number, invalidRecordCount: number, discoveryFlows: Array<{ currentPhase: DiscoveryPhase | null, progressPercentage: number, phases: Array<{ phase: DiscoveryPhase, completed: boolean }> }> };

export type DashboardImportProgressQueryVariables = Exact<{
  idempotencyKey: string;
}>;


export type DashboardImportProgressQuery = { importProgress: { status: ImportStatus, rowsStored: number, invalidRows: number, bytesRead: number | null } | null };

export type DashboardFlowStatisticsQueryVariables = Exact<{ [key: string]: never; }>;


export type DashboardFlowStatisticsQuery = { flowStatistics: { masterFlows: number, discoveryFlows: number, completedDiscoveryFlows: number, byStatus: Array<{ status: MasterFlowStatus, count: number }>, byPhase: Array<{ phase: DiscoveryPhase, count: number }> } };

export type DashboardViewerQueryVariables = Exact<{ [key: string]: never; }>;


export type DashboardViewerQuery = { viewer: { userId: string, roles: Array<Role>, canOperate: boolean, canAdminister: boolean } };

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
export const ActionFailureFragmentDoc = new TypedDocumentString(`
    fragment ActionFailure on Error {
  message
}
    `, {"fragmentName":"ActionFailure"}) as unknown as TypedDocumentString<ActionFailureFragment, unknown>;
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
export const DashboardPauseDocument = new TypedDocumentString(`
    mutation DashboardPause($flowId: UUID!, $version: Int!) {
  pauseMasterFlow(flowId: $flowId, version: $version) {
    __typename
    ...ActionFailure
    ... on MasterFlow {
      flowStatus
      version
    }
  }
}
    fragment ActionFailure on Error {
  message
}`, {"hash":"74ea59dc7093b7db779c7ae216ec4f15fa370b39b5baa4e9a2c4da49f4ea340a"}) as unknown as TypedDocumentString<DashboardPauseMutation, DashboardPauseMutationVariables>;
export const DashboardResumeDocument = new TypedDocumentString(`
    mutation DashboardResume($flowId: UUID!, $version: Int!) {
  resumeMasterFlow(flowId: $flowId, version: $version) {
    __typename
    ...ActionFailure
    ... on MasterFlow {
      flowStatus
      version
    }
  }
}
    fragment ActionFailure on Error {
  message
}`, {"hash":"3aba0ad689f5dda2eda7f0d5b0222ff3a0d23ee66bf27ff1033b801dd178c074"}) as unknown as TypedDocumentString<DashboardResumeMutation, DashboardResumeMutationVariables>;
export const DashboardRetryDocument = new TypedDocumentString(`
    mutation DashboardRetry($flowId: UUID!, $version: Int!) {
  retryMasterFlow(flowId: $flowId, version: $version) {
    __typename
    ...ActionFailure
    ... on MasterFlow {
      flowStatus
      version
    }
  }
}
    fragment ActionFailure on Error {
  message
}`, {"hash":"598da333d98effea45d3defb2ff0b4c08560ecf65fd86756781c94c17bd65fd2"}) as unknown as TypedDocumentString<DashboardRetryMutation, DashboardRetryMutationVariables>;
export const DashboardStartDocument = new TypedDocumentString(`
    mutation DashboardStart($flowId: UUID!, $version: Int!) {
  startMasterFlow(flowId: $flowId, version: $version) {
    __typename
    ...ActionFailure
    ... on MasterFlow {
      flowStatus
      version
    }
  }
}
    fragment ActionFailure on Error {
  message
}`, {"hash":"c2fafdc2013ec05b1fb253e858caa4649243bb8a8917c5883db782697391eeca"}) as unknown as TypedDocumentString<DashboardStartMutation, DashboardStartMutationVariables>;
export const DashboardCompletePhaseDocument = new TypedDocumentString(`
    mutation DashboardCompletePhase($flowId: UUID!, $phase: DiscoveryPhase!, $version: Int) {
  completeDiscoveryPhase(flowId: $flowId, phase: $phase, version: $version) {
    __typename
    ...ActionFailure
    ... on DiscoveryFlow {
      currentPhase
      progressPercentage
    }
  }
}
    fragment ActionFailure on Error {
  message
}`, {"hash":"2423b046bb0a10f4f02980d7fda3e52c4dd796b173f9cd7316e75d41f96c3736"}) as unknown as TypedDocumentString<DashboardCompletePhaseMutation, DashboardCompletePhaseMutationVariables>;
export const DashboardDeleteDocument = new TypedDocumentString(`
    mutation DashboardDelete($flowId: UUID!) {
  deleteMasterFlow(flowId: $flowId) {
    __typename
    ... on FlowNotFound {
      message
    }
    ... on MasterFlowDeletion {
      dataImportsDeleted
      rawRecordsDeleted
      discoveryFlowsDeleted
    }
  }
}
    `, {"hash":"97b505e1a5a98e80f45ad33e398c4a63aebc64bc77e1e5e0904f7143060145d8"}) as unknown as TypedDocumentString<DashboardDeleteMutation, DashboardDeleteMutationVariables>;
export const DashboardUploadDocument = new TypedDocumentString(`
    mutation DashboardUpload($input: StoreImportInput!) {
  storeImport(input: $input) {
    __typename
    ... on Error {
      message
    }
    ... on MasterFlow {
      flowId
      flowName
      rawRecordCount
      invalidRecordCount
    }
  }
}
    `, {"hash":"c50f2acb66b25778529e4420cacf97f9c2abb8703f5a52ca5d197e6d62d1cc61"}) as unknown as TypedDocumentString<DashboardUploadMutation, DashboardUploadMutationVariables>;
export const DashboardEventsDocument = new TypedDocumentString(`
    subscription DashboardEvents($after: String) {
  flowEvents(after: $after) {
    __typename
    ... on FlowEvent {
      cursor
      kind
      time
      actor
      flowId
      payload
      masterFlow {
        ...FlowRow
      }
    }
    ... on FlowEventsOverflowError {
      message
      lastCursor
    }
    ... on FlowEventCursorExpiredError {
      message
      oldestCursor
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
}`, {"hash":"028a313239d99b11f7c5e5e08cd31e9c84e89ecbc56c166164fe3730d0bd8e72"}) as unknown as TypedDocumentString<DashboardEventsSubscription, DashboardEventsSubscriptionVariables>;
export const DashboardEventCursorDocument = new TypedDocumentString(`
    query DashboardEventCursor {
  flowEventCursor
}
    `, {"hash":"20491788c50f1f9fcfef60c881ae0eea937f393bcdeb67201bb5ecd4e306f2ec"}) as unknown as TypedDocumentString<DashboardEventCursorQuery, DashboardEventCursorQueryVariables>;
export const DashboardFlowHistoryDocument = new TypedDocumentString(`
    query DashboardFlowHistory($flowId: UUID!, $after: String) {
  flowEvents(filter: {masterFlowId: $flowId}, after: $after, first: 200) {
    __typename
    ... on FlowEventConnection {
      edges {
        node {
          cursor
          kind
          time
          actor
          payload
        }
      }
    }
    ... on FlowEventCursorExpiredError {
      message
    }
  }
}
    `, {"hash":"9cad1b8701ed37a7330eb758849c9b920ce77e784d1869b0dcb2f58c2099565c"}) as unknown as TypedDocumentString<DashboardFlowHistoryQuery, DashboardFlowHistoryQueryVariables>;
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
}`, {"hash":"19ba8c2509d0e64151178824cab633473cf43b9794b65f1cb31e1e5184fcddba"}) as unknown as TypedDocumentString<DashboardFlowDetailQuery, DashboardFlowDetailQueryVariables>;
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
        firstImport: dataImports(first: 1) {
          totalCount
          edges {
            node {
              filename
              importType
            }
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
}`, {"hash":"98db3b338184b6e52e10dfe4bb8bb6289c8e6a48592eef2033958b134455efc1"}) as unknown as TypedDocumentString<DashboardFlowsQuery, DashboardFlowsQueryVariables>;
export const DashboardImportProgressDocument = new TypedDocumentString(`
    query DashboardImportProgress($idempotencyKey: String!) {
  importProgress(idempotencyKey: $idempotencyKey) {
    status
    rowsStored
    invalidRows
    bytesRead
  }
}
    `, {"hash":"0541078d26a63fb4016520e677480e1434e3c52eab3f9f8e8ce993e6da47e5b6"}) as unknown as TypedDocumentString<DashboardImportProgressQuery, DashboardImportProgressQueryVariables>;
export const DashboardFlowStatisticsDocument = new TypedDocumentString(`
    query DashboardFlowStatistics {
  flowStatistics {
    masterFlows
    byStatus {
      status
      count
    }
    discoveryFlows
    byPhase {
      phase
      count
    }
    completedDiscoveryFlows
  }
}
    `, {"hash":"e721a74261fc2cfaab601230d12f7a98b4002465985ca1e18acd59299fbae8ba"}) as unknown as TypedDocumentString<DashboardFlowStatisticsQuery, DashboardFlowStatisticsQueryVariables>;
export const DashboardViewerDocument = new TypedDocumentString(`
    query DashboardViewer {
  viewer {
    userId
    roles
    canOperate
    canAdminister
  }
}
    `, {"hash":"54a3448966e54664fd89a1e3c5a108fd7f71d0e17d9d6e94cbe6371a8268dd3f"}) as unknown as TypedDocumentString<DashboardViewerQuery, DashboardViewerQueryVariables>;