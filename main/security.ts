// Electron's security checklist, as data and small functions main.ts applies, so a test can check them
// without Electron. Type-only imports: nothing here loads Electron.
import type { IpcMainInvokeEvent, WebContents, WebPreferences } from 'electron';
import { isPageUrl } from './page-protocol.js';

/** The window's web preferences: isolated, sandboxed, no Node, no webviews. */
export const WEB_PREFERENCES: Readonly<WebPreferences> = Object.freeze({
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  webviewTag: false,
  spellcheck: false,
});

type Contents = Pick<WebContents, 'on' | 'setWindowOpenHandler'>;

/** Navigation away from the app's page, redirects, new windows and webviews are all refused. */
export function lockDown(contents: Contents): void {
  contents.on('will-navigate', (event, url) => {
    if (!isPageUrl(url)) event.preventDefault();
  });
  contents.on('will-redirect', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
}

/**
 * An IPC call is served only from the app's own page (app://connect/index.html, compared as a parsed
 * URL, not as text), in its own window's main frame.
 */
export function fromOurPage(
  event: Pick<IpcMainInvokeEvent, 'sender' | 'senderFrame'>,
  window: { webContents: Pick<WebContents, 'mainFrame'> } | undefined,
): boolean {
  return !!window && event.sender === window.webContents && event.senderFrame === window.webContents.mainFrame && isPageUrl(event.senderFrame?.url);
}

/** Permissions (camera, notifications, …) are never granted. */
export const denyPermission = (_contents: unknown, _permission: string, callback: (granted: boolean) => void): void => callback(false);
