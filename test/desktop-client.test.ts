// The core behind the app's window, driven as the renderer drives it (through window.connect's
// shape), with the real provider, real chromium and the real keychain. The renderer must see claims
// and expiry, and never a token.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { adviceFor } from '../src/common/advice.js';
import { SettingsFileError, fileSettingsStore } from '../src/app/app-settings.js';
import { systemBrowser } from '../src/browser/opener.js';
import { createDesktopClient } from '../src/app/desktop-client.js';
import { keychainStore } from '../src/secret-store/keychain.js';
import { TokenStore } from '../src/session/token-store.js';
import { startTestProvider, type TestProvider } from './provider/provider.js';
import { browserUser, testProfile } from './support/cli.js';

let provider: TestProvider;
const store = new TokenStore(keychainStore());

before(async () => {
  provider = await startTestProvider();
});

after(async () => {
  await provider.close();
});

describe('desktop client (what the app window sees)', () => {
  test('sign in: the state carries claims and expiry, never a token; sign out forgets', async () => {
    const profile = testProfile('desktop');
    const user = browserUser({ user: 'alice' });
    const client = createDesktopClient({
      settings: { issuer: provider.issuer, clientId: provider.publicClientId },
      profile,
      store,
      browser: systemBrowser({ BROWSER: user.BROWSER }),
      platform: 'linux',
    });
    const before = await client.state();
    assert.deepEqual(before, {
      ok: true,
      value: {
        signedIn: false,
        issuer: provider.issuer,
        clientId: provider.publicClientId,
        redirectUri: 'http://127.0.0.1/connect/oauth2callback',
        redirectKind: 'loopback',
      },
    });

    const result = await client.signIn();
    assert.ok(result.ok, JSON.stringify(result));
    const state = result.value;
    assert.ok(state.signedIn);
    assert.equal(state.displayName, 'Alice Example');
    assert.equal(state.claims.email, 'alice@example.com');
    assert.ok(state.expiresAt && state.expiresAt > Date.now() / 1000);
    assert.equal(state.hasRefreshToken, true);

    const stored = await store.load(profile);
    assert.ok(stored?.refreshToken && stored.idToken);
    // Refresh now: a new access token (and rotated refresh token) behind the same claims.
    const refreshed = await client.refresh();
    assert.ok(refreshed.ok && refreshed.value.signedIn && refreshed.value.sub === 'alice');
    const renewed = await store.load(profile);
    assert.ok(renewed && renewed.accessToken !== stored.accessToken && renewed.refreshToken !== stored.refreshToken);

    const seen = JSON.stringify([result, await client.state(), refreshed]);
    for (const secret of [stored.accessToken, stored.refreshToken, stored.idToken, renewed.accessToken, renewed.refreshToken]) {
      assert.ok(!seen.includes(secret as string), 'no token reaches the renderer');
    }

    const out = await client.signOut(false);
    assert.deepEqual(out.ok && out.value, {
      state: { signedIn: false, issuer: provider.issuer, clientId: provider.publicClientId, redirectUri: 'http://127.0.0.1/connect/oauth2callback', redirectKind: 'loopback' },
      revoked: true,
      everywhere: 'not_requested',
      warnings: [],
    });
    assert.equal(await store.load(profile), null);
    client.dispose();
  });

  test('the setup screen\'s DPoP choice: auto by default binds the tokens (the window says so); "off" is saved and kept; a bad value is refused and nothing saved', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'connect-dpop-')), 'connect.config.json');
    const profile = testProfile('desktop-dpop');
    const user = browserUser({ user: 'alice' });
    const client = createDesktopClient({ settingsStore: fileSettingsStore(path), profile, store, browser: systemBrowser({ BROWSER: user.BROWSER }), platform: 'linux' });
    try {
      const input = { issuer: provider.issuer, clientId: provider.publicClientId, redirectKind: 'loopback', scope: 'openid email' } as const;
      const saved = await client.saveSettings(input);
      assert.ok(saved.ok && saved.value.dpop === 'auto', JSON.stringify(saved));
      const bound = await client.signIn();
      assert.ok(bound.ok && bound.value.signedIn && bound.value.senderConstrained === true, JSON.stringify(bound));

      const bad = await client.saveSettings({ ...input, dpop: 'sometimes' as 'on' });
      assert.deepEqual(bad.ok ? bad.value : bad.error.message, 'Choose auto, on, off for binding the tokens to this device.');
      assert.deepEqual((await client.checkSettings({ ...input, dpop: 'sometimes' as 'on' })), { ok: true, value: { dpop: 'Choose auto, on, off for binding the tokens to this device.' } });
      assert.equal(JSON.parse(readFileSync(path, 'utf8')).dpop, undefined, 'nothing saved');

      const off = await client.saveSettings({ ...input, dpop: 'off' });
      assert.ok(off.ok && off.value.dpop === 'off');
      assert.equal(JSON.parse(readFileSync(path, 'utf8')).dpop, 'off');
      const kept = await client.saveSettings({ ...input, scope: 'openid' });
      assert.ok(kept.ok && kept.value.dpop === 'off', 'a form without the choice keeps the saved one');
      const bearer = await client.signIn();
      assert.ok(bearer.ok && bearer.value.signedIn && bearer.value.senderConstrained === false, JSON.stringify(bearer));
    } finally {
      client.dispose();
      await store.remove(profile);
    }
  });

  test('the app renews a short-lived access token in the background, before it expires', async () => {
    const shortLived = await startTestProvider({ accessTokenTtl: 4 });
    const profile = testProfile('desktop-background');
    const user = browserUser({ user: 'alice' });
    const client = createDesktopClient({
      settings: { issuer: shortLived.issuer, clientId: shortLived.publicClientId },
      profile,
      store,
      browser: systemBrowser({ BROWSER: user.BROWSER }),
      platform: 'linux',
    });
    try {
      const signedIn = await client.signIn();
      assert.ok(signedIn.ok && signedIn.value.signedIn);
      const firstExpiry = signedIn.value.expiresAt as number;
      await new Promise((r) => setTimeout(r, 4500));
      const later = await client.state();
      assert.ok(later.ok && later.value.signedIn, 'still signed in after the first token expired');
      assert.ok((later.value.expiresAt as number) > firstExpiry, 'the window sees the renewed expiry');
      assert.ok((later.value.expiresAt as number) > Date.now() / 1000, 'and the token it has is valid now');
    } finally {
      client.dispose();
      await store.remove(profile);
      await shortLived.close();
    }
  });

  test('a provider offering PAR refuses a wrong client id: the window shows why and what to do; no browser opened', async () => {
    const par = await startTestProvider({ par: 'on' });
    try {
      const opened: string[] = [];
      const client = createDesktopClient({
        settings: { issuer: par.issuer, clientId: 'not-this-one' },
        profile: testProfile('desktop-par'),
        store,
        browser: { open: async (url) => void opened.push(url) },
        platform: 'linux',
      });
      const result = await client.signIn();
      assert.equal(result.ok, false);
      assert.ok(!result.ok);
      assert.equal(result.error.code, 'invalid_client');
      assert.match(result.error.message, /^The provider refused the sign-in request before the browser opened/);
      assert.equal(result.error.advice, adviceFor('invalid_client'));
      assert.deepEqual(opened, []);
      client.dispose();
    } finally {
      await par.close();
    }
  });

  test('the platform decides the default redirect kind: Windows oob:auto, macOS custom scheme', async () => {
    const settings = { issuer: provider.issuer, clientId: provider.publicClientId };
    const windows = await createDesktopClient({ settings, platform: 'win32', store }).state();
    assert.ok(windows.ok && windows.value.redirectKind === 'oob-auto');
    const mac = createDesktopClient({ settings, platform: 'darwin', store });
    assert.equal(await mac.redirectUri(), 'com.example.connect-desktop://connect/oauth2callback');
  });

  test('oob in the app: the paste box hands the code over; a wrong one can be pasted again', async () => {
    const profile = testProfile('desktop-oob');
    const user = browserUser({ user: 'bob' });
    const client = createDesktopClient({
      settings: { issuer: provider.issuer, clientId: provider.publicClientId, redirectUri: 'urn:ietf:wg:oauth:2.0:oob' },
      profile,
      store,
      browser: systemBrowser({ BROWSER: user.BROWSER }),
    });
    assert.deepEqual(await client.submitCode('early'), {
      ok: false,
      error: {
        code: 'no_pending_attempt',
        message: 'A pasted code arrived while no sign-in was waiting for it; it was ignored.',
        advice: adviceFor('no_pending_attempt'),
      },
    });
    const signingIn = client.signIn();
    const shown = (await user.report()).shownCode as string;
    const wrong = await client.submitCode('wrong-code');
    assert.equal(wrong.ok ? 'ok' : wrong.error.code, 'invalid_grant');
    assert.deepEqual(await client.submitCode(shown), { ok: true, value: null });
    const result = await signingIn;
    assert.ok(result.ok && result.value.signedIn && result.value.sub === 'bob');
    await client.signOut(false);
    client.dispose();
  });

  test('cancel during the wait: cancelled, nothing stored, and a new attempt can start', async () => {
    const profile = testProfile('desktop-cancel');
    let opened = 0;
    const client = createDesktopClient({
      settings: { issuer: provider.issuer, clientId: provider.publicClientId },
      profile,
      store,
      browser: { open: async () => void opened++ },
    });
    const pending = client.signIn();
    while (opened === 0) await new Promise((r) => setTimeout(r, 20));
    const busy = await client.signIn();
    assert.deepEqual(busy.ok ? null : [busy.error.code, busy.error.message], ['sign_in_in_progress', 'A sign-in is already in progress.']);
    assert.deepEqual(await client.cancelSignIn(), { ok: true, value: null });
    const result = await pending;
    assert.deepEqual(result, {
      ok: false,
      error: { code: 'cancelled', message: 'Sign-in was cancelled; nothing was stored.', advice: 'Sign in again when you are ready.' },
    });
    assert.equal(await store.load(profile), null);
    const again = client.signIn();
    while (opened === 1) await new Promise((r) => setTimeout(r, 20));
    await client.cancelSignIn();
    assert.equal((await again).ok, false);
  });
});

