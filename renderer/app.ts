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

function expiryText(expiresAt: number | null): string {
  if (expiresAt === null) return 'The access token has no stated expiry.';
  const left = Math.round(expiresAt - Date.now() / 1000);
  if (left <= 0) return 'The access token has expired.';
  return `The access token expires in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}.`;
}

function render(state: AppState): void {
  redirectKind = state.redirectKind;
  $('provider').textContent = `${state.issuer} · ${state.clientId}`;
  if (!state.signedIn) {
    show('signed-out');
    return;
  }
  show('signed-in');
  $('greeting').textContent = `Signed in as ${state.displayName ?? state.sub}`;
  $('expiry').textContent = expiryText(state.expiresAt);
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

$('sign-out').addEventListener('click', async () => {
  const result = await window.connect.signOut();
  if (result.ok) render(result.value);
  else showError(result.error);
});

void refresh();
