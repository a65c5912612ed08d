// Electron main process: window, OS hooks and IPC wiring only. Every decision about the protocol is
// made in src/ (createDesktopClient); this file only connects it to Electron.
import { app, BrowserWindow, ipcMain, session, shell, utilityProcess } from 'electron';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CHANNELS, type ConnectApi } from '../src/app-api.js';
import { systemBrowser } from '../src/browser/opener.js';
import { readConfigFile } from '../src/config-file.js';
import { createDesktopClient, type DesktopClient } from '../src/desktop-client.js';
import { setKeychainHelperLauncher } from '../src/secret-store/keychain.js';
import type { ProviderSettings } from '../src/settings.js';
import { WEB_PREFERENCES, denyPermission, fromOurPage, lockDown } from './security.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const INDEX_HTML = join(here, '../renderer/index.html');
const INDEX_URL = pathToFileURL(INDEX_HTML).href;

/** Settings: $CONNECT_CONFIG, else connect.config.json in the app's data folder, else the demo provider. */
function loadSettings(): { settings: ProviderSettings; profile?: string } {
  const file = process.env.CONNECT_CONFIG ?? join(app.getPath('userData'), 'connect.config.json');
  if (!existsSync(file)) {
    return { settings: { issuer: 'http://127.0.0.1:9090', clientId: 'com.example.connect-desktop' } };
  }
  const config = readConfigFile(file);
  const secret = config.clientSecretEnv ? process.env[config.clientSecretEnv] : undefined;
  return {
    settings: {
      issuer: config.issuer ?? '',
      clientId: config.clientId ?? '',
      ...(secret ? { clientSecret: secret } : {}),
      ...(config.redirectUri ? { redirectUri: config.redirectUri } : {}),
      ...(config.scope ? { scope: config.scope } : {}),
      ...(config.endpoints ? { endpoints: config.endpoints } : {}),
      ...(config.logoutMethod ? { logoutMethod: config.logoutMethod } : {}),
      ...(config.postLogoutRedirectUri ? { postLogoutRedirectUri: config.postLogoutRedirectUri } : {}),
    },
    ...(config.profile ? { profile: config.profile } : {}),
  };
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
      else console.error(`connect-desktop: redirect refused: ${result.error.code}: ${result.error.message}`);
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

  await app.whenReady();
  session.defaultSession.setPermissionRequestHandler(denyPermission);
  session.defaultSession.setPermissionCheckHandler(() => false);

  const { settings, profile } = loadSettings();
  client = createDesktopClient({
    settings,
    ...(profile ? { profile } : {}),
    // The system browser, only ever for the URLs the core built (never a URL from the renderer):
    // $BROWSER when set (as for the CLI), otherwise the OS's default through shell.openExternal.
    browser: process.env.BROWSER ? systemBrowser() : { open: (url) => shell.openExternal(url) },
  });
  scheme = registerScheme(client.redirectUri);
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
  handle('reloadUserInfo', () => api.reloadUserInfo());
  handle('refresh', () => api.refresh());
  handle('signOut', (everywhere) => api.signOut(everywhere === true));

  window = new BrowserWindow({
    width: 760,
    height: 620,
    minWidth: 520,
    minHeight: 420,
    title: 'CONNECT Desktop',
    show: false,
    webPreferences: { ...WEB_PREFERENCES, preload: join(here, 'preload.cjs') },
  });
  window.once('ready-to-show', () => window?.show());
  await window.loadFile(INDEX_HTML);
}
