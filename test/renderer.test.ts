// The app's screens as a user meets them: the real renderer in Chromium, window.connect bridged to
// the real core (desktop client), the demo provider, a second chromium as the system browser, and
// the real keychain. Each screen is saved as a screenshot, light and dark (docs/screenshots).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { fileSettingsStore } from '../src/app/app-settings.js';
import { createDesktopClient } from '../src/app/desktop-client.js';
import { keychainEntries, keychainStore } from '../src/secret-store/keychain.js';
import { TokenStore } from '../src/session/token-store.js';
import { startTestProvider, type TestProvider } from './provider/provider.js';
import { launchChromium } from './support/chromium.js';
import { ROOT, testProfile } from './support/cli.js';
import { RendererHost } from './support/renderer-host.js';
import { SharedBrowser } from './support/shared-browser.js';
import { IDENTITY } from '../src/config/identity.js';

const SHOTS = join(ROOT, 'docs/screenshots');
let provider: TestProvider;
let host: RendererHost;
let windows: Browser;
let user: SharedBrowser;
const store = new TokenStore(keychainStore());
const profiles: string[] = [];

before(async () => {
  mkdirSync(SHOTS, { recursive: true });
  provider = await startTestProvider();
  host = await RendererHost.start();
  windows = await launchChromium();
  user = await SharedBrowser.start();
});

after(async () => {
  for (const profile of profiles) await store.remove(profile).catch(() => {});
  await user.close();
  await windows.close();
  host.close();
  await provider.close();
});

function client(options: { profile?: string; deny?: boolean; noBrowser?: boolean; timeoutMs?: number; store?: TokenStore } = {}) {
  const profile = options.profile ?? testProfile('ui');
  profiles.push(profile);
  return createDesktopClient({
    settings: { issuer: provider.issuer, clientId: provider.publicClientId },
    profile,
    store: options.store ?? store,
    platform: 'linux',
    browser: options.noBrowser ? { open: async () => {} } : user.opener(options.deny ? { action: 'deny' } : {}),
    // Short: a failing test must not leave a sign-in waiting for minutes.
    timeoutMs: options.timeoutMs ?? 30_000,
  });
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

const visible = (page: Page, id: string) => page.locator(`#${id}`).isVisible();

describe('the setup screen', () => {
  test('first run: the setup screen, inline validation per field, then "Use the demo provider"', async () => {
    const profile = testProfile('setup');
    profiles.push(profile);
    const api = createDesktopClient({ profile, store, platform: 'linux', demoIssuer: provider.issuer, browser: user.opener(), timeoutMs: 30_000 });
    const page = await host.open(windows, api, 'light');
    await page.locator('#setup').waitFor();
    assert.equal(await page.locator('#provider').innerText(), 'Not set up yet');
    assert.equal(await page.locator('#redirect-kind').inputValue(), 'loopback', 'Linux: loopback preselected');
    assert.match(await page.locator('#redirect-kind option[value="loopback"]').innerText(), /\(recommended here\)$/);
    assert.equal(await visible(page, 'cancel-setup'), false, 'nothing to go back to on a first run');
    assert.equal(await page.locator('#dpop').inputValue(), 'auto', 'tokens bound wherever the provider offers it');

    await page.locator('#issuer').fill('http://idp.example.com');
    await page.locator('#issuer-problem', { hasText: 'uses plain http' }).waitFor();
    assert.equal(await page.locator('#issuer').getAttribute('aria-invalid'), 'true');
    await page.locator('#client-id').fill('my_client');
    await page.locator('#redirect-kind').selectOption('custom-scheme');
    await page.locator('#redirectKind-problem', { hasText: 'cannot be used as a URI scheme' }).waitFor();
    await page.locator('#scope').fill('profile');
    await page.locator('#scope-problem', { hasText: 'must include "openid"' }).waitFor();
    await page.locator('#save-settings').click();
    assert.equal(await page.evaluate('document.activeElement.id'), 'issuer', 'Save puts the focus on the first bad field');
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await shot(page, `setup-${scheme}`);
    }
    await page.emulateMedia({ colorScheme: 'light' });

    await page.locator('#use-demo').click();
    await page.locator('#signed-out').waitFor();
    assert.equal(await page.locator('#provider').innerText(), `${provider.issuer} · com.example.connect-desktop`);
    assert.match(await page.locator('#notice').innerText(), /Using the demo provider/);
    await page.close();
  });

  test('an e-mail address finds the issuer (WebFinger); "Register this app" registers and signs in', async () => {
    const open = await startTestProvider({ registration: 'open' });
    const profile = testProfile('setup-register');
    profiles.push(profile);
    try {
      const api = createDesktopClient({ profile, store, platform: 'linux', browser: user.opener(), timeoutMs: 30_000 });
      const page = await host.open(windows, api, 'light');
      await page.locator('#setup').waitFor();
      await page.locator('#issuer').fill(`alice@${new URL(open.issuer).host}`);
      await page.locator('#client-id').fill(provider.publicClientId);
      await page.locator('#save-settings').click();
      await page.locator('#signed-out').waitFor();
      assert.equal(await page.locator('#provider').innerText(), `${open.issuer} · com.example.connect-desktop`);

      await page.locator('#change-provider').click();
      await page.locator('#setup').waitFor();
      assert.equal(await page.locator('#issuer').inputValue(), open.issuer);
      assert.equal(await visible(page, 'cancel-setup'), true);
      await page.locator('#dpop').selectOption('off');
      await page.locator('#register-app').click();
      await page.locator('#notice', { hasText: 'This app is registered with the provider.' }).waitFor();
      const settings = await api.settings();
      assert.ok(settings.ok && settings.value.clientId !== provider.publicClientId, 'a new client id');
      await page.locator('#sign-in').click();
      await page.locator('#signed-in').waitFor({ timeout: 30_000 });
      assert.equal(await page.locator('#name').innerText(), 'Alice Example');
      assert.equal(await page.locator('#bound').innerText(), 'No (bearer tokens)', 'the choice made on the setup screen');
      await page.close();
    } finally {
      await open.close();
    }
  });
});

