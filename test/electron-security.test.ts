// The Electron security checklist as main/ applies it, checked without Electron: main/security.ts
// holds the window's web preferences and the handlers, and main.ts is checked to use them.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { WEB_PREFERENCES, denyPermission, fromOurPage, lockDown } from '../main/security.js';
import { ROOT } from './support/cli.js';

import { PAGE_URL, isPageUrl } from '../main/page-protocol.js';

const PAGE = PAGE_URL;

class FakeContents extends EventEmitter {
  openHandler: (() => { action: string }) | undefined;
  setWindowOpenHandler(handler: () => { action: string }) {
    this.openHandler = handler;
  }
}

function fire(contents: FakeContents, name: string, url?: string): boolean {
  let prevented = false;
  contents.emit(name, { preventDefault: () => (prevented = true) }, url);
  return prevented;
}

describe('Electron security checklist', () => {
  test('web preferences: context isolation, sandbox, no Node, no webviews', () => {
    assert.equal(WEB_PREFERENCES.contextIsolation, true);
    assert.equal(WEB_PREFERENCES.sandbox, true);
    assert.equal(WEB_PREFERENCES.nodeIntegration, false);
    assert.equal(WEB_PREFERENCES.nodeIntegrationInWorker, false);
    assert.equal(WEB_PREFERENCES.webSecurity, true);
    assert.equal(WEB_PREFERENCES.webviewTag, false);
    assert.ok(Object.isFrozen(WEB_PREFERENCES));
  });

  test('navigation away, redirects, webviews and new windows are refused', () => {
    const contents = new FakeContents();
    lockDown(contents as never);
    assert.equal(fire(contents, 'will-navigate', 'https://evil.example/'), true);
    assert.equal(fire(contents, 'will-navigate', PAGE), false, 'reloading the app page itself is allowed');
    assert.equal(fire(contents, 'will-redirect', PAGE), true);
    assert.equal(fire(contents, 'will-attach-webview'), true);
    assert.deepEqual(contents.openHandler?.(), { action: 'deny' });
    let granted: boolean | undefined;
    denyPermission(null, 'media', (g) => (granted = g));
    assert.equal(granted, false);
  });

  test('IPC is served only to the app page in the main frame of its own window', () => {
    const mainFrame = { url: PAGE };
    const webContents = { mainFrame };
    const window = { webContents };
    assert.equal(fromOurPage({ sender: webContents, senderFrame: mainFrame } as never, window as never), true);
    assert.equal(fromOurPage({ sender: {}, senderFrame: mainFrame } as never, window as never), false, 'another window');
    assert.equal(fromOurPage({ sender: webContents, senderFrame: { url: PAGE } } as never, window as never), false, 'a subframe');
    const navigated = { url: 'https://evil.example/' };
    const other = { mainFrame: navigated };
    assert.equal(fromOurPage({ sender: other, senderFrame: navigated } as never, { webContents: other } as never), false, 'another page');
    assert.equal(fromOurPage({ sender: webContents, senderFrame: mainFrame } as never, undefined), false, 'no window yet');
  });

  test('the page is app://connect/index.html exactly: no file:// URL, other host, path or user info passes', () => {
    assert.equal(isPageUrl('app://connect/index.html'), true);
    for (const url of [
      'file:///app/dist/renderer/index.html',
      'file:///C:/Program%20Files/App/resources/app.asar/dist/renderer/index.html',
      'app://evil/index.html',
      'app://connect/other.html',
      'app://user@connect/index.html',
      'https://connect/index.html',
      'app://connect.evil.example/index.html',
      '',
      undefined,
      'not a url',
    ]) {
      assert.equal(isPageUrl(url), false, String(url));
    }
    const contents = new FakeContents();
    lockDown(contents as never);
    assert.equal(fire(contents, 'will-navigate', 'file:///app/dist/renderer/index.html'), true, 'file:// is not the page any more');
  });

  test('main.ts applies them: every handler checks its sender; openExternal only through the core', () => {
    const main = readFileSync(join(ROOT, 'main/main.ts'), 'utf8');
    assert.match(main, /webPreferences: \{ \.\.\.WEB_PREFERENCES, preload:/);
    assert.match(main, /app\.on\('web-contents-created', \(_event, contents\) => lockDown\(contents\)\)/);
    assert.match(main, /fromOurPage\(event, window\) \? call\(\.\.\.args\) : forbidden/);
    assert.equal((main.match(/ipcMain\.handle\(/g) ?? []).length, 1, 'one place registers every IPC handler, with the check');
    assert.equal((main.match(/shell\.openExternal\(/g) ?? []).length, 1, 'openExternal is only the core\'s browser opener');
    assert.match(main, /browser: .*\{ open: async \(url\) => shell\.openExternal\(externalUrl\(url\)\) \}/);
    const preload = readFileSync(join(ROOT, 'main/preload.cts'), 'utf8');
    assert.match(preload, /contextBridge\.exposeInMainWorld\('connect', api\)/);
    assert.doesNotMatch(preload, /exposeInMainWorld\([^)]*ipcRenderer/, 'ipcRenderer itself is never exposed');
    const html = readFileSync(join(ROOT, 'renderer/index.html'), 'utf8');
    assert.match(html, /Content-Security-Policy" *\n? *content="default-src 'self'; script-src 'self'; style-src 'self';/);
  });
});
