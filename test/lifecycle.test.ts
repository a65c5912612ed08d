// The token lifecycle against the real provider (short-lived access tokens), the real Secret
// Service and real processes: refresh once for many callers and across processes, survive kill -9
// mid-refresh, sign out with revocation and single sign-on logout, and a keychain that fails.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { getAccessToken } from '../src/steps/access-token.js';
import type { StoredDpopKey } from '../src/provider/dpop.js';
import { keychainStore } from '../src/secret-store/keychain.js';
import type { StoredSession } from '../src/session/session.js';
import { signIn } from '../src/steps/sign-in.js';
import { signOut } from '../src/steps/sign-out.js';
import { TokenStore } from '../src/session/token-store.js';
import { startTestProvider, type TestProvider } from './provider/provider.js';
import { ROOT, jsonOf, runCli, testProfile } from './support/cli.js';
import { SharedBrowser } from './support/shared-browser.js';
import { userinfoStatus } from './support/token-check.js';

const TTL = 3;
let provider: TestProvider;
let browser: SharedBrowser;
let refreshes = 0;
const store = new TokenStore(keychainStore());
const profiles: string[] = [];

before(async () => {
  provider = await startTestProvider({ accessTokenTtl: TTL });
  provider.provider.on('grant.success', (ctx: { oidc: { params?: { grant_type?: unknown } } }) => {
    if (ctx.oidc.params?.grant_type === 'refresh_token') refreshes++;
  });
  browser = await SharedBrowser.start();
});

after(async () => {
  for (const profile of profiles) await store.remove(profile).catch(() => {});
  await browser.close();
  await provider.close();
});

