// Electron main process: window, OS hooks and IPC wiring only. Every decision about the protocol is
// made in src/ (the one client, through app/desktop-client.ts); this file only connects it to Electron.
//
// Electron's lifecycle rules this file follows (docs/api/app.md, docs/tutorial/esm.md):
// - `ready` is emitted only after this module has finished evaluating, so nothing here awaits at the
//   top level: awaiting `ready` here would wait forever (no window, and the hung first instance would
//   keep its single-instance lock, so every later launch would quit at once).
// - Before `ready`, only what must come first: the page's privileged scheme, the sandbox, the
//   single-instance lock, and the handlers for URLs the OS hands over (`open-url` may come before
//   `ready` on macOS; Windows and Linux put the URL in argv, of the first or a second instance).
import { app, BrowserWindow, dialog, ipcMain, protocol, screen, session, shell } from 'electron';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CHANNELS, EVENT_CHANNEL, type ConnectApi, type InvokeMethod, type SettingsInput } from '../src/app/app-api.js';
import { fileSettingsStore, memorySettingsStore, redirectUriFor } from '../src/app/app-settings.js';
import { readBoundedFileSync } from '../src/common/bounded-file.js';
import { externalUrl } from '../src/browser/launch-page.js';
import { systemBrowser } from '../src/browser/opener.js';
import { readConfigFile, settingsFromConfig } from '../src/config/config-file.js';
import { DEMO_CLIENT_ID, createDesktopClient, type DesktopClient, type DesktopClientOptions } from '../src/app/desktop-client.js';
import { setDebugSink } from '../src/common/debug.js';
import { IDENTITY } from '../src/config/identity.js';
import { classifyRedirectUri } from '../src/config/redirect-uri.js';
import { setWindowTitleHost } from '../src/window-titles/open.js';
import { PAGE_SCHEME, PAGE_SCHEME_PRIVILEGES, PAGE_URL, pageHandler } from './page-protocol.js';
import { schemeRegistrar } from './os-scheme.js';
import { WEB_PREFERENCES, denyPermission, fromOurPage, lockDown } from './security.js';
import { MIN_SIZE, parseSavedBounds, placeWindow } from './window-bounds.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const RENDERER_DIR = join(here, '../renderer');

/**
 * Settings: $CONNECT_CONFIG (a settings file, as for the CLI, not written to) or the setup screen's
 * connect.config.json in the app's data folder; a first run opens the setup screen.
 */
function clientOptions(): Pick<DesktopClientOptions, 'settings' | 'settingsStore' | 'profile'> {
  const file = process.env.CONNECT_CONFIG;
  if (!file) {
    const settingsStore = fileSettingsStore(join(app.getPath('userData'), 'connect.config.json'));
    // `npm start` runs the demo provider beside the app: configured for it until the user changes it.
    const demo = process.env.CONNECT_DEMO_ISSUER;
    if (demo) return { settingsStore, settings: { issuer: demo, clientId: DEMO_CLIENT_ID } };
    // identity.json's default provider, if the template user set one; else the setup screen asks.
    const preset = IDENTITY.defaultProvider;
    if (!preset) return { settingsStore };
    const redirectUri = preset.redirectKind ? redirectUriFor(preset.redirectKind, preset.clientId) : undefined;
    return { settingsStore, settings: { issuer: preset.issuer, clientId: preset.clientId, ...(redirectUri ? { redirectUri } : {}) } };
  }
  const config = readConfigFile(file);
  return {
    settingsStore: memorySettingsStore(),
    settings: settingsFromConfig(config, process.env),
    ...(config.profile ? { profile: config.profile } : {}),
  };
}

/** The setup form as sent by the renderer: checked field by field before the core sees it. */
function settingsInput(value: unknown): SettingsInput | undefined {
  const v = value as Record<string, unknown> | null;
  if (!v || typeof v !== 'object') return undefined;
  const text = (key: string) => (typeof v[key] === 'string' && (v[key] as string).length <= 2048 ? (v[key] as string) : undefined);
  const issuer = text('issuer');
  const clientId = text('clientId');
  const scope = text('scope');
  const redirectKind = text('redirectKind') as SettingsInput['redirectKind'] | undefined;
  if (issuer === undefined || clientId === undefined || scope === undefined || !redirectKind) return undefined;
  const secret = v.clientSecret === null ? null : text('clientSecret');
  const dpop = text('dpop') as SettingsInput['dpop'];
  return { issuer, clientId, scope, redirectKind, ...(secret !== undefined ? { clientSecret: secret } : {}), ...(dpop ? { dpop } : {}) };
}

