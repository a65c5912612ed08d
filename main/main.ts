// Electron main process: window, OS hooks and IPC wiring only. Every decision about the protocol is
// made in src/ (createDesktopClient); this file only connects it to Electron.
import { app, BrowserWindow, ipcMain, session, shell, utilityProcess } from 'electron';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CHANNELS, type ConnectApi, type SettingsInput } from '../src/app-api.js';
import { fileSettingsStore, memorySettingsStore } from '../src/app-settings.js';
import { systemBrowser } from '../src/browser/opener.js';
import { readConfigFile, settingsFromConfig } from '../src/config-file.js';
import { DEMO_CLIENT_ID, createDesktopClient, type DesktopClient, type DesktopClientOptions } from '../src/desktop-client.js';
import { setDebugSink } from '../src/debug.js';
import { setKeychainHelperLauncher } from '../src/secret-store/keychain.js';
import { WEB_PREFERENCES, denyPermission, fromOurPage, lockDown } from './security.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const INDEX_HTML = join(here, '../renderer/index.html');
const INDEX_URL = pathToFileURL(INDEX_HTML).href;

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
    return demo ? { settingsStore, settings: { issuer: demo, clientId: DEMO_CLIENT_ID } } : { settingsStore };
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
  return { issuer, clientId, scope, redirectKind, ...(secret !== undefined ? { clientSecret: secret } : {}) };
}

/** Window size and position, remembered between runs. */
function windowBounds(): { width: number; height: number; x?: number; y?: number } {
  try {
    const saved = JSON.parse(readFileSync(join(app.getPath('userData'), 'window.json'), 'utf8')) as Record<string, number>;
    if ([saved.width, saved.height].every((n) => Number.isInteger(n) && (n as number) >= 400 && (n as number) <= 4000)) {
      return { width: saved.width as number, height: saved.height as number, ...(Number.isInteger(saved.x) && Number.isInteger(saved.y) ? { x: saved.x, y: saved.y } : {}) };
    }
  } catch {
    // first run
  }
  return { width: 760, height: 680 };
}

/** Make the OS launch this app for the custom-scheme redirect URI (dev runs pass the app path). */
function registerScheme(redirectUri: string): string | undefined {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(redirectUri)?.[1];
  if (!scheme || scheme === 'http' || scheme === 'https') return undefined;
  if (process.defaultApp && process.argv[1]) app.setAsDefaultProtocolClient(scheme, process.execPath, [resolve(process.argv[1])]);
  else app.setAsDefaultProtocolClient(scheme);
  return scheme.toLowerCase();
}

// The packaged app has the runAsNode fuse off, so the Linux keychain helper (a process that can be
// killed when the Secret Service hangs) runs as an Electron utility process instead of a Node fork.
setKeychainHelperLauncher((script, args) => {
  const child = utilityProcess.fork(script, args, { serviceName: 'connect-keychain', stdio: 'ignore' });
  return {
    send: (request) => child.postMessage(request),
    onMessage: (listener) => child.on('message', listener),
    onExit: (listener) => child.on('exit', listener),
    kill: () => void child.kill(),
    setBusy: () => {},
  };
});

if (!app.requestSingleInstanceLock()) {
  // A second launch (for example by the OS, for a custom-scheme URL) hands its argv to the first.
  app.quit();
} else {
  app.enableSandbox();
  let window: BrowserWindow | undefined = undefined;
  let client: DesktopClient | undefined = undefined;
  let scheme: string | undefined = undefined;
  const early: string[] = [];

  const bringToFront = () => {
    if (window?.isMinimized()) window.restore();
    window?.show();
    window?.focus();
  };
  const deliver = (url: string) => {
    if (!client) return void early.push(url);
    void client.deliverRedirect(url).then((result) => {
      if (result.ok) bringToFront();
      else console.error(`connect-desktop: a sign-in response URL was refused (${result.error.code})`);
    });
  };

  // macOS hands custom-scheme URLs over with open-url (register before ready); Windows and Linux
  // start a second instance whose argv carries the URL.
  app.on('open-url', (event, url) => {
    event.preventDefault();
    deliver(url);
  });
  app.on('second-instance', (_event, argv) => {
    const url = scheme ? argv.find((arg) => arg.toLowerCase().startsWith(`${scheme}:`)) : undefined;
    if (url) deliver(url);
    else bringToFront();
  });

  // Navigation, new windows and webviews are refused everywhere; permissions are never granted.
  app.on('web-contents-created', (_event, contents) => lockDown(contents, INDEX_URL));

  app.on('window-all-closed', () => app.quit());
  app.on('will-quit', () => client?.dispose());

  // CONNECT_DEBUG=1: the core's diagnostic lines (places and names, never tokens) on stderr.
  if (process.env.CONNECT_DEBUG) setDebugSink((line) => console.error(`connect-desktop: ${line}`));
  await app.whenReady();
  session.defaultSession.setPermissionRequestHandler(denyPermission);
  session.defaultSession.setPermissionCheckHandler(() => false);

  client = createDesktopClient({
    ...clientOptions(),
    ...(process.env.CONNECT_DEMO_ISSUER ? { demoIssuer: process.env.CONNECT_DEMO_ISSUER } : {}),
    // The system browser, only ever for the URLs the core built (never a URL from the renderer):
    // $BROWSER when set (as for the CLI), otherwise the OS's default through shell.openExternal.
    browser: process.env.BROWSER ? systemBrowser() : { open: (url) => shell.openExternal(url) },
  });
  scheme = registerScheme(await client.redirectUri());
  for (const url of early.splice(0)) deliver(url);

  // IPC: only from our own page in our own window's main frame; arguments checked.
  const forbidden = { ok: false, error: { code: 'forbidden', message: 'IPC from an unknown sender.' } } as const;
  const api: DesktopClient = client;
  const handle = <K extends keyof ConnectApi>(name: K, call: (...args: unknown[]) => ReturnType<ConnectApi[K]>) =>
    ipcMain.handle(CHANNELS[name], async (event, ...args: unknown[]) =>
      fromOurPage(event, window, INDEX_URL) ? call(...args) : forbidden,
    );
  handle('state', () => api.state());
  handle('signIn', async () => {
    const result = await api.signIn();
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
  // A changed provider may use another custom scheme: register it with the OS again.
  const rescheme = async <T>(result: T) => {
    scheme = registerScheme(await api.redirectUri());
    return result;
  };
  handle('settings', () => api.settings());
  handle('checkSettings', (value) => withSettings(value, (input) => api.checkSettings(input)));
  handle('saveSettings', (value) => withSettings(value, (input) => api.saveSettings(input).then(rescheme)));
  handle('useDemoProvider', () => api.useDemoProvider().then(rescheme));
  handle('registerApp', (value) => withSettings(value, (input) => api.registerApp(input).then(rescheme)));
  handle('reloadUserInfo', () => api.reloadUserInfo());
  handle('refresh', () => api.refresh());
  handle('signOut', (everywhere) => api.signOut(everywhere === true));

  window = new BrowserWindow({
    ...windowBounds(),
    minWidth: 520,
    minHeight: 420,
    title: 'CONNECT Desktop',
    show: false,
    webPreferences: { ...WEB_PREFERENCES, preload: join(here, 'preload.cjs') },
  });
  window.once('ready-to-show', () => window?.show());
  window.on('close', () => {
    if (!window) return;
    writeFileSync(join(app.getPath('userData'), 'window.json'), JSON.stringify(window.getNormalBounds()));
  });
  await window.loadFile(INDEX_HTML);
}