async function signedInProfile(label: string): Promise<string> {
  const profile = testProfile(label);
  profiles.push(profile);
  await signIn({ settings: { issuer: provider.issuer, clientId: provider.publicClientId }, profile, store, browser: browser.opener(), timeoutMs: 30_000 });
  return profile;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function untilExpired(profile: string): Promise<void> {
  const session = (await store.load(profile)) as StoredSession;
  await sleep(Math.max(0, (session.expiresAt as number) * 1000 - Date.now() + 50));
}

/** Userinfo's status for the token, sent as the client sends it (with a proof from the key when bound). */
async function userinfo(token: string, dpop: StoredDpopKey | undefined): Promise<number> {
  return userinfoStatus(provider.issuer, token, dpop);
}

const keyOf = async (profile: string) => (await store.load(profile))?.dpop;

describe('refresh', () => {
  test('a session kept by version 1 (settings field by field beside the tokens) is read, renewed, and kept as version 2', async () => {
    const profile = await signedInProfile('version-1');
    const { version: _version, settings, ...tokens } = (await store.load(profile)) as StoredSession;
    const raw = keychainStore();
    const account = `profile:${profile}:session`;
    await raw.set(account, JSON.stringify({ version: 1, issuer: settings.issuer, clientId: settings.clientId, redirectUri: settings.redirectUri, dpopMode: 'auto', ...tokens }));
    const status = jsonOf(await runCli(['status', '--profile', profile, '--json']));
    assert.equal(status.status, 'signed_in');
    assert.equal(status.sub, 'alice');
    const token = await runCli(['token', '--profile', profile]);
    assert.equal(token.code, 0, token.stderr);
    await getAccessToken(store, profile, { force: true });
    const kept = JSON.parse((await raw.get(account)) as string) as StoredSession;
    assert.equal(kept.version, 2);
    assert.deepEqual(kept.settings, { issuer: settings.issuer, clientId: settings.clientId, redirectUri: settings.redirectUri, scope: tokens.scope, dpop: 'auto' });
  });

  test('a fresh short-lived token is not renewed on every call; an expired one is, once', async () => {
    const profile = await signedInProfile('refresh');
    const before = refreshes;
    const first = await getAccessToken(store, profile);
    assert.equal(await getAccessToken(store, profile), first);
    assert.equal(refreshes, before, 'a token that lives 3 seconds is not refreshed on every call');
    await untilExpired(profile);
    const second = await getAccessToken(store, profile);
    assert.notEqual(second, first);
    assert.equal(refreshes, before + 1);
    assert.equal(await userinfo(second, await keyOf(profile)), 200);
    const stored = (await store.load(profile)) as StoredSession;
    assert.equal(stored.accessToken, second, 'the new token set is stored');
    assert.equal(stored.sub, 'alice');
  });

  test('100 concurrent callers share exactly one refresh request', async () => {
    const profile = await signedInProfile('concurrent');
    await untilExpired(profile);
    const before = refreshes;
    const tokens = await Promise.all(Array.from({ length: 100 }, () => getAccessToken(store, profile)));
    assert.equal(refreshes - before, 1);
    assert.equal(new Set(tokens).size, 1);
  });

  test('two processes refreshing at once: one refresh, both get the new token, nobody is locked out', async () => {
    const profile = await signedInProfile('two-processes');
    await untilExpired(profile);
    const before = refreshes;
    const [a, b] = await Promise.all([runCli(['token', '--profile', profile]), runCli(['token', '--profile', profile])]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(a.stdout, b.stdout);
    assert.equal(refreshes - before, 1, 'the rotated refresh token was redeemed once');
    assert.equal(await userinfo(a.stdout.trim(), await keyOf(profile)), 200);
    assert.equal(jsonOf(await runCli(['status', '--profile', profile, '--json'])).status, 'signed_in');
  });

  // The keychain writes of a renewal, in order: the check before the refresh token is spent (set:0),
  // the provider's answer stored ahead (its parts from set:1, then the head entry that commits them,
  // then the old parts removed from delete:0), and the checked session. Killed at the check: nothing
  // was spent, still signed in. Killed between the provider's answer and the commit: the rotated
  // refresh token existed only in that process (no client can save it), so the old one stands, spent:
  // cleanly signed out. Killed after the commit: the next start finishes the renewal.
  const outcomes: Record<string, 'signed_in' | 'signed_out'> = { 'set:0': 'signed_in', 'set:1': 'signed_out', head: 'signed_out', 'delete:0': 'signed_in' };
  for (const [point, expected] of Object.entries(outcomes)) {
    test(`kill -9 during a refresh (at keychain ${point}): the next start is ${expected.replace('_', ' ')}, never corrupted`, async () => {
      const profile = await signedInProfile(`kill-${point.replace(':', '')}`);
      const child = spawn(process.execPath, [join(ROOT, 'dist/test/support/refresh-and-die.js'), profile, point], { stdio: 'ignore' });
      const signal = await new Promise((resolve) => child.on('exit', (_code, sig) => resolve(sig)));
      assert.equal(signal, 'SIGKILL', 'the refresh was killed where asked');
      await untilExpired(profile);
      const token = await runCli(['token', '--profile', profile]);
      const status = jsonOf(await runCli(['status', '--profile', profile, '--json']));
      if (token.code === 0) {
        assert.equal(status.status, 'signed_in');
        assert.equal(await userinfo(token.stdout.trim(), await keyOf(profile)), 200);
      } else {
        assert.match(token.stderr, /^error: session_expired: .*you are signed out\. Please sign in again\.$/m);
        assert.equal(status.status, 'signed_out');
      }
      assert.doesNotMatch(token.stderr, /stored_session_invalid/, 'never a corrupted entry');
      assert.equal(status.status, expected);
    });
  }

  test('a renewed ID token about another user is refused, and the profile is signed out', async () => {
    const rogue = await startTestProvider({ subjectOnRefresh: 'mallory' });
    const profile = testProfile('other-subject');
    profiles.push(profile);
    try {
      await signIn({ settings: { issuer: rogue.issuer, clientId: rogue.publicClientId }, profile, store, browser: browser.opener(), timeoutMs: 30_000 });
      const token = await runCli(['token', '--profile', profile]);
      assert.equal(token.code, 0, 'the first access token is still fresh');
      await assert.rejects(getAccessToken(store, profile, { force: true }), (e: { code?: string; message?: string }) => {
        assert.equal(e.code, 'id_token_invalid');
        assert.match(e.message ?? '', /about another user, issuer or client .* was signed out for safety; please sign in again\.$/);
        return true;
      });
      assert.equal(await store.load(profile), null);
    } finally {
      await rogue.close();
    }
  });

  test('a revoked refresh token: the next refresh signs out with "please sign in again"', async () => {
    const profile = await signedInProfile('revoked');
    const session = (await store.load(profile)) as StoredSession;
    const config = await oidc.discovery(new URL(provider.issuer), provider.publicClientId, undefined, oidc.None(), {
      execute: [oidc.allowInsecureRequests],
    });
    await oidc.tokenRevocation(config, session.refreshToken as string, { token_type_hint: 'refresh_token' });
    await untilExpired(profile);
    const token = await runCli(['token', '--profile', profile]);
    assert.equal(token.code, 1);
    assert.equal(token.stdout, '');
    assert.match(token.stderr, /^error: session_expired: The provider no longer accepts the sign-in .* Please sign in again\.$/m);
    assert.equal(jsonOf(await runCli(['status', '--profile', profile, '--json'])).status, 'signed_out');
  });
});

describe('sign out', () => {
  test('logout revokes the refresh and access tokens at the provider', async () => {
    const profile = await signedInProfile('logout');
    const session = (await store.load(profile)) as StoredSession;
    assert.equal(await userinfo(session.accessToken, session.dpop), 200, 'taken before the logout');
    const logout = await runCli(['logout', '--profile', profile, '--json']);
    assert.equal(logout.code, 0);
    assert.deepEqual(jsonOf(logout), {
      status: 'signed_out',
      profile,
      was_signed_in: true,
      revoked: true,
      everywhere: 'not_requested',
      warnings: [],
    });
    assert.ok(session.dpop, 'bound by default (dpop auto)');
    assert.equal(await userinfo(session.accessToken, session.dpop), 401, 'the access token is revoked');
    assert.equal(await store.load(profile), null);
  });

  test('single sign-on logout through the browser: the provider forgets the user too', async () => {
    const profile = await signedInProfile('sso');
    // Signed in at the provider: the next sign-in skips the login page (single sign-on).
    await signIn({ settings: { issuer: provider.issuer, clientId: provider.publicClientId }, profile, store, browser: browser.opener(), timeoutMs: 30_000 });
    assert.deepEqual(await browser.lastVisit(), ['consent']);

    const result = await signOut({ profile, store, everywhere: true, browser: browser.opener(), timeoutMs: 30_000 });
    assert.deepEqual(result, { profile, wasSignedIn: true, revoked: true, everywhere: 'confirmed', warnings: [] });
    assert.deepEqual(await browser.lastVisit(), ['logout']);

    await signIn({ settings: { issuer: provider.issuer, clientId: provider.publicClientId }, profile, store, browser: browser.opener(), timeoutMs: 30_000 });
    assert.deepEqual(await browser.lastVisit(), ['login', 'consent'], 'the provider asks for the login again');
  });

  test('token-based logout (native clients without a post-logout redirect URI): POST with the access token', async () => {
    const profile = testProfile('token-logout');
    await signIn({
      settings: { issuer: provider.issuer, clientId: provider.publicClientId, logoutMethod: 'token' },
      profile,
      store,
      browser: browser.opener(),
      timeoutMs: 30_000,
    });
    const session = (await store.load(profile)) as StoredSession;
    assert.equal(await userinfo(session.accessToken, session.dpop), 200, 'taken before the logout');
    const logout = await runCli(['logout', '--everywhere', '--profile', profile, '--json']);
    assert.equal(logout.code, 0, logout.stderr);
    assert.equal(jsonOf(logout).everywhere, 'token_logout');
    assert.equal(jsonOf(logout).revoked, true);
    assert.equal(await userinfo(session.accessToken, session.dpop), 401);
  });

  test('provider down: local sign-out still succeeds, and says the tokens were not revoked', async () => {
    const down = await startTestProvider({ cacheable: true });
    const profile = testProfile('down');
    await signIn({ settings: { issuer: down.issuer, clientId: down.publicClientId }, profile, store, browser: browser.opener(), timeoutMs: 30_000 });
    await down.close();
    const logout = await runCli(['logout', '--profile', profile]);
    assert.equal(logout.code, 0);
    assert.match(logout.stdout, /Signed out: profile ".*" was forgotten on this computer\./);
    // The provider's document is known from the sign-in (provider-cache.ts): revocation is where it fails.
    assert.match(
      logout.stderr,
      /^warning: The tokens were removed from this computer, but revoking them at the provider failed: Could not reach the provider at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)\.$/m,
    );
    assert.equal(await store.load(profile), null);
  });
});

describe('the vault', () => {
  test('a 16 KB token set is stored and read back whole', async () => {
    const profile = testProfile('16kb');
    profiles.push(profile);
    const big = (n: number) => Array.from({ length: n }, (_, i) => String.fromCharCode(65 + (i % 26))).join('');
    const session: StoredSession = {
      version: 2,
      settings: { issuer: provider.issuer, clientId: provider.publicClientId, redirectUri: 'http://127.0.0.1/connect/oauth2callback', scope: 'openid' },
      scope: 'openid',
      sub: 'alice',
      claims: { sub: 'alice', name: 'Alice Example' },
      accessToken: big(6000),
      tokenType: 'Bearer',
      expiresAt: null,
      refreshToken: big(4000),
      idToken: big(6000),
      obtainedAt: 1,
    };
    assert.ok(JSON.stringify(session).length > 16_000);
    await store.save(profile, session);
    assert.deepEqual(await store.load(profile), session);
  });

  test('status --all lists every signed-in profile, each isolated', async () => {
    const one = await signedInProfile('all-1');
    const two = await signedInProfile('all-2');
    const all = await runCli(['status', '--all', '--json']);
    assert.equal(all.code, 0);
    const listed = (jsonOf(all).profiles as Array<{ profile: string; sub: string }>).map((p) => p.profile);
    assert.ok(listed.includes(one) && listed.includes(two), JSON.stringify(listed));
    await runCli(['logout', '--profile', one]);
    const after = (jsonOf(await runCli(['status', '--all', '--json'])).profiles as Array<{ profile: string }>).map((p) => p.profile);
    assert.ok(!after.includes(one) && after.includes(two));
  });

  test('a hanging keychain: a clear error after the timeout, and the process still exits', async () => {
    const socket = join(mkdtempSync(join(tmpdir(), 'connect-bus-')), 'bus');
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(socket, resolve));
    try {
      const started = Date.now();
      const status = await runCli(['status', '--json'], { DBUS_SESSION_BUS_ADDRESS: `unix:path=${socket}` });
      assert.equal(status.code, 1);
      assert.equal(jsonOf(status).error, 'keychain_unavailable');
      assert.match(String(jsonOf(status).error_description), /did not answer within 5 seconds/);
      // While it waited, the user was told what it waits for (stdout keeps its one JSON line).
      assert.match(status.stderr, /^Waiting for the system keychain: if your system asks whether this program may use it, answer there\.$/m);
      // One timeout, not one per attempt: the call shares the connection attempt started at launch.
      assert.ok(Date.now() - started < 8_000, `${Date.now() - started} ms`);
    } finally {
      silent.close();
    }
  });

  test('a locked keychain: a clear error, nothing written elsewhere, and the tokens are there once it is unlocked', async () => {
    const profile = await signedInProfile('locked');
    const run = promisify(execFile);
    await run('dbus-send', [
      '--session', '--dest=org.freedesktop.secrets', '--print-reply', '/org/freedesktop/secrets',
      'org.freedesktop.Secret.Service.Lock', 'array:objpath:/org/freedesktop/secrets/collection/login',
    ]);
    try {
      const status = await runCli(['status', '--profile', profile, '--json']);
      assert.equal(status.code, 1);
      assert.equal(jsonOf(status).error, 'keychain_unavailable');
      const token = await runCli(['token', '--profile', profile]);
      assert.equal(token.stdout, '');
      assert.match(token.stderr, /^error: keychain_unavailable: .*unlock or start the keychain and try again\.$/m);
    } finally {
      // The user unlocks the keychain (here: the daemon restarted with the password).
      const daemon = spawn('gnome-keyring-daemon', ['--replace', '--unlock', '--components=secrets'], { stdio: ['pipe', 'ignore', 'ignore'] });
      daemon.stdin.end(process.env.CONNECT_TEST_KEYRING_PASSWORD ?? '');
      await new Promise((resolve) => daemon.on('exit', resolve));
      await sleep(500);
    }
    assert.equal(jsonOf(await runCli(['status', '--profile', profile, '--json'])).status, 'signed_in');
  });
});
