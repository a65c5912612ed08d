// The renderer: an ordinary page that knows only window.connect (claims and expiry, never tokens).
import type { AppState, ConnectApi, DeviceCodeView, ErrorView, FieldProblems, RedirectKindName, SettingsInput, SettingsView } from '../src/app/app-api.js';
import type { DpopMode } from '../src/config/dpop-mode.js';

declare global {
  interface Window {
    connect: ConnectApi;
  }
}

type SignedIn = Extract<AppState, { signedIn: true }>;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const SCREENS = ['loading', 'setup', 'damaged', 'signed-out', 'waiting', 'device', 'signed-in'] as const;
let settings: SettingsView | undefined;
let current: AppState | undefined;

const WAITING_HINTS: Record<AppState['redirectKind'], string> = {
  loopback: 'When you are done there, the browser returns you here by itself.',
  'custom-scheme': 'When you are done there, the browser hands the result back to this app.',
  'oob-auto': 'This app reads the result from the browser window\'s title: keep that window open until you are back here.',
  oob: 'When you are done there, the browser shows a code.',
};

function show(screen: (typeof SCREENS)[number]): void {
  for (const id of SCREENS) $(id).hidden = id !== screen;
}

function showError(error: ErrorView | null): void {
  // Damaged settings are a screen of their own: nothing else works until they are repaired or the
  // user starts over, and the setup screen must not open as if there had been none.
  if (error?.code === 'settings_damaged') return showDamaged(error);
  $('error').hidden = !error;
  // A redirect this app cannot receive here: oob:auto that cannot read titles (macOS Screen
  // Recording, no X display), or a custom scheme the OS will not hand over. One click to switch.
  const action = $<HTMLButtonElement>('error-action');
  action.hidden = error?.code !== 'window_titles_unavailable' && error?.code !== 'scheme_unavailable';
  if (!action.hidden) {
    const fallback = error?.code === 'window_titles_unavailable' && settings ? settings.platformDefault : 'loopback';
    const target: RedirectKindName = fallback === 'custom-scheme' || fallback === 'loopback' ? fallback : 'loopback';
    action.textContent = target === 'custom-scheme' ? 'Switch to the custom URI scheme' : 'Switch to the loopback redirect';
    action.dataset.target = target;
  }
  $('error-message').textContent = error?.message ?? '';
  $('error-advice').textContent = error?.advice ?? '';
  $('error-advice').hidden = !error?.advice;
  $('error-code').textContent = error?.code ?? '';
}

function showDamaged(error: ErrorView): void {
  $('error').hidden = true;
  showNotice('');
  $('damaged-message').textContent = error.message;
  $('damaged-file').textContent = error.file ?? '';
  $('provider').textContent = 'Settings need attention';
  show('damaged');
  $('start-over').focus();
}

function showNotice(text: string): void {
  $('notice').hidden = !text;
  $('notice').textContent = text;
}

