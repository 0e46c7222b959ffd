// The buttons of a flow's detail view: lifecycle transitions, completing the current discovery phase,
// and deletion behind a confirmation that names what goes with the flow. Each is one API mutation; a
// typed error (stale version, illegal move, missing role) is shown as it comes back.
import type { Api } from './api';
import { GraphQLRequestError } from './api';
import { h } from './dom';
import type { Flow } from './flow-detail';
import type { Permissions } from './permissions';
import { label } from './format';
import { flowTitle } from './flow-name';
import {
  DashboardCompletePhaseDocument,
  DashboardDeleteDocument,
  DashboardPauseDocument,
  DashboardResumeDocument,
  DashboardRetryDocument,
  DashboardStartDocument,
} from './generated/graphql';

type Outcome = { __typename: string; message?: string };

export function flowActions(api: Api, flow: Flow, may: Permissions, after: { changed: () => void; deleted: () => void }): HTMLElement | null {
  if (!may.operate && !may.administer) return null;
  const status = h('p', { class: 'action-status', role: 'status', 'data-testid': 'action-status' });
  const run = async (action: () => Promise<Outcome>) => {
    status.textContent = 'working…';
    try {
      const outcome = await action();
      if (outcome.message && outcome.__typename !== 'MasterFlow') {
        status.textContent = outcome.message;
        status.className = 'action-status error';
        return;
      }
      status.textContent = '';
      after.changed();
    } catch (error) {
      status.textContent = error instanceof GraphQLRequestError ? error.message : 'the request failed';
      status.className = 'action-status error';
    }
  };
  const variables = { flowId: flow.flowId, version: flow.version };
  const buttons: HTMLElement[] = [];
  const button = (text: string, action: () => Promise<Outcome>, kind = '') =>
    buttons.push(h('button', { class: kind, 'data-action': text.toLowerCase(), onclick: () => void run(action) }, text));

  if (may.operate && flow.flowStatus === 'INITIALIZED') button('Start', async () => (await api.request(DashboardStartDocument, variables)).startMasterFlow);
  if (may.operate && flow.flowStatus === 'RUNNING') button('Pause', async () => (await api.request(DashboardPauseDocument, variables)).pauseMasterFlow);
  if (may.operate && flow.flowStatus === 'PAUSED') button('Resume', async () => (await api.request(DashboardResumeDocument, variables)).resumeMasterFlow, 'primary');
  if (may.operate && flow.flowStatus === 'FAILED') button('Retry', async () => (await api.request(DashboardRetryDocument, variables)).retryMasterFlow, 'primary');
  const phase = flow.discoveryFlows[0]?.currentPhase;
  if (may.operate && flow.flowStatus === 'RUNNING' && phase) {
    button(`Complete ${label(phase)}`, async () =>
      (await api.request(DashboardCompletePhaseDocument, { ...variables, phase })).completeDiscoveryPhase, 'primary');
    buttons.at(-1)!.dataset.action = 'complete-phase';
  }

  const confirmation = h('div', { class: 'confirm', hidden: true, 'data-testid': 'delete-confirmation' },
    h('p', {},
      `Delete “${flowTitle(flow, flow.dataImports)}” with its ${flow.dataImports.totalCount} data import(s), ` +
        `${flow.rawRecordCount} raw record(s) and ${flow.discoveryFlows.length} discovery flow(s)? This cannot be undone.`,
    ),
    h('button', {
      class: 'danger',
      'data-action': 'confirm-delete',
      onclick: () =>
        void (async () => {
          const result = (await api.request(DashboardDeleteDocument, { flowId: flow.flowId })).deleteMasterFlow;
          if (result.__typename === 'MasterFlowDeletion') after.deleted();
          else status.textContent = result.message;
        })().catch((error: unknown) => (status.textContent = (error as Error).message)),
    }, 'Delete'),
    h('button', { onclick: () => (confirmation.hidden = true) }, 'Cancel'),
  );
  if (may.administer) {
    buttons.push(h('button', { class: 'danger', 'data-action': 'delete', onclick: () => (confirmation.hidden = false) }, 'Delete…'));
  }

  return h('div', { class: 'action-panel' }, h('div', { class: 'actions' }, buttons), may.administer ? confirmation : null, status);
}
