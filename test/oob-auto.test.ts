// urn:ietf:wg:oauth:2.0:oob:auto on a real X server: headful chromium shows the provider's result
// page, and connect-login reads the code from the window title. Other windows with crafted titles
// play stale tabs, other programs and an attacker.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { x11TitleSource } from '../src/window-titles/x11.js';
import { OobAutoReceiver } from '../src/redirect-receiver/oob-auto.js';
import { openTitledWindow } from './support/x11-window.js';
import { parseResultTitle } from '../src/window-titles/parse.js';
import { startTestProvider, type TestProvider } from './provider/provider.js';
import { browserUser, jsonOf, runCli, startCli, profileTracker } from './support/cli.js';
import { launchChromium } from './support/chromium.js';

const OOB_AUTO = 'urn:ietf:wg:oauth:2.0:oob:auto';
let provider: TestProvider;
let windows: Browser;
const { profileFor, signOutAll } = profileTracker();

before(async () => {
  provider = await startTestProvider();
  windows = await launchChromium({ headless: false });
});

after(async () => {
  await windows.close();
  await signOutAll();
  await provider.close();
});


/** Another top-level window with this title (another program, a stale tab, an attacker). */
async function windowTitled(title: string) {
  const page = await (await windows.newContext()).newPage();
  await page.setContent(`<title>${title.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</title>`);
  return page;
}

function loginArgs(profile: string): string[] {
  return ['login', '--issuer', provider.issuer, '--client-id', provider.publicClientId, '--redirect-uri', OOB_AUTO, '--profile', profile, '--json'];
}

describe('title parsing', () => {
  test('strict: this attempt\'s state only, any order, browser suffixes, cut-off codes', () => {
    const parse = (title: string) => {
      const r = parseResultTitle(title, 'S1');
      return r === null || r === 'truncated' ? r : Object.fromEntries(r);
    };
    assert.deepEqual(parse('Success state=S1&code=C1&iss=http%3A%2F%2Fidp - Chromium'), { state: 'S1', code: 'C1', iss: 'http://idp' });
    assert.deepEqual(parse('Success code=C1&state=S1 \u2014 Mozilla Firefox'), { code: 'C1', state: 'S1' });
    assert.deepEqual(parse('Success state=S1&amp;code=C1 - Google Chrome'), { state: 'S1', code: 'C1' });
    assert.deepEqual(parse('Success state=S1&code=C%2B1 and 2 more pages - Profile 1 - Microsoft\u200b Edge'), { state: 'S1', code: 'C+1' });
    assert.deepEqual(parse('Denied state=S1&error=access_denied - Chromium'), { state: 'S1', error: 'access_denied' });
    assert.equal(parse('Success state=S1&code=C1\u2026'), 'truncated');
    assert.equal(parse('Success state=S1&code=C1...'), 'truncated');
    assert.equal(parse('Success state=S2&code=C1'), null, 'another attempt');
    assert.equal(parse('Success state=S&code=C1'), null, 'a prefix of the state');
    assert.equal(parse('Success state=S1x&code=C1'), null);
    assert.equal(parse('Success state=S1'), null, 'no code');
    assert.equal(parse('Denied state=S1'), null, 'no error');
    assert.equal(parse('Inbox - Success state=S1&code=C1'), null, 'not at the start');
    assert.equal(parse('Success  state=S1&code=C1'), null);
    assert.equal(parse('x'.repeat(100_000)), null, 'a huge title');
    assert.equal(parse(`Success state=S1&code=${'C'.repeat(100_000)}`), null, 'a huge title with the right state');
    assert.deepEqual(parse('Success state=%53%31&code=C%2F1%3D - Chromium'), { state: 'S1', code: 'C/1=' }, 'URL-encoded values are decoded');
    assert.equal(parse('Success state=S1&amp;amp;code=C1'), null, 'escaped twice: no code parameter, refused');
    assert.equal(parse('Success state=S1%00&code=C1'), null);
    assert.equal(parse('Success state=S1&state=S2&code=C1'), null, 'two states: the first is taken, and it must be the only one');
  });
});

