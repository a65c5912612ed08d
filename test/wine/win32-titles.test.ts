// The Win32 window-title source for oob:auto, for real: node.exe under Wine reads the titles of
// windows that another Wine process shows (title-window.ts), as it would read a browser's on Windows.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { attemptSignal } from '../../src/common/abort.js';
import type { ConnectError } from '../../src/common/errors.js';
import { OobAutoReceiver } from '../../src/redirect-receiver/oob-auto.js';
import { openWindowTitleSource } from '../../src/window-titles/open.js';
import { win32TitleSource } from '../../src/window-titles/win32.js';
import { showWindows } from './support.js';

const ISSUER = 'https://connect.example';
const random = () => randomBytes(12).toString('base64url');

describe('Win32 window titles (oob:auto)', () => {
  test('this platform picks the Win32 source', async () => {
    assert.equal(process.platform, 'win32');
    assert.equal((await openWindowTitleSource()).name, 'win32');
  });

  test('a pending attempt captures exactly the code in its own window and ignores a decoy with another state', async () => {
    const state = random();
    const code = random();
    const windows = await showWindows([
      { create: 'decoy', title: `Success state=${random()}&code=decoy-code - Microsoft Edge` },
      { create: 'edge', title: 'New Tab - Microsoft Edge' },
      { wait: 400 },
      { set: 'edge', title: 'Sign in to CONNECT - Microsoft Edge' },
      { wait: 400 },
      { set: 'edge', title: `Success state=${state}&code=${code} - Microsoft Edge` },
    ]);
    const { signal, dispose } = attemptSignal(undefined, 20_000, 'timed out');
    const pending = await new OobAutoReceiver().listen(signal, { state, issuer: ISSUER });
    try {
      const candidate = await pending.next();
      assert.equal(candidate.params.get('state'), state);
      assert.equal(candidate.params.get('code'), code);
      assert.equal(candidate.params.get('iss'), ISSUER, 'the issuer is supplied from configuration');
      await candidate.settle({ ok: true });
    } finally {
      await pending.close();
      dispose();
      await windows.stop();
    }
  });

  test('with only other programs\' titles, the attempt stops on its timeout', async () => {
    const windows = await showWindows([
      { create: 'decoy', title: `Success state=${random()}&code=decoy-code - Microsoft Edge` },
      { create: 'mail', title: 'Inbox - Mail' },
    ]);
    const { signal, dispose } = attemptSignal(undefined, 1500, 'No sign-in result appeared in a browser window title in time.');
    const pending = await new OobAutoReceiver().listen(signal, { state: random(), issuer: ISSUER });
    try {
      await assert.rejects(pending.next(), (error: ConnectError) => {
        assert.equal(error.code, 'timeout');
        assert.equal(error.message, 'No sign-in result appeared in a browser window title in time.');
        return true;
      });
    } finally {
      await pending.close();
      dispose();
      await windows.stop();
    }
  });

  test('a title change announced with NotifyWinEvent arrives by the event path (polling off)', async () => {
    const success = `Success state=${random()}&code=${random()} - Microsoft Edge`;
    const seen: string[] = [];
    let arrived!: () => void;
    const done = new Promise<void>((resolve) => (arrived = resolve));
    // The hook is set before the other program starts: Wine tells a thread about win-event hooks set
    // later only when it next asks its server (on Windows a hook applies at once).
    const watch = win32TitleSource({ pollMs: 3_600_000 }).watch((titles) => {
      seen.push(...titles);
      if (titles.includes(success)) arrived();
    });
    const windows = await showWindows([
      { create: 'edge', title: 'New Tab - Microsoft Edge' },
      { wait: 600 },
      { set: 'edge', title: 'Unannounced - Microsoft Edge' },
      { wait: 900 },
      { set: 'edge', title: success, notify: true },
    ]);
    const timer = setTimeout(() => arrived(), 15_000);
    await done;
    clearTimeout(timer);
    watch.close();
    await windows.stop();
    assert.ok(seen.includes(success), 'the announced title arrived');
    assert.ok(!seen.includes('Unannounced - Microsoft Edge'), 'with polling off, an unannounced change is not read');
  });

  test('inside the app the source leaves the thread\'s messages to the host\'s loop: nothing is delivered from a timer of its own', async () => {
    // In Electron, Chromium's message loop on the main thread delivers the win events. node.exe has
    // no loop, so with the app's setting an announced change must NOT arrive by the event path: the
    // source itself never checks the thread (a timer of ours dispatching Electron's messages).
    const { setWindowTitleHost } = await import('../../src/window-titles/open.js');
    const announced = `Success state=${random()}&code=${random()} - Microsoft Edge`;
    const inApp: string[] = [];
    const eventsOnly: string[] = [];
    setWindowTitleHost('app');
    const watch = (await openWindowTitleSource()).watch((titles) => inApp.push(...titles));
    setWindowTitleHost('terminal');
    // The same, with polling off so that only the event path could deliver the change.
    const quiet = win32TitleSource({ pollMs: 3_600_000, checkThread: false }).watch((titles) => eventsOnly.push(...titles));
    const windows = await showWindows([
      { create: 'edge', title: 'New Tab - Microsoft Edge' },
      { wait: 600 },
      { set: 'edge', title: announced, notify: true },
      { wait: 2500 },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 3500));
    quiet.close();
    watch.close();
    await windows.stop();
    assert.ok(inApp.includes(announced), 'the app\'s source still reads the title (its poll)');
    assert.ok(!eventsOnly.includes(announced), 'no message was taken or dispatched by the source itself');
  });
});
