// Electron main process: window, OS hooks and IPC wiring only. Every decision about the protocol is
// made in src/ (createDesktopClient); this file only connects it to Electron.
import { app, BrowserWindow, ipcMain, session, shell, type IpcMainInvokeEvent } from 'electron';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CHANNELS, type ConnectApi } from '../src/app-api.js';
import { systemBrowser } from '../src/browser/opener.js';
import { readConfigFile } from '../src/config-file.js';
import { createDesktopClient } from '../src/desktop-client.js';
import type { ProviderSettings } from '../src/settings.js';

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
    },
    ...(config.profile ? { profile: config.profile } : {}),
  };
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.enableSandbox();
  let window: BrowserWindow | undefined = undefined;

  // Navigation, new windows and webviews are refused everywhere; permissions are never granted.
  app.on('web-contents-created', (_event, contents) => {
    contents.on('will-navigate', (event, url) => {
      if (url !== INDEX_URL) event.preventDefault();
    });
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });

  app.on('second-instance', () => {
    if (window?.isMinimized()) window.restore();
    window?.focus();
  });

  app.on('window-all-closed', () => app.quit());

  await app.whenReady();
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);

  const { settings, profile } = loadSettings();
  const client: ConnectApi = createDesktopClient({
    settings,
    ...(profile ? { profile } : {}),
    // The system browser, only ever for the URLs the core built (never a URL from the renderer):
    // $BROWSER when set (as for the CLI), otherwise the OS's default through shell.openExternal.
    browser: process.env.BROWSER ? systemBrowser() : { open: (url) => shell.openExternal(url) },
  });

  // IPC: only from our own page in our own window's main frame.
  const fromOurPage = (event: IpcMainInvokeEvent) =>
    !!window && event.sender === window.webContents && event.senderFrame === window.webContents.mainFrame &&
    event.senderFrame?.url === INDEX_URL;
  const handle = <K extends keyof ConnectApi>(name: K) =>
    ipcMain.handle(CHANNELS[name], async (event) => {
      if (!fromOurPage(event)) return { ok: false, error: { code: 'forbidden', message: 'IPC from an unknown sender.' } };
      const result = await client[name]();
      if (name === 'signIn') {
        // After the browser hands the result back, bring the app to the front.
        window?.show();
        window?.focus();
      }
      return result;
    });
  handle('state');
  handle('signIn');
  handle('cancelSignIn');
  handle('signOut');

  window = new BrowserWindow({
    width: 760,
    height: 620,
    minWidth: 520,
    minHeight: 420,
    title: 'CONNECT Desktop',
    show: false,
    webPreferences: {
      preload: join(here, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  window.once('ready-to-show', () => window?.show());
  await window.loadFile(INDEX_HTML);
}