function expiryText(state: SignedIn): string {
  if (state.expiresAt === null) return 'No stated expiry';
  const left = Math.round(state.expiresAt - Date.now() / 1000);
  const renews = state.hasRefreshToken ? ' · renewed in the background' : '';
  if (left <= 0) return `Expired${renews}`;
  return `Expires in ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}${renews}`;
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function initials(name: string): string {
  return name
    .split(/\s+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((part) => part[0]?.toUpperCase() ?? '')
    .join('');
}

function renderSignedIn(state: SignedIn): void {
  const name = state.displayName ?? state.sub;
  $('name').textContent = name;
  const email = state.claims.email;
  $('email').textContent = typeof email === 'string' ? email : `Subject ${state.sub}`;
  const picture = state.claims.picture;
  const avatar = $<HTMLImageElement>('avatar');
  const usePicture = typeof picture === 'string' && picture.startsWith('https://');
  avatar.hidden = !usePicture;
  $('initials').hidden = usePicture;
  if (usePicture) avatar.src = picture;
  else $('initials').textContent = initials(name);
  $('expiry').textContent = expiryText(state);
  $('scopes').textContent = state.scope;
  $('has-refresh').textContent = state.hasRefreshToken ? 'Yes' : 'No';
  $('bound').textContent = state.senderConstrained ? 'Yes (DPoP): refused without this device\'s key where DPoP is checked' : 'No (bearer tokens)';
  const body = $<HTMLTableElement>('claims').tBodies[0] as HTMLTableSectionElement;
  body.replaceChildren(
    ...Object.entries(state.claims).map(([key, value]) => {
      const row = document.createElement('tr');
      const k = document.createElement('td');
      const v = document.createElement('td');
      k.textContent = key;
      v.textContent = text(value);
      row.append(k, v);
      return row;
    }),
  );
}

function render(state: AppState): void {
  current = state;
  $('provider').textContent = `${state.issuer} · ${state.clientId}`;
  if (state.signedIn) {
    show('signed-in');
    renderSignedIn(state);
  } else {
    show('signed-out');
  }
}

async function reload(): Promise<void> {
  const [stateResult, settingsResult] = await Promise.all([window.connect.state(), window.connect.settings()]);
  if (!settingsResult.ok && settingsResult.error.code === 'settings_damaged') return showDamaged(settingsResult.error);
  if (settingsResult.ok) settings = settingsResult.value;
  if (settingsResult.ok && !settingsResult.value.configured) return openSetup();
  if (stateResult.ok) render(stateResult.value);
  else showError(stateResult.error);
}

// --- Provider settings (the setup screen) ---

function formInput(): SettingsInput {
  const secret = $<HTMLInputElement>('client-secret').value;
  return {
    issuer: $<HTMLInputElement>('issuer').value,
    clientId: $<HTMLInputElement>('client-id').value,
    redirectKind: $<HTMLSelectElement>('redirect-kind').value as RedirectKindName,
    scope: $<HTMLInputElement>('scope').value,
    dpop: $<HTMLSelectElement>('dpop').value as DpopMode,
    ...(secret ? { clientSecret: secret } : {}),
  };
}

const FIELD_INPUTS: Record<string, string> = { issuer: 'issuer', clientId: 'client-id', redirectKind: 'redirect-kind', scope: 'scope', dpop: 'dpop' };

function showProblems(problems: FieldProblems): void {
  for (const [field, input] of Object.entries(FIELD_INPUTS)) {
    const message = problems[field as keyof FieldProblems] ?? '';
    $(`${field}-problem`).textContent = message;
    $(input).setAttribute('aria-invalid', message ? 'true' : 'false');
  }
}

async function openSetup(): Promise<void> {
  const result = await window.connect.settings();
  if (!result.ok) return showError(result.error);
  settings = result.value;
  $<HTMLInputElement>('issuer').value = settings.configured ? settings.issuer : '';
  $<HTMLInputElement>('client-id').value = settings.configured ? settings.clientId : '';
  $<HTMLInputElement>('client-secret').value = '';
  $<HTMLInputElement>('client-secret').placeholder = settings.hasSecret ? 'A secret is stored (leave empty to keep it)' : '';
  $<HTMLInputElement>('scope').value = settings.scope;
  $<HTMLSelectElement>('dpop').value = settings.dpop;
  const select = $<HTMLSelectElement>('redirect-kind');
  for (const option of Array.from(select.options)) {
    option.textContent = (option.textContent ?? '').replace(/ \(recommended here\)$/, '');
    if (option.value === settings.platformDefault) option.textContent += ' (recommended here)';
  }
  select.value = settings.configured ? settings.redirectKind : settings.platformDefault;
  $('cancel-setup').hidden = !settings.configured;
  $('provider').textContent = settings.configured ? `${settings.issuer} · ${settings.clientId}` : 'Not set up yet';
  showProblems({});
  show('setup');
  $('issuer').focus();
}

let checkTimer: number | undefined;
$('setup-form').addEventListener('input', () => {
  clearTimeout(checkTimer);
  checkTimer = window.setTimeout(async () => {
    const result = await window.connect.checkSettings(formInput());
    if (result.ok) showProblems(result.value);
  }, 250);
});

async function settingsAction(button: HTMLButtonElement, work: () => Promise<{ ok: true; value: SettingsView } | { ok: false; error: ErrorView }>, done: string): Promise<void> {
  await act(button, async () => {
    showError(null);
    showNotice('');
    const result = await work();
    if (!result.ok) return showError(result.error);
    settings = result.value;
    showNotice(done);
    await reload();
  });
}

$('setup-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const check = await window.connect.checkSettings(formInput());
  if (check.ok && Object.keys(check.value).length) {
    showProblems(check.value);
    const first = Object.keys(check.value)[0] as string;
    $(FIELD_INPUTS[first] as string).focus();
    return;
  }
  await settingsAction($<HTMLButtonElement>('save-settings'), () => window.connect.saveSettings(formInput()), 'Provider settings saved.');
});
$('use-demo').addEventListener('click', (e) =>
  settingsAction(e.currentTarget as HTMLButtonElement, () => window.connect.useDemoProvider(), 'Using the demo provider: any login name and password work there.'),
);
$('register-app').addEventListener('click', (e) =>
  settingsAction(e.currentTarget as HTMLButtonElement, () => window.connect.registerApp(formInput()), 'This app is registered with the provider.'),
);
$('cancel-setup').addEventListener('click', () => void reload());
$('read-again').addEventListener('click', () => void reload());
$('start-over').addEventListener('click', (e) =>
  act(e.currentTarget as HTMLButtonElement, async () => {
    showNotice('');
    const result = await window.connect.startOver();
    if (!result.ok) return showError(result.error);
    const { backup } = result.value;
    // Repaired meanwhile: nothing was moved, and the settings are there again.
    if (!backup) return reload().then(() => showNotice('The settings file can be read now: nothing was moved.'));
    await openSetup();
    showNotice(`The old settings file was kept as ${backup}.`);
  }),
);
$('change-provider').addEventListener('click', () => void openSetup());
$('error-action').addEventListener('click', async (e) => {
  const button = e.currentTarget as HTMLButtonElement;
  const current = await window.connect.settings();
  if (!current.ok) return showError(current.error);
  const s = current.value;
  await settingsAction(
    button,
    () => window.connect.saveSettings({ issuer: s.issuer, clientId: s.clientId, scope: s.scope, redirectKind: button.dataset.target as RedirectKindName }),
    'Switched how the browser returns to the app. Sign in again.',
  );
});

/** Run an action with its button disabled; show its error, or render its state. */
async function act(button: HTMLButtonElement, work: () => Promise<void>): Promise<void> {
  button.disabled = true;
  try {
    await work();
  } finally {
    button.disabled = false;
  }
}

$('sign-in').addEventListener('click', async () => {
  showError(null);
  showNotice('');
  const kind = current?.redirectKind ?? 'loopback';
  $('waiting-hint').textContent = WAITING_HINTS[kind];
  $('paste').hidden = kind !== 'oob';
  $<HTMLInputElement>('code').value = '';
  show('waiting');
  (kind === 'oob' ? $('code') : $('cancel')).focus();
  await signedInOrNot(await window.connect.signIn(), 'sign-in');
});

/** Where a sign-in attempt ends: the signed-in screen, or its error and the screen to try again from. */
async function signedInOrNot(result: Awaited<ReturnType<ConnectApi['signIn']>>, again: string): Promise<void> {
  if (result.ok) {
    render(result.value);
    $('refresh').focus();
  } else {
    showError(result.error);
    await reload();
    $(again).focus();
  }
}

// Sign-in on another device: the page and code arrive as a `device-code` event while this waits.
let deviceExpiresAt = 0;
$('sign-in-device').addEventListener('click', async () => {
  showError(null);
  showNotice('');
  $('device-asking').hidden = false;
  $('device-shown').hidden = true;
  show('device');
  $('device-cancel').focus();
  const result = await window.connect.signInOnAnotherDevice();
  deviceExpiresAt = 0;
  await signedInOrNot(result, 'sign-in-device');
});

$('device-cancel').addEventListener('click', () => void window.connect.cancelSignIn());

const SVG = 'http://www.w3.org/2000/svg';

/** The QR code as SVG squares (no image URL, no inline markup: the page's CSP allows neither need). */
function drawQr(modules: boolean[][]): SVGSVGElement {
  const quiet = 4;
  const size = modules.length + 2 * quiet;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', `0 0 ${size} ${size}`);
  svg.setAttribute('shape-rendering', 'crispEdges');
  const back = document.createElementNS(SVG, 'rect');
  for (const [name, value] of [['width', size], ['height', size], ['fill', '#fff']] as const) back.setAttribute(name, String(value));
  svg.append(back);
  modules.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (!dark) return;
      const cell = document.createElementNS(SVG, 'rect');
      for (const [name, value] of [['x', x + quiet], ['y', y + quiet], ['width', 1], ['height', 1], ['fill', '#000']] as const) cell.setAttribute(name, String(value));
      svg.append(cell);
    }),
  );
  return svg;
}