const boundsFile = () => join(app.getPath('userData'), 'window.json');

/** The remembered size and place, on a display that is connected now (the screen module needs `ready`). */
function windowBounds() {
  let text: string | undefined;
  try {
    // A regular file of at most 64 KB: a FIFO or a device in its place must not hang or fill the app.
    text = readBoundedFileSync(boundsFile(), 64 * 1024);
  } catch {
    text = undefined; // first run, or nothing usable: the default place
  }
  const primary = screen.getPrimaryDisplay();
  const others = screen.getAllDisplays().filter((d) => d.id !== primary.id);
  return placeWindow(parseSavedBounds(text), [primary, ...others].map((d) => d.workArea));
}

/** A failure before the window could show anything: a dialog (a packaged app has no console), then quit. */
function fatal(error: unknown): void {
  const message = error instanceof Error ? error.message : String(error);
  dialog.showErrorBox(`${IDENTITY.productName} could not start`, message);
  // app.exit skips will-quit: give back what a development run registered here.
  schemes.release();
  app.exit(1);
}

// ---- Before `ready` -------------------------------------------------------------------------------

protocol.registerSchemesAsPrivileged([PAGE_SCHEME_PRIVILEGES]);
app.enableSandbox();
// The app's name and data folder come from identity.json, not from package.json's name.
app.setName(IDENTITY.productName);
app.setPath('userData', join(app.getPath('appData'), IDENTITY.folderName));

// Chromium's message loop delivers Windows' win events; on macOS the app asks for Screen Recording.
setWindowTitleHost('app');

const schemes = schemeRegistrar({
  app,
  platform: process.platform,
  declared: IDENTITY.scheme,
  // A development run is `electron <app path>`: the OS must start it the same way (Electron's docs).
  ...(process.defaultApp && process.argv[1] ? { development: { path: process.execPath, args: [resolve(process.argv[1])] } } : {}),
});

let window: BrowserWindow | undefined;
let client: DesktopClient | undefined;
/** The page has loaded and listens for AppEvents: a refusal sent before then would be lost. */
let pageReady = false;
/** URLs the OS handed over before the window could show what became of them. */
const early: string[] = [];

const bringToFront = () => {
  if (window?.isMinimized()) window.restore();
  window?.show();
  window?.focus();
};

/** A custom-scheme URL from the OS: to the sign-in waiting for it; a refusal shows in the window. */
function deliver(url: string): void {
  if (!client || !window || !pageReady) return void early.push(url);
  bringToFront();
  void client.deliverRedirect(url);
}

if (!app.requestSingleInstanceLock()) {
  // Another instance runs: it gets this launch's argv (with the URL, for a protocol launch) in its
  // `second-instance` event.
  app.quit();
} else {
  // A protocol launch while the app was not running (Windows, Linux): the URL is in our own argv.
  const launchUrl = schemes.urlIn(process.argv.slice(1));
  if (launchUrl) early.push(launchUrl);

  // macOS: register before `ready`, or the URL that launched the app is missed.
  app.on('open-url', (event, url) => {
    event.preventDefault();
    deliver(url);
  });
  app.on('second-instance', (_event, argv) => {
    const url = schemes.urlIn(argv);
    if (url) deliver(url);
    else bringToFront();
  });

  // Navigation, new windows and webviews are refused everywhere; permissions are never granted.
  app.on('web-contents-created', (_event, contents) => lockDown(contents));
  app.on('window-all-closed', () => app.quit());
  app.on('will-quit', () => {
    client?.dispose();
    schemes.release();
  });

  // CONNECT_DEBUG=1: the core's diagnostic lines (places and names, never tokens) on stderr.
  if (process.env.CONNECT_DEBUG) setDebugSink((line) => console.error(`connect-desktop: ${line}`));

  app.whenReady().then(start).catch(fatal);
}

// ---- After `ready` --------------------------------------------------------------------------------

