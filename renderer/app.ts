// The renderer: an ordinary page that knows only window.connect (claims and expiry, never tokens).
import type { AppState, ConnectApi, ErrorView } from '../src/app-api.js';

declare global {
  interface Window {
    connect: ConnectApi;
  }
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const sections = ['signed-out', 'waiting', 'signed-in'] as const;

function show(section: (typeof sections)[number]): void {
  for (const id of sections) $(id).hidden = id !== section;
}

function showError(error: ErrorView | null): void {
  const box = $('error');
  box.hidden = !error;
  box.textContent = error ? `${error.message} (${error.code})` : '';
}

function showNotice(text: string): void {
  const box = $('notice');
  box.hidden = !text;
  box.textContent = text;
}

let current: AppState | undefined;

function expiryText(state: Extract<AppState, { signedIn: true }>): string {
  const renews = state.hasRefreshToken ? ' It is renewed in the background.' : ' There is no refresh token: sign in again then.';
  if (state.expiresAt === null) return 'The access token has no stated expiry.';
  const left = Math.round(state.expiresAt - Date.now() / 1000);
  if (left <= 0) return `The access token has expired.${renews}`;
  return `The access token expires in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}.${renews}`;
}

function render(state: AppState): void {
  current = state;
  redirectKind = state.redirectKind;
  $('provider').textContent = `${state.issuer} · ${state.clientId}`;
  if (!state.signedIn) {
    show('signed-out');
    return;
  }
  show('signed-in');
  $('greeting').textContent = `Signed in as ${state.displayName ?? state.sub}`;
  $('expiry').textContent = expiryText(state);
  const body = $<HTMLTableElement>('claims').tBodies[0] as HTMLTableSectionElement;
  body.replaceChildren(
    ...Object.entries(state.claims).map(([key, value]) => {
      const row = document.createElement('tr');
      const name = document.createElement('td');
      const text = document.createElement('td');
      name.textContent = key;
      text.textContent = typeof value === 'string' ? value : JSON.stringify(value);
      row.append(name, text);
      return row;
    }),
  );
}

async function refresh(): Promise<void> {
  const result = await window.connect.state();
  if (result.ok) render(result.value);
  else showError(result.error);
}

let redirectKind: AppState['redirectKind'] = 'loopback';

$('sign-in').addEventListener('click', async () => {
  showError(null);
  show('waiting');
  $('paste').hidden = redirectKind !== 'oob';
  $<HTMLInputElement>('code').value = '';
  const result = await window.connect.signIn();
  if (result.ok) render(result.value);
  else {
    showError(result.error);
    await refresh();
  }
});

$('paste').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = $<HTMLInputElement>('code');
  const result = await window.connect.submitCode(input.value);
  // On success the pending signIn() resolves and renders; a wrong code can be pasted again.
  showError(result.ok ? null : result.error);
});

$('cancel').addEventListener('click', () => void window.connect.cancelSignIn());

async function signOut(everywhere: boolean): Promise<void> {
  showError(null);
  const result = await window.connect.signOut(everywhere);
  if (!result.ok) return showError(result.error);
  render(result.value.state);
  showNotice(result.value.warnings.length ? result.value.warnings.join(' ') : 'You are signed out.');
}

$('sign-out').addEventListener('click', () => void signOut(false));
$('sign-out-everywhere').addEventListener('click', () => void signOut(true));

$('refresh').addEventListener('click', async () => {
  showError(null);
  const result = await window.connect.refresh();
  if (result.ok) render(result.value);
  else {
    showError(result.error);
    await refresh();
  }
});

// The countdown ticks here; the state (renewed in the background by the app) is read every 10 s.
setInterval(() => {
  if (current?.signedIn) $('expiry').textContent = expiryText(current);
}, 1000);
setInterval(() => void refresh(), 10_000);

void refresh();