describe('a damaged settings file', () => {
  test('the window says so and where the file is; "Start over" keeps a backup and opens the setup screen', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'connect-ui-damaged-')), 'connect.config.json');
    const junk = '{\n  "issuer": "https://connect.example",\n  "clientId": "com.exa';
    writeFileSync(path, junk);
    const profile = testProfile('damaged');
    profiles.push(profile);
    const api = createDesktopClient({ settingsStore: fileSettingsStore(path), profile, store, platform: 'linux', demoIssuer: provider.issuer, browser: user.opener(), timeoutMs: 30_000 });
    const page = await host.open(windows, api, 'light');
    await page.locator('#damaged').waitFor();
    assert.equal(await visible(page, 'setup'), false, 'not the setup screen, as if there had been no settings');
    assert.equal(await visible(page, 'signed-out'), false);
    assert.match(await page.locator('#damaged-message').innerText(), /is not valid JSON \(it may have been cut short/);
    assert.equal(await page.locator('#damaged-file').innerText(), path);
    assert.equal(await page.evaluate('document.activeElement.id'), 'start-over');
    // "Try again" reads the file again: still damaged, still this screen, the file untouched.
    await page.locator('#read-again').click();
    await page.locator('#damaged').waitFor();
    assert.equal(readFileSync(path, 'utf8'), junk);

    await page.locator('#start-over').click();
    await page.locator('#setup').waitFor();
    const notice = await page.locator('#notice').innerText();
    const backup = /^The old settings file was kept as (.+)\.$/.exec(notice)?.[1];
    assert.ok(backup && backup.startsWith(`${path}.damaged-`), notice);
    assert.equal(readFileSync(backup, 'utf8'), junk, 'the backup holds what was there');
    assert.equal(await page.locator('#issuer').inputValue(), '', 'a fresh setup screen');
    assert.equal(await page.locator('#provider').innerText(), 'Not set up yet');

    await page.locator('#use-demo').click();
    await page.locator('#signed-out').waitFor();
    assert.equal(JSON.parse(readFileSync(path, 'utf8')).issuer, provider.issuer, 'saving works again');
    assert.ok(existsSync(backup));
    await page.close();
  });
});

