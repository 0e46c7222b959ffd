// The live flow dashboard: a table of master flows and a detail view per flow, kept current by one
// graphql-ws subscription. Built only on flowgraph's public GraphQL API.
import { Api, type ConnectionState, type Credentials } from './api';
import { h } from './dom';
import { FlowDetail } from './flow-detail';
import { FlowsTable } from './flows-table';
import { DashboardViewerDocument } from './generated/graphql';
import { LiveEvents } from './live-events';

const view = document.getElementById('view')!;
const badge = document.getElementById('connection')!;

async function loadCredentials(): Promise<Credentials | null> {
  const stored = sessionStorage.getItem('flowgraph.token');
  if (stored) return { headers: { authorization: `Bearer ${stored}` }, label: 'signed in with a token' };
  // In development mode the server hands out the demo tenant's credentials; otherwise it answers 404.
  const response = await fetch('/dashboard/session.json');
  if (response.ok) return (await response.json()) as Credentials;
  return null;
}

function signIn(): void {
  view.replaceChildren(
    h('form', {
      class: 'sign-in',
      onsubmit: (event: Event) => {
        event.preventDefault();
        const token = new FormData(event.target as HTMLFormElement).get('token');
        if (typeof token === 'string' && token.trim()) {
          sessionStorage.setItem('flowgraph.token', token.trim());
          location.reload();
        }
      },
    },
      h('h1', {}, 'Sign in'),
      h('p', {}, 'Paste the bearer token you use for the flowgraph API.'),
      h('textarea', { name: 'token', rows: 4, required: true }),
      h('button', { type: 'submit' }, 'Open the dashboard'),
    ),
  );
}

function showState(state: ConnectionState): void {
  badge.dataset.state = state;
  badge.textContent = state;
}

async function main(): Promise<void> {
  const credentials = await loadCredentials();
  if (!credentials) {
    showState('offline');
    signIn();
    return;
  }
  document.getElementById('tenant')!.textContent = credentials.label;
  const api = new Api(credentials);
  api.onConnectionState(showState);

  // The API decides what the user may do; the dashboard only offers that.
  const { viewer } = await api.request(DashboardViewerDocument, {});
  const may = { operate: viewer.canOperate, administer: viewer.canAdminister };
  const navigate = (hash: string) => (location.hash = hash);
  let current: FlowsTable | FlowDetail | undefined;
  const live = new LiveEvents(api);
  live.onEvent((event) => current?.onEvent(event));
  live.onReset(() => void current?.render());
  // The cursor is read before the first page is fetched: nothing that happens in between is missed.
  await live.start();

  const route = async () => {
    const match = /^#\/flows\/([0-9a-f-]{36})$/i.exec(location.hash);
    current = match ? new FlowDetail(api, match[1]!, navigate, may) : new FlowsTable(api, (flowId) => navigate(`#/flows/${flowId}`), may);
    view.replaceChildren(current.element);
    try {
      await current.render();
    } catch (error) {
      view.replaceChildren(h('p', { class: 'error', role: 'alert' }, `Could not load: ${(error as Error).message}`));
    }
  };
  window.addEventListener('hashchange', () => void route());
  await route();
}

void main();