describe('what the setup screen recommends on macOS', () => {
  test('the custom scheme only for the client id the build declares as its scheme; loopback otherwise', async () => {
    const { IDENTITY } = await import('../src/config/identity.js');
    const recommended = async (clientId: string) => {
      const client = createDesktopClient({ settings: { issuer: provider.issuer, clientId }, profile: testProfile('recommend'), store, platform: 'darwin' });
      const view = await client.settings();
      client.dispose();
      return view.ok ? view.value.platformDefault : view.error.code;
    };
    assert.equal(await recommended(IDENTITY.scheme), 'custom-scheme');
    assert.equal(await recommended('another-client'), 'loopback');
  });
});

describe('the app\'s settings file (connect.config.json): damaged, or refused by the disk', () => {
  const damage: Record<string, (path: string) => void> = {
    'truncated JSON': (path) => writeFileSync(path, '{\n  "issuer": "https://connect.exa'),
    'invalid JSON': (path) => writeFileSync(path, '{ issuer: "https://connect.example" }'),
    '10 MB of junk': (path) => writeFileSync(path, Buffer.alloc(10 * 1024 * 1024, 0x7e)),
    'a folder in its place': (path) => mkdirSync(path),
  };
  const bytes = (path: string) => (statSync(path).isDirectory() ? 'folder' : readFileSync(path).toString('base64'));

  for (const [name, make] of Object.entries(damage)) {
    test(`${name}: settings_damaged in the app state, never replaced by a save; start over keeps a backup, then saving works`, async () => {
      const path = join(mkdtempSync(join(tmpdir(), 'connect-app-damaged-')), 'connect.config.json');
      make(path);
      const before = bytes(path);
      // A preset provider too (as `npm start` or identity.json give): it must not stand in for the damaged file.
      const client = createDesktopClient({
        settingsStore: fileSettingsStore(path),
        settings: { issuer: provider.issuer, clientId: provider.publicClientId },
        profile: testProfile('damaged'),
        store,
        platform: 'linux',
        demoIssuer: provider.issuer,
      });
      try {
        for (const result of [await client.state(), await client.settings(), await client.signIn()]) {
          assert.ok(!result.ok, JSON.stringify(result));
          assert.equal(result.error.code, 'settings_damaged');
          assert.equal(result.error.file, path);
          assert.ok(result.error.message.startsWith(`The settings file "${path}" `), result.error.message);
        }
        const input = { issuer: provider.issuer, clientId: provider.publicClientId, redirectKind: 'loopback', scope: 'openid profile' } as const;
        for (const save of [() => client.saveSettings(input), () => client.useDemoProvider()]) {
          const refused = await save();
          assert.ok(!refused.ok && refused.error.code === 'settings_damaged', JSON.stringify(refused));
          assert.equal(bytes(path), before, 'the damaged file is byte for byte as it was');
        }

        const over = await client.startOver();
        assert.ok(over.ok, JSON.stringify(over));
        const backup = over.value.backup as string;
        assert.ok(backup.startsWith(`${path}.damaged-`), backup);
        assert.equal(bytes(backup), before, 'the backup holds the old bytes');
        assert.equal(existsSync(path), false);
        assert.equal(over.value.settings.issuer, provider.issuer, 'the preset applies again');

        const saved = await client.saveSettings(input);
        assert.ok(saved.ok && saved.value.configured, JSON.stringify(saved));
        assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { issuer: provider.issuer, clientId: provider.publicClientId, scope: 'openid profile', redirectUri: 'http://127.0.0.1/connect/oauth2callback' });
        const state = await client.state();
        assert.ok(state.ok && !state.value.signedIn && state.value.clientId === provider.publicClientId);
        assert.equal(bytes(backup), before, 'and the backup is still there');
        const again = await client.startOver();
        assert.ok(again.ok && again.value.backup === null && existsSync(path), 'settings that are fine are never moved aside');
      } finally {
        client.dispose();
      }
    });
  }

  test('settings the disk refuses: settings_not_saved with the file, and nothing else changed (no secret kept in the keychain)', async () => {
    const profile = testProfile('not-saved');
    const path = '/nowhere/connect.config.json';
    const refusing = {
      load: async () => null,
      save: async () => {
        throw new SettingsFileError('settings_not_saved', `The settings could not be saved to "${path}": the disk is full.`, path);
      },
      startOver: async () => null,
    };
    const client = createDesktopClient({ settingsStore: refusing, profile, store, platform: 'linux' });
    try {
      const saved = await client.saveSettings({ issuer: provider.issuer, clientId: 'confidential-app', clientSecret: 'not-kept', redirectKind: 'loopback', scope: 'openid' });
      assert.ok(!saved.ok, JSON.stringify(saved));
      assert.deepEqual([saved.error.code, saved.error.file], ['settings_not_saved', path]);
      assert.equal(await store.loadRegistration(profile), null, 'the secret went nowhere');
      const settings = await client.settings();
      assert.ok(settings.ok && !settings.value.configured, 'still not configured');
    } finally {
      client.dispose();
      await store.removeRegistration(profile).catch(() => {});
    }
  });
});