describe('the app window', () => {
  test('signed out: one clear button, the provider named', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      const page = await host.open(windows, client(), scheme);
      await page.locator('#signed-out').waitFor();
      assert.equal(await page.locator('#sign-in').innerText(), 'Sign in with your browser');
      assert.equal(await page.locator('#provider').innerText(), `${provider.issuer} · ${provider.publicClientId}`);
      assert.equal(await visible(page, 'error'), false);
      await shot(page, `signed-out-${scheme}`);
      await page.close();
    }
  });

  test('sign in through the system browser, then the signed-in screen, refresh, reload, sign out everywhere', async () => {
    const api = client();
    const page = await host.open(windows, api, 'light');
    await page.locator('#signed-out').waitFor();
    // Keyboard only: the button is reachable and works with Enter.
    await page.locator('#sign-in').focus();
    await page.keyboard.press('Enter');
    await page.locator('#signed-in').waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('#name').innerText(), 'Alice Example');
    assert.equal(await page.locator('#email').innerText(), 'alice@example.com');
    assert.equal(await page.locator('#initials').innerText(), 'AE');
    assert.equal(await page.locator('#has-refresh').innerText(), 'Yes');
    assert.equal(await page.locator('#bound').innerText(), "Yes (DPoP): refused without this device's key where DPoP is checked");
    assert.equal(await page.locator('#scopes').innerText(), 'openid profile email offline_access');
    assert.match(await page.locator('#expiry').innerText(), /^Expires in \d+:\d\d · renewed in the background$/);
    assert.equal(await page.evaluate('document.activeElement.id'), 'refresh', 'focus moves to the next action');
    await page.locator('summary').click();
    assert.match(await page.locator('#claims').innerText(), /email_verified\s+true/);
    const html = await page.content();
    const stored = await store.load(profiles.at(-1) as string);
    assert.ok(stored && !html.includes(stored.accessToken) && !html.includes(stored.refreshToken as string), 'no token in the page');
    await shot(page, 'signed-in-light');
    await page.emulateMedia({ colorScheme: 'dark' });
    await shot(page, 'signed-in-dark');
    await page.emulateMedia({ colorScheme: 'light' });

    await page.locator('#refresh').click();
    await page.locator('#notice', { hasText: 'The access token was renewed.' }).waitFor();
    await page.locator('#reload-userinfo').click();
    await page.locator('#notice', { hasText: 'User info reloaded.' }).waitFor();

    await page.locator('#sign-out-everywhere').click();
    await page.locator('#signed-out').waitFor({ timeout: 30_000 });
    assert.equal(await page.locator('#notice').innerText(), 'You are signed out here and at the provider.');
    assert.deepEqual(await user.lastVisit(), ['logout']);
    await page.close();
  });

  test('sign in on another device: the page, the code and a QR code; entered on the phone, the window signs in by itself', async () => {
    const devices = await startTestProvider({ deviceFlow: true });
    try {
      const profile = testProfile('ui-device');
      profiles.push(profile);
      const api = createDesktopClient({ settings: { issuer: devices.issuer, clientId: devices.publicClientId }, profile, store, platform: 'linux', timeoutMs: 30_000 });
      const page = await host.open(windows, api, 'light');
      await page.locator('#signed-out').waitFor();
      await page.locator('#sign-in-device').click();
      await page.locator('#device-shown').waitFor();
      const code = await page.locator('#device-code').innerText();
      assert.match(code, /^[A-Z]{4}-[A-Z]{4}$/);
      assert.equal(await page.locator('#device-uri').innerText(), `${devices.issuer}/device`);
      assert.match(await page.locator('#device-expiry').innerText(), /^The code expires in (9|10):\d\d\.$/);
      const cells = await page.locator('#device-qr svg rect').count();
      assert.ok(cells > 100, `a QR code is drawn (${cells} squares)`);
      await shot(page, 'device-light');
      await page.emulateMedia({ colorScheme: 'dark' });
      await shot(page, 'device-dark');
      // On the phone: the page with the code filled in (what the QR code holds), then sign in there.
      await user.opener().open(`${devices.issuer}/device?user_code=${code}`);
      await page.locator('#signed-in').waitFor({ timeout: 30_000 });
      assert.equal(await page.locator('#name').innerText(), 'Alice Example');
      await page.close();
    } finally {
      await devices.close();
    }
  });

  test('a provider with pushed authorization requests: a wrong client id is refused before any browser, with what to do', async () => {
    const par = await startTestProvider({ par: 'on' });
    try {
      const opened: string[] = [];
      const profile = testProfile('ui-par');
      profiles.push(profile);
      const api = createDesktopClient({ settings: { issuer: par.issuer, clientId: 'not-registered' }, profile, store, platform: 'linux', browser: { open: async (url) => void opened.push(url) } });
      const page = await host.open(windows, api, 'light');
      await page.locator('#sign-in').click();
      await page.locator('#error').waitFor();
      assert.equal(await page.locator('#error-code').innerText(), 'invalid_client');
      assert.match(await page.locator('#error-message').innerText(), /^The provider refused the sign-in request before the browser opened/);
      assert.equal(await page.locator('#error-advice').innerText(), 'Check the client id and secret in the provider settings.');
      await page.locator('#signed-out').waitFor();
      assert.deepEqual(opened, [], 'no browser was opened');
      await page.close();
    } finally {
      await par.close();
    }
  });

  test('sign in on another device: Cancel, and a provider without it says what to do instead', async () => {
    const devices = await startTestProvider({ deviceFlow: true });
    try {
      const profile = testProfile('ui-device-cancel');
      profiles.push(profile);
      const api = createDesktopClient({ settings: { issuer: devices.issuer, clientId: devices.publicClientId }, profile, store, platform: 'linux', timeoutMs: 30_000 });
      const page = await host.open(windows, api, 'light');
      await page.locator('#sign-in-device').click();
      await page.locator('#device-shown').waitFor();
      await page.locator('#device-cancel').click();
      await page.locator('#error').waitFor();
      assert.equal(await page.locator('#error-code').innerText(), 'cancelled');
      await page.locator('#signed-out').waitFor();
      await page.close();
    } finally {
      await devices.close();
    }
    const page = await host.open(windows, client(), 'light');
    await page.locator('#sign-in-device').click();
    await page.locator('#error').waitFor();
    assert.equal(await page.locator('#error-code').innerText(), 'device_flow_unsupported');
    assert.equal(await page.locator('#error-advice').innerText(), 'Sign in with a browser on this computer, or use the oob redirect and paste the code.');
    await page.locator('#signed-out').waitFor();
    await page.close();
  });

  test('waiting: the browser hint, Cancel and "Open the browser again"; cancelling says what happened', async () => {
    const api = client({ noBrowser: true });
    for (const scheme of ['light', 'dark'] as const) {
      const page = await host.open(windows, api, scheme);
      await page.locator('#signed-out').waitFor();
      await page.locator('#sign-in').click();
      await page.locator('#waiting').waitFor();
      assert.match(await page.locator('#waiting-hint').innerText(), /the browser returns you here by itself/);
      assert.equal(await visible(page, 'paste'), false);
      await page.locator('#open-again').click();
      assert.equal(await visible(page, 'error'), false, 'opening the browser again works while waiting');
      await shot(page, `waiting-${scheme}`);
      await page.locator('#cancel').click();
      await page.locator('#error').waitFor();
      assert.equal(await page.locator('#error-message').innerText(), 'Sign-in was cancelled; nothing was stored.');
      assert.equal(await page.locator('#error-advice').innerText(), 'Sign in again when you are ready.');
      assert.equal(await page.locator('#error-code').innerText(), 'cancelled');
      await page.locator('#signed-out').waitFor();
      await page.close();
    }
  });

  test('errors: denied at the provider, and a timeout, each with what to do next', async () => {
    const denied = await host.open(windows, client({ deny: true }), 'light');
    await denied.locator('#signed-out').waitFor();
    await denied.locator('#sign-in').click();
    await denied.locator('#error').waitFor({ timeout: 30_000 });
    assert.match(await denied.locator('#error-message').innerText(), /^Sign-in was cancelled or access was denied at the provider\./);
    assert.equal(await denied.locator('#error-advice').innerText(), 'Sign in again and allow access when the provider asks.');
    assert.equal(await denied.locator('#error-code').innerText(), 'access_denied');
    await shot(denied, 'error-light');
    await denied.emulateMedia({ colorScheme: 'dark' });
    await shot(denied, 'error-dark');
    await denied.close();

    const slow = await host.open(windows, client({ noBrowser: true, timeoutMs: 1500 }), 'light');
    await slow.locator('#signed-out').waitFor();
    await slow.locator('#sign-in').click();
    await slow.locator('#error').waitFor({ timeout: 10_000 });
    assert.equal(await slow.locator('#error-code').innerText(), 'timeout');
    assert.match(await slow.locator('#error-message').innerText(), /not completed within 2 seconds/);
    await slow.close();
  });
});