async function start(): Promise<void> {
  session.defaultSession.setPermissionRequestHandler(denyPermission);
  session.defaultSession.setPermissionCheckHandler(() => false);
  protocol.handle(PAGE_SCHEME, pageHandler(RENDERER_DIR));

  const api = createDesktopClient({
    ...clientOptions(),
    ...(process.env.CONNECT_DEMO_ISSUER ? { demoIssuer: process.env.CONNECT_DEMO_ISSUER } : {}),
    // The system browser, only ever for the URLs the core built (never a URL from the renderer):
    // $BROWSER when set (as for the CLI), otherwise the OS's default through shell.openExternal.
    // On Linux through a launch page: xdg-open would put the URL on a command line others can read.
    browser: process.env.BROWSER ? systemBrowser() : { open: async (url) => shell.openExternal(externalUrl(url)) },
    appScheme: IDENTITY.scheme,
    receiveScheme: (scheme) => schemes.receive(scheme),
  });
  client = api;

  // IPC: only from our own page in our own window's main frame; arguments checked.
  const forbidden = { ok: false, error: { code: 'forbidden', message: 'IPC from an unknown sender.' } } as const;
  const handle = <K extends InvokeMethod>(name: K, call: (...args: unknown[]) => ReturnType<ConnectApi[K]>) =>
    ipcMain.handle(CHANNELS[name], async (event, ...args: unknown[]) => (fromOurPage(event, window) ? call(...args) : forbidden));
  handle('state', () => api.state());
  handle('signIn', async () => {
    const result = await api.signIn();
    bringToFront();
    return result;
  });
  handle('signInOnAnotherDevice', async () => {
    const result = await api.signInOnAnotherDevice();
    bringToFront();
    return result;
  });
  handle('submitCode', (code) =>
    typeof code === 'string' && code.length <= 4096
      ? api.submitCode(code)
      : Promise.resolve({ ok: false, error: { code: 'invalid_code', message: 'The code must be text.' } }),
  );
  handle('cancelSignIn', () => api.cancelSignIn());
  handle('openBrowserAgain', () => api.openBrowserAgain());
  const badForm = Promise.resolve({ ok: false, error: { code: 'invalid_settings', message: 'The settings form was not understood.' } } as const);
  const withSettings = <T>(value: unknown, call: (input: SettingsInput) => Promise<T>) => {
    const input = settingsInput(value);
    return input ? call(input) : badForm;
  };
  handle('settings', () => api.settings());
  handle('checkSettings', (value) => withSettings(value, (input) => api.checkSettings(input)));
  handle('saveSettings', (value) => withSettings(value, (input) => api.saveSettings(input)));
  handle('useDemoProvider', () => api.useDemoProvider());
  handle('registerApp', (value) => withSettings(value, (input) => api.registerApp(input)));
  // No arguments: the core decides what to move (only a damaged settings file) and where.
  handle('startOver', () => api.startOver());
  handle('reloadUserInfo', () => api.reloadUserInfo());
  handle('refresh', () => api.refresh());
  handle('signOut', (everywhere) => api.signOut(everywhere === true));

  const win = new BrowserWindow({
    ...windowBounds(),
    minWidth: MIN_SIZE.width,
    minHeight: MIN_SIZE.height,
    title: IDENTITY.productName,
    show: false,
    webPreferences: { ...WEB_PREFERENCES, preload: join(here, 'preload.cjs') },
  });
  window = win;
  api.onEvent((event) => {
    if (!win.isDestroyed()) win.webContents.send(EVENT_CHANNEL, event);
  });
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    window = undefined;
    pageReady = false;
  });
  win.on('close', () => {
    try {
      writeFileSync(boundsFile(), JSON.stringify(win.getNormalBounds()));
    } catch {
      // the size is only a convenience
    }
  });
  await win.loadURL(PAGE_URL);
  pageReady = true;

  // The redirect in use: register its custom scheme with the OS now, so the browser can open it.
  // A failure (or settings that cannot be used at all) is shown when a sign-in is started, with the
  // one-click switch to loopback; the window is there to fix it.
  try {
    const redirect = classifyRedirectUri(await api.redirectUri());
    if (redirect.kind === 'custom-scheme') await schemes.receive(redirect.scheme);
  } catch {
    // shown at sign-in
  }
  // The page listens now: URLs from before `ready`, from the launch itself, or from while it loaded.
  for (const url of early.splice(0)) deliver(url);
}
