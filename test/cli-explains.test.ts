// connect-login around the sign-in (issue #18): a URL for a browser elsewhere (--no-browser), signing
// a profile in again with the settings it last used, userinfo that prints what the endpoint said, and
// status --all listing registered profiles that are not signed in.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { keychainStore } from '../src/secret-store/keychain.js';
import { startTestProvider, type TestProvider } from './provider/provider.js';
import { browserUser, jsonOf, profileTracker, runCli, startCli } from './support/cli.js';
import { SharedBrowser } from './support/shared-browser.js';

let provider: TestProvider;
let browser: SharedBrowser;
const { profileFor, signOutAll } = profileTracker();

before(async () => {
  provider = await startTestProvider({ registration: 'open' });
  browser = await SharedBrowser.start();
});

after(async () => {
  await signOutAll();
  await browser.close();
  await provider.close();
});

const login = (profile: string, extra: string[] = []) => ['login', '--issuer', provider.issuer, '--client-id', provider.publicClientId, '--profile', profile, ...extra];

describe('connect-login around the sign-in', () => {
  test('login --no-browser starts no browser, prints the URL, and a browser elsewhere completes the sign-in', async () => {
    const profile = profileFor('no-browser');
    const marker = join(mkdtempSync(join(tmpdir(), 'connect-browser-')), 'opened');
    const run = startCli([...login(profile), '--no-browser', '--json'], { BROWSER: `touch ${marker}` }, { stdin: 'ignore' });
    let stderr = '';
    run.child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    for (let i = 0; i < 200 && !/visit|browser to sign in/.test(stderr); i++) await new Promise((r) => setTimeout(r, 50));
    const url = /none was started: --no-browser\):\n {2}(\S+)/.exec(stderr)?.[1];
    assert.ok(url, stderr);
    await browser.opener().open(url);
    const result = await run.done;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(jsonOf(result).sub, 'alice');
    assert.equal(existsSync(marker), false, 'no browser was started');
  });

  test('no display and no $BROWSER: login says no browser can start here, and names --device and the oob paste redirect', async () => {
    const run = await runCli([...login(profileFor('headless')), '--timeout', '2'], { DISPLAY: '', WAYLAND_DISPLAY: '', BROWSER: '' });
    assert.equal(run.code, 1);
    assert.match(
      run.stderr,
      /^No display was found, so no browser can start here\. Open this URL in a browser elsewhere:\n {2}http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\S+\nor sign in on another device \(login --device\), or paste the code \(--redirect-uri urn:ietf:wg:oauth:2\.0:oob\)\.$/m,
    );
    assert.doesNotMatch(run.stderr, /Opening your browser/);
  });

  test('login --profile NAME with no other flags signs that profile in again with the settings it last used', async () => {
    const profile = profileFor('again');
    const first = await runCli([...login(profile), '--scope', 'openid email', '--json'], { BROWSER: browserUser().BROWSER });
    assert.equal(first.code, 0, first.stderr);
    const again = await runCli(['login', '--profile', profile, '--json'], { BROWSER: browserUser().BROWSER });
    assert.equal(again.code, 0, again.stderr);
    const out = jsonOf(again);
    assert.equal(out.issuer, provider.issuer);
    assert.equal(out.scope, 'openid email', 'the scope it last used');
    const text = await runCli(['login', '--profile', profile], { BROWSER: browserUser().BROWSER });
    assert.match(text.stderr, new RegExp(`^Signing in again to ${provider.issuer.replace(/\./g, '\\.')} as client "${provider.publicClientId}"`, 'm'));

    // --client-id given without --issuer takes the place of the one last used.
    const other = await runCli(['login', '--profile', profile, '--client-id', 'someone-else', '--timeout', '1'], { BROWSER: 'true' });
    assert.equal(other.code, 1);
    assert.match(other.stderr, /as client "someone-else"/);
    assert.match(other.stderr, /visit:\n {2}\S+[?&]client_id=someone-else[&\s]/, 'the flag is what the request carries');

    // A damaged saved session is said as such, not as a missing --issuer.
    const damaged = profileFor('damaged');
    await keychainStore().set(`profile:${damaged}:session`, 'not a session');
    const broken = await runCli(['login', '--profile', damaged, '--json']);
    assert.equal(broken.code, 1);
    assert.equal(jsonOf(broken).error, 'stored_session_invalid');

    const never = await runCli(['login', '--profile', profileFor('never'), '--json']);
    assert.equal(never.code, 2);
    assert.match(String(jsonOf(never).error_description), /or a profile that was signed in before/);
  });

  test('logout --post-logout-redirect-uri: a bad one is a usage error that signs nothing out; it needs --everywhere', async () => {
    const profile = profileFor('post-logout');
    assert.equal((await runCli([...login(profile), '--json'], { BROWSER: browserUser().BROWSER })).code, 0);
    for (const [args, message] of [
      [['--everywhere', '--post-logout-redirect-uri', 'https://example.com/bye'], /The post-logout redirect URI "https:\/\/example\.com\/bye" must be a loopback URI/],
      [['--post-logout-redirect-uri', 'http://127.0.0.1:8766/connect/logout'], /is where logout --everywhere comes back: add --everywhere/],
    ] as const) {
      const bad = await runCli(['logout', '--profile', profile, '--json', ...args]);
      assert.equal(bad.code, 2);
      assert.match(String(jsonOf(bad).error_description), message);
      assert.equal(jsonOf(await runCli(['status', '--profile', profile, '--json'])).status, 'signed_in', 'nothing was signed out');
    }
    const badLogin = await runCli([...login(profileFor('post-logout-login')), '--post-logout-redirect-uri', 'urn:ietf:wg:oauth:2.0:oob', '--json']);
    assert.equal(badLogin.code, 2);
    assert.match(String(jsonOf(badLogin).error_description), /must be a loopback URI/);
  });

  test('userinfo prints what the userinfo endpoint answered, not the ID token\'s claims', async () => {
    const profile = profileFor('userinfo');
    assert.equal((await runCli([...login(profile), '--json'], { BROWSER: browserUser().BROWSER })).code, 0);
    const result = await runCli(['userinfo', '--profile', profile, '--json']);
    assert.equal(result.code, 0, result.stderr);
    const claims = jsonOf(result).claims as Record<string, unknown>;
    assert.equal(claims.sub, 'alice');
    assert.equal(claims.email, 'alice@example.com');
    for (const idTokenOnly of ['nonce', 'aud', 'exp', 'iat', 'iss', 'at_hash', 'auth_time']) assert.equal(claims[idTokenOnly], undefined, idTokenOnly);
  });

  test('the provider does not answer before the timeout: no browser was opened, and the message says so', async () => {
    const { createServer } = await import('node:net');
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const issuer = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
      const run = await runCli(['login', '--issuer', issuer, '--client-id', 'x', '--profile', profileFor('silent'), '--timeout', '1', '--request-timeout', '3']);
      assert.equal(run.code, 1);
      assert.match(run.stderr, /^error: timeout: Sign-in was not completed within 1 seconds; nothing was stored\. No browser was opened: the provider or the keychain did not answer in time\./m);
      assert.doesNotMatch(run.stderr, /Opening your browser/);
    } finally {
      silent.close();
    }
  });

  test('status --all lists registered profiles that are not signed in', async () => {
    const profile = profileFor('registered');
    const register = await runCli(['register', '--issuer', provider.issuer, '--profile', profile, '--json']);
    assert.equal(register.code, 0, register.stderr);
    const all = jsonOf(await runCli(['status', '--all', '--json']));
    // "profiles" keeps its meaning (signed-in sessions only); registered clients come beside it.
    assert.ok((all.profiles as Array<Record<string, unknown>>).every((p) => p.status === 'signed_in'));
    const entry = (all.registered as Array<Record<string, unknown>>).find((p) => p.profile === profile);
    assert.deepEqual(entry && { status: entry.status, issuer: entry.issuer }, { status: 'signed_out', issuer: provider.issuer });
    const text = await runCli(['status', '--all']);
    assert.match(text.stdout, new RegExp(`Profile "${profile}" is not signed in \\(client ".*" registered at `));
    await runCli(['registration', 'delete', '--profile', profile]);
  });
});