describe('what the app says unasked', () => {
  test('a custom scheme the OS will not hand over: refused before the browser, one click to loopback, then signed in', async () => {
    const profile = testProfile('scheme');
    profiles.push(profile);
    let opened = 0;
    const browser = user.opener();
    const api = createDesktopClient({
      settings: { issuer: provider.issuer, clientId: provider.publicClientId, redirectUri: 'com.example.other-app://connect/oauth2callback' },
      profile,
      store,
      platform: 'darwin',
      browser: { open: (url) => (opened++, browser.open(url)) },
      timeoutMs: 30_000,
      // What main/os-scheme.ts answers on macOS for a scheme the build did not declare.
      receiveScheme: async (scheme) => {
        if (scheme !== IDENTITY.scheme) {
          const { ConnectError } = await import('../src/common/errors.js');
          throw new ConnectError('scheme_unavailable', `macOS hands "${scheme}://" URLs only to apps whose Info.plist declares that scheme.`);
        }
      },
    });
    const page = await host.open(windows, api, 'light');
    await page.locator('#signed-out').waitFor();
    await page.locator('#sign-in').click();
    await page.locator('#error').waitFor();
    assert.equal(await page.locator('#error-code').innerText(), 'scheme_unavailable');
    assert.match(await page.locator('#error-advice').innerText(), /loopback/);
    assert.equal(opened, 0, 'the browser never opened');
    assert.equal(await page.locator('#error-action').innerText(), 'Switch to the loopback redirect');
    await page.locator('#error-action').click();
    await page.locator('#notice', { hasText: 'Switched how the browser returns to the app' }).waitFor();
    await page.locator('#sign-in').click();
    await page.locator('#signed-in:not([hidden])').waitFor({ timeout: 30_000 });
    assert.equal(opened, 1);
    await page.close();
  });

  test('a sign-in response the OS hands over with no sign-in waiting, and a keychain waiting for the user', async () => {
    const api = client();
    const page = await host.open(windows, api, 'light');
    await page.locator('#signed-out').waitFor();
    // As main.ts does for open-url / second-instance / the launch's own argv.
    await api.deliverRedirect('com.example.connect-desktop://connect/oauth2callback?code=late&state=old');
    await page.locator('#error').waitFor();
    assert.equal(await page.locator('#error-code').innerText(), 'no_pending_attempt');
    assert.match(await page.locator('#error-advice').innerText(), /^Start the sign-in from this window/);
    assert.doesNotMatch(await page.locator('body').innerText(), /late|state=old/, 'no part of the URL is shown');

    await page.close();
  });

  test('a keychain call that waits shows the keychain notice until it is done', async () => {
    // A call is reported as waiting at once here (the real threshold, 2 s, and a keychain that holds
    // its answer are tested in secret-store.test.ts).
    const api = client({ store: new TokenStore(keychainStore(undefined, { waitingAfterMs: 0 })) });
    const page = await host.open(windows, api, 'light');
    await page.locator('#signed-out').waitFor();
    // Record each change of the notice's visibility, one mutation record each (it may show and hide
    // quicker than a poll, and both changes may reach the observer in one batch): shown when the
    // `hidden` attribute was there before the change.
    await page.evaluate(() => {
      type Dom = {
        seen: boolean[];
        document: { getElementById(id: string): unknown };
        MutationObserver: new (callback: (records: Array<{ oldValue: string | null }>) => void) => { observe(node: unknown, options: object): void };
      };
      const w = globalThis as unknown as Dom;
      const notice = w.document.getElementById('keychain-waiting');
      w.seen = [];
      new w.MutationObserver((records) => records.forEach((r) => w.seen.push(r.oldValue !== null))).observe(notice, {
        attributeFilter: ['hidden'],
        attributeOldValue: true,
      });
    });
    // Reading the settings reads the keychain every time (the client registration's secret). It waits
    // in line behind a long keychain write made just before (4 MB: about a tenth of a second), so it
    // does wait, however quick the keychain is otherwise.
    const raw = keychainEntries('connect-desktop-tests');
    const slow = raw.set(`renderer-slow-${process.pid}`, 'x'.repeat(4_000_000));
    assert.equal((await api.settings()).ok, true);
    await slow;
    await raw.delete(`renderer-slow-${process.pid}`);
    await page.waitForFunction(() => (globalThis as unknown as { seen: boolean[] }).seen.length >= 2);
    assert.deepEqual(await page.evaluate(() => (globalThis as unknown as { seen: boolean[] }).seen), [true, false]);
    assert.match(await page.locator('#keychain-waiting').textContent() ?? '', /answer there/);
    api.dispose();
    await page.close();
  });
});