describe('window-title sources per OS', () => {
  test('a platform whose libraries are missing gives window_titles_unavailable, not a crash', async () => {
    const { openWindowTitleSource } = await import('../src/window-titles/open.js');
    for (const platform of ['win32', 'darwin', 'aix'] as const) {
      await assert.rejects(openWindowTitleSource(platform), (e: { code?: string; message?: string }) => {
        assert.equal(e.code, 'window_titles_unavailable', platform);
        return true;
      });
    }
  });

  test('macOS: every CoreFoundation/CoreGraphics declaration passes each argument at the width Apple\'s headers give it', async () => {
    // This machine cannot load the frameworks; koffi parses the same declarations it would bind.
    // CFIndex and CFNumberType (an enum of CFIndex) are `signed long`, 8 bytes on 64-bit macOS;
    // CFStringEncoding, CGWindowListOption and CGWindowID are 32-bit; the rest are pointers.
    const koffi = (await import('koffi')).default;
    const { DECLARATIONS } = await import('../src/window-titles/darwin.js');
    const APPLE: Record<keyof typeof DECLARATIONS, number[]> = {
      CGWindowListCopyWindowInfo: [4, 4],
      CGPreflightScreenCaptureAccess: [],
      CGRequestScreenCaptureAccess: [],
      CFArrayGetCount: [8],
      CFArrayGetValueAtIndex: [8, 8],
      CFDictionaryGetValue: [8, 8],
      CFStringCreateWithCString: [8, 8, 4],
      CFStringGetLength: [8],
      CFStringGetMaximumSizeForEncoding: [8, 4],
      CFStringGetCString: [8, 8, 8, 4],
      CFNumberGetValue: [8, 8, 8],
      CFRelease: [8],
    };
    for (const [name, declaration] of Object.entries(DECLARATIONS)) {
      const { proto } = koffi.type(koffi.proto(declaration)) as unknown as { proto: { arguments: { type: { size: number } }[] } };
      assert.deepEqual(proto.arguments.map((a) => a.type.size), APPLE[name as keyof typeof DECLARATIONS], name);
    }
  });

  test('macOS without Screen Recording: the app is told where to turn it on; a terminal user, that it is the terminal\'s', async () => {
    const { screenRecordingHelp } = await import('../src/window-titles/darwin.js');
    assert.match(screenRecordingHelp('app'), /turn it on for this app \(macOS has just asked, and listed it there\)/);
    assert.match(screenRecordingHelp('terminal'), /turn it on for the terminal app this command runs in/);
    for (const host of ['app', 'terminal'] as const) assert.match(screenRecordingHelp(host), /the loopback redirect needs no permission/);
  });
});

