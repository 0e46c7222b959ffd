// The sign-in screen: shown when there are no credentials, when the server refuses them (a wrong or
// expired token: its message is shown), and after signing out. A token is kept for the browser tab only
// (sessionStorage); in development mode the server's demo session can be taken again with one click.
import { h, present } from './dom';

export interface SignInOptions {
  /** Why the user has to sign in: the server's message when it refused the credentials. */
  reason: string | null;
  /** Development mode: the server hands out the demo tenant's session. */
  devSessionAvailable: boolean;
  signIn(token: string): void;
  useDevSession(): void;
}

export function signInScreen(options: SignInOptions): HTMLElement {
  const form = h('form', {
    class: 'sign-in',
    'data-testid': 'sign-in',
    onsubmit: (event: Event) => {
      event.preventDefault();
      const token = new FormData(form).get('token');
      if (typeof token === 'string' && token.trim()) options.signIn(token.trim().replace(/^Bearer\s+/i, ''));
    },
  }, ...present(
    h('h1', {}, 'Sign in'),
    options.reason ? h('p', { class: 'error', role: 'alert', 'data-testid': 'sign-in-reason' }, options.reason) : null,
    h('label', { for: 'token' }, 'Paste the bearer token you use for the flowgraph API.'),
    h('textarea', { id: 'token', name: 'token', rows: 4, required: true, autocomplete: 'off', spellcheck: 'false' }),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary' }, 'Open the dashboard'),
      options.devSessionAvailable
        ? h('button', { type: 'button', 'data-action': 'dev-session', onclick: () => options.useDevSession() }, 'Use the demo tenant (development mode)')
        : null,
    ),
  ));
  return form;
}