describe('what the page does on its timers', () => {
  test('minutes pass on the setup and the waiting screens: nothing typed is lost, the screen stays, no listener piles up', async () => {
    const profile = testProfile('timers');
    profiles.push(profile);
    let listeners = 0;
    const real = createDesktopClient({ profile, store, platform: 'linux', demoIssuer: provider.issuer, browser: { open: async () => {} }, timeoutMs: 600_000 });
    const api = { ...real, onEvent: (listener: Parameters<typeof real.onEvent>[0]) => (listeners++, real.onEvent(listener)) };
    const page = await host.open(windows, api, 'light', { fakeClock: true });
    await page.locator('#setup').waitFor();
    await page.locator('#issuer').fill(provider.issuer);
    await page.locator('#client-id').fill(provider.publicClientId);
    await page.clock.fastForward('02:00');
    assert.equal(await visible(page, 'setup'), true, 'still on the setup screen');
    assert.equal(await page.locator('#issuer').inputValue(), provider.issuer, 'what was typed is still there');
    assert.equal(await page.locator('#client-id').inputValue(), provider.publicClientId);

    await page.locator('#setup-form button[type=submit]').click();
    await page.locator('#signed-out').waitFor();
    await page.locator('#sign-in').click();
    await page.locator('#waiting').waitFor();
    await page.clock.fastForward('02:00');
    assert.equal(await visible(page, 'waiting'), true, 'still waiting, Cancel still there');
    assert.equal(listeners, 1, 'the page listens for events once');
    await page.locator('#cancel').click();
    await page.locator('#signed-out').waitFor();
    await page.close();
    real.dispose();
  });
});

describe('the window follows the session without polling', () => {
  test('the provider refuses a renewal in the background: the signed-in screen turns to signed out by itself', async () => {
    const api = client();
    const page = await host.open(windows, api, 'light');
    await page.locator('#signed-out').waitFor();
    await page.locator('#sign-in').click();
    await page.locator('#signed-in').waitFor({ timeout: 30_000 });
    // The provider forgets the grant (revoked elsewhere, or expired).
    const stored = await store.load(profiles.at(-1) as string);
    const revoked = await fetch(`${provider.issuer}/oauth/revoke`, {
      method: 'POST',
      body: new URLSearchParams({ token: stored?.refreshToken as string, client_id: provider.publicClientId }),
    });
    assert.equal(revoked.status, 200);
    // What the app's timer does shortly before the token expires; nothing is clicked in the page.
    assert.equal((await api.refresh()).ok, false);
    await page.locator('#signed-out:not([hidden])').waitFor({ timeout: 5000 });
    await page.close();
  });
});
