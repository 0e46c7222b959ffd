// The live flow dashboard: a table of master flows and a detail view per flow, kept current by one
// graphql-ws subscription. Built only on flowgraph's public GraphQL API.
import { Api, CredentialsRefused, type ConnectionState, type Credentials } from './api';
import { h } from './dom';
import { FlowDetail } from './flow-detail';
import { FlowsTable } from './flows-table';
import { DashboardViewerDocument } from './generated/graphql';
import { LiveEvents } from './live-events';
import type { Permissions } from './permissions';
import { signInScreen } from './sign-in';
import { parseHash } from './url-state';

const view = document.getElementById('view')!;
const badge = document.getElementById('connection')!;
const who = document.getElementById('tenant')!;
const signOutButton = document.getElementById('sign-out') as HTMLButtonElement;

const TOKEN = 'flowgraph.token';
/** Set by signing out, so that development mode's session is not taken again by itself. */
const SIGNED_OUT = 'flowgraph.signed-out';
/** Why the sign-in screen is shown, carried over the reload that ends a session. */
const REASON = 'flowgraph.sign-in-reason';
/**
 * Set while development mode's session is fetched again after the server refused it: `npm start` without
 * FLOWGRAPH_JWT_SECRET signs with a new random secret each time it starts, so a restart invalidates it.
 */
const DEV_RETRY = 'flowgraph.dev-session-retry';

interface Session {
  api: Api;
  /** Signed in with development mode's session (not a token of the user's). */
  dev: boolean;
  may: Permissions;
  current?: FlowsTable | FlowDetail;
  closed: boolean;
}

let session: Session | undefined;

function showState(state: ConnectionState | 'signed out'): void {
  badge.dataset.state = state === 'signed out' ? 'offline' : state;
  badge.textContent = state;
}

/** In development mode the server hands out the demo tenant's credentials; otherwise it answers 404. */
async function devSession(): Promise<Credentials | null> {
  try {
    const response = await fetch('/dashboard/session.json', { cache: 'no-store' });
    return response.ok ? ((await response.json()) as Credentials) : null;
  } catch {
    return null;
  }
}

/**
 * Ends the session by reloading the page: that closes its live connection and every timer for certain
 * (the subscription would otherwise reconnect with the old credentials), and the sign-in screen follows.
 */
function endSession(reason: string | null): void {
  if (session) session.closed = true;
  sessionStorage.removeItem(TOKEN);
  sessionStorage.setItem(SIGNED_OUT, '1');
  if (reason) sessionStorage.setItem(REASON, reason);
  location.reload();
}

async function showSignIn(reason: string | null): Promise<void> {
  session = undefined;
  showState('signed out');
  who.textContent = '';
  signOutButton.hidden = true;
  document.title = 'flowgraph · sign in';
  const dev = await devSession();
  view.replaceChildren(
    signInScreen({
      reason,
      devSessionAvailable: dev !== null,
      signIn: (token) => {
        sessionStorage.setItem(TOKEN, token);
        sessionStorage.removeItem(SIGNED_OUT);
        void start();
      },
      useDevSession: () => {
        sessionStorage.removeItem(TOKEN);
        sessionStorage.removeItem(SIGNED_OUT);
        void start();
      },
    }),
  );
}

/** The server refused the credentials (wrong, expired, revoked): forget them and ask again. */
function refused(message: string): void {
  if (!session || session.closed) return;
  if (session.dev && !sessionStorage.getItem(DEV_RETRY)) {
    // Once: the page reloads and takes the server's current development session.
    session.closed = true;
    sessionStorage.setItem(DEV_RETRY, '1');
    location.reload();
    return;
  }
  sessionStorage.removeItem(DEV_RETRY);
  // graphql-ws close reasons read "Forbidden: credentials expired"; HTTP errors are sentences already.
  endSession(
    /^Forbidden: credentials expired$/i.test(message)
      ? 'Your token has expired: sign in with a new one.'
      : message.replace(/^Forbidden:\s*/i, 'The server closed the live connection: '),
  );
}

async function route(): Promise<void> {
  const active = session;
  if (!active) return;
  const target = parseHash(location.hash);
  const navigate = (hash: string) => (location.hash = hash);
  const current = target.view === 'flow'
    ? new FlowDetail(active.api, target.flowId, target.params, navigate, active.may)
    : new FlowsTable(active.api, target.params, navigate, active.may);
  active.current = current;
  if (target.view === 'flows') document.title = 'flowgraph · flows';
  view.replaceChildren(current.element);
  try {
    await current.render();
  } catch (error) {
    if (error instanceof CredentialsRefused || active.closed) return;
    if (active.current === current) view.replaceChildren(h('p', { class: 'error', role: 'alert' }, `Could not load: ${(error as Error).message}`));
  }
}

async function start(): Promise<void> {
  const token = sessionStorage.getItem(TOKEN);
  const credentials: Credentials | null = token
    ? { headers: { authorization: `Bearer ${token}` }, label: 'signed in with a token' }
    : sessionStorage.getItem(SIGNED_OUT) ? null : await devSession();
  if (!credentials) {
    const reason = sessionStorage.getItem(REASON);
    sessionStorage.removeItem(REASON);
    await showSignIn(reason);
    return;
  }
  showState('connecting');
  const api = new Api(credentials);
  const active: Session = { api, dev: !token, may: { operate: false, administer: false }, closed: false };
  session = active;
  api.onCredentialsRefused(refused);
  api.onConnectionState((state) => !active.closed && showState(state));
  try {
    // The API decides what the user may do; the dashboard only offers that.
    const { viewer } = await api.request(DashboardViewerDocument, {});
    active.may = { operate: viewer.canOperate, administer: viewer.canAdminister };
    sessionStorage.removeItem(DEV_RETRY);
    who.textContent = token ? `${viewer.userId} · ${viewer.roles.map((role) => role.toLowerCase()).join(', ')}` : credentials.label;
    signOutButton.hidden = false;
    const live = new LiveEvents(api);
    live.onEvent((event) => !active.closed && active.current?.onEvent(event));
    live.onReset(() => void active.current?.render());
    // The cursor is read before the first page is fetched: nothing that happens in between is missed.
    await live.start();
  } catch (error) {
    if (error instanceof CredentialsRefused || active.closed) return;
    // Nothing was subscribed yet: this session can simply be dropped.
    active.closed = true;
    session = undefined;
    showState('offline');
    view.replaceChildren(
      h('div', { class: 'sign-in', role: 'alert' },
        h('h1', {}, 'The server cannot be reached'),
        h('p', { class: 'error' }, (error as Error).message),
        h('div', { class: 'actions' }, h('button', { class: 'primary', onclick: () => void start() }, 'Try again')),
      ),
    );
    return;
  }
  await route();
}

signOutButton.addEventListener('click', () => endSession(null));
window.addEventListener('hashchange', () => void route());
void start();