describe('oob:auto on X11', () => {
  test('the X11 source sees top-level window titles, and changes to them, without a window manager', async () => {
    const page = await windowTitled('first title');
    const seen: string[][] = [];
    const watch = x11TitleSource().watch((titles) => seen.push(titles));
    const sees = async (prefix: string) => {
      for (let i = 0; i < 100 && !seen.at(-1)?.some((t) => t.startsWith(prefix)); i++) await new Promise((r) => setTimeout(r, 20));
      return seen.at(-1)?.some((t) => t.startsWith(prefix)) ?? false;
    };
    try {
      assert.ok(await sees('first title - Chromium'), JSON.stringify(seen.at(-1)));
      await page.evaluate("document.title = 'second title'");
      assert.ok(await sees('second title - Chromium'), JSON.stringify(seen.at(-1)));
    } finally {
      watch.close();
      await page.close();
    }
  });

  test('the receiver takes only its own attempt\'s title: stale, huge and other programs\' titles are ignored', async () => {
    const stale = openTitledWindow('Success state=an-earlier-attempt&code=old-code - Chromium');
    const huge = openTitledWindow(`Success state=S-now&code=${'A'.repeat(64 * 1024)}`);
    const other = openTitledWindow('Re: Success state=S-now&code=phished - Mail');
    const controller = new AbortController();
    const pending = await new OobAutoReceiver().listen(controller.signal, { state: 'S-now', issuer: 'https://idp.example' });
    const mine = openTitledWindow('Success state=S-now&code=C%2Fnow - Chromium');
    try {
      const candidate = await pending.next();
      assert.deepEqual(Object.fromEntries(candidate.params), { state: 'S-now', code: 'C/now', iss: 'https://idp.example' });
    } finally {
      await pending.close();
      controller.abort();
      for (const w of [stale, huge, other, mine]) w.close();
    }
  });

  test('CLI signs in from the window title, ignoring a spoofed window with another state', async () => {
    const profile = profileFor('oob-auto');
    const spoof = await windowTitled('Success state=not-yours&code=forged-code');
    const user = browserUser({ user: 'alice', headful: true });
    try {
      const login = await runCli(loginArgs(profile), { BROWSER: user.BROWSER });
      assert.equal(login.code, 0, login.stderr);
      assert.equal(jsonOf(login).sub, 'alice');
      assert.equal(jsonOf(login).redirect_uri, OOB_AUTO);
      assert.match(login.stderr, /Waiting for the browser's window title to show the result/);
      assert.doesNotMatch(login.stderr, /warning:/, 'the spoofed title was never even tried');
      const page = await user.report();
      assert.match(page.title ?? '', /^Success state=/);
    } finally {
      user.release();
      await spoof.close();
    }
  });

  test('a cut-off title and a wrong code with the right state are refused, and watching goes on', async () => {
    const profile = profileFor('oob-auto-cut');
    const user = browserUser({ user: 'bob', headful: true });
    // The real browser is held back until the decoys have been seen.
    const cli = startCli(loginArgs(profile), { BROWSER: 'true' });
    let stderr = '';
    cli.child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    for (let i = 0; i < 200 && !/visit:\n {2}(\S+)/.test(stderr); i++) await new Promise((r) => setTimeout(r, 50));
    const url = new URL(/visit:\n {2}(\S+)/.exec(stderr)?.[1] ?? '');
    const state = url.searchParams.get('state') as string;
    const cut = await windowTitled(`Success state=${state}&code=abc\u2026`);
    const wrong = await windowTitled(`Success state=${state}&code=not-a-real-code`);
    try {
      for (let i = 0; i < 200 && !stderr.includes('invalid_grant'); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(stderr, /warning: invalid_code: The browser's window title was cut short/);
      assert.match(stderr, /warning: invalid_grant: .* Still waiting\.\.\./);
      // Now the user signs in for real in the browser.
      const { spawn } = await import('node:child_process');
      const { shellWords } = await import('../src/browser/shell-words.js');
      const [file, ...args] = shellWords(user.BROWSER);
      spawn(file as string, [...args, url.href], { stdio: 'ignore' });
      const result = await cli.done;
      assert.equal(result.code, 0, result.stderr);
      assert.equal(jsonOf(result).sub, 'bob');
    } finally {
      user.release();
      await cut.close();
      await wrong.close();
    }
  });

  test('the user denies: the Denied title ends the attempt with access_denied', async () => {
    const profile = profileFor('oob-auto-denied');
    const user = browserUser({ action: 'deny', headful: true });
    try {
      const login = await runCli(loginArgs(profile), { BROWSER: user.BROWSER });
      assert.equal(login.code, 1);
      assert.equal(jsonOf(login).error, 'access_denied');
    } finally {
      user.release();
    }
    const status = await runCli(['status', '--profile', profile, '--json']);
    assert.equal(jsonOf(status).status, 'signed_out');
  });

  test('nothing shows up: timeout', async () => {
    const login = await runCli([...loginArgs(profileFor('oob-auto-timeout')), '--timeout', '2'], { BROWSER: 'true' });
    assert.equal(login.code, 1);
    assert.equal(jsonOf(login).error, 'timeout');
  });

  test('no X display: window_titles_unavailable with what to do instead', async () => {
    const login = await runCli(loginArgs(profileFor('oob-auto-nodisplay')), { BROWSER: 'true', DISPLAY: '' });
    assert.equal(login.code, 1);
    const out = jsonOf(login);
    assert.equal(out.error, 'window_titles_unavailable');
    assert.match(String(out.error_description), /DISPLAY is not set.*Choose another redirect kind/);
  });
});

describe('polling sources report changes only', () => {
  test('the same titles twice are reported once', async () => {
    const { whenChanged } = await import('../src/window-titles/source.js');
    const seen: string[][] = [];
    const report = whenChanged((titles) => seen.push(titles));
    report(['a', 'b']);
    report(['a', 'b']);
    report(['a', 'c']);
    report([]);
    report([]);
    assert.deepEqual(seen, [['a', 'b'], ['a', 'c'], []]);
  });
});