function showDeviceCode(code: DeviceCodeView): void {
  $('device-uri').textContent = code.verificationUri;
  $('device-code').textContent = code.userCode;
  $('device-qr').replaceChildren(...(code.qr.length ? [drawQr(code.qr)] : []));
  deviceExpiresAt = code.expiresAt;
  $('device-expiry').textContent = deviceExpiryText();
  $('device-asking').hidden = true;
  $('device-shown').hidden = false;
}

function deviceExpiryText(): string {
  const seconds = Math.max(0, Math.round((deviceExpiresAt - Date.now()) / 1000));
  return `The code expires in ${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}.`;
}

$('paste').addEventListener('submit', async (event) => {
  event.preventDefault();
  const result = await window.connect.submitCode($<HTMLInputElement>('code').value);
  // On success the pending sign-in resolves and renders; a wrong code can be pasted again.
  showError(result.ok ? null : result.error);
});

$('open-again').addEventListener('click', async () => {
  const result = await window.connect.openBrowserAgain();
  if (!result.ok) showError(result.error);
});

$('cancel').addEventListener('click', () => void window.connect.cancelSignIn());

$<HTMLButtonElement>('refresh').addEventListener('click', (e) =>
  act(e.currentTarget as HTMLButtonElement, async () => {
    showError(null);
    const result = await window.connect.refresh();
    if (result.ok) {
      render(result.value);
      showNotice('The access token was renewed.');
    } else {
      showError(result.error);
      await reload();
    }
  }),
);

$<HTMLButtonElement>('reload-userinfo').addEventListener('click', (e) =>
  act(e.currentTarget as HTMLButtonElement, async () => {
    showError(null);
    const result = await window.connect.reloadUserInfo();
    if (result.ok) {
      render(result.value);
      showNotice('User info reloaded.');
    } else showError(result.error);
  }),
);

async function signOut(button: HTMLButtonElement, everywhere: boolean): Promise<void> {
  await act(button, async () => {
    showError(null);
    const result = await window.connect.signOut(everywhere);
    if (!result.ok) return showError(result.error);
    render(result.value.state);
    showNotice(result.value.warnings.length ? result.value.warnings.join(' ') : everywhere ? 'You are signed out here and at the provider.' : 'You are signed out.');
    $('sign-in').focus();
  });
}

$('sign-out').addEventListener('click', (e) => void signOut(e.currentTarget as HTMLButtonElement, false));
$('sign-out-everywhere').addEventListener('click', (e) => void signOut(e.currentTarget as HTMLButtonElement, true));

// The countdown ticks here; a renewal in the background arrives as a `state` event.
setInterval(() => {
  if (current?.signedIn && !$('signed-in').hidden) $('expiry').textContent = expiryText(current);
  if (deviceExpiresAt && !$('device').hidden) $('device-expiry').textContent = deviceExpiryText();
}, 1000);

// What the app says unasked: a sign-in response the OS handed over that was refused, and the
// keychain waiting (for example for the user to answer the system's prompt).
window.connect.onEvent((event) => {
  if (event.type === 'error') showError(event.error);
  else if (event.type === 'keychain') $('keychain-waiting').hidden = !event.waiting;
  else if (event.type === 'device-code') showDeviceCode(event.code);
  // A renewal (or a sign-out by one) changes what the signed-in screen shows; other screens keep
  // what the user is doing there.
  else if (!$('signed-in').hidden) render(event.state);
});

void reload();
