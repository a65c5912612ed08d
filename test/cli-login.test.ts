// connect-login end to end: the real provider, real chromium as the system browser, the real
// Secret Service. Each test asserts what the user or a script sees: exit code, output, the page
// the browser ends on, and what is (or is not) stored.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestProvider, type TestProvider } from './provider/provider.js';
import { browserUser, jsonOf, runCli, testProfile, profileTracker } from './support/cli.js';

let provider: TestProvider;
const { profileFor, signOutAll } = profileTracker();

before(async () => {
  provider = await startTestProvider();
});

after(async () => {
  await signOutAll();
  await provider.close();
});


function loginArgs(profile: string, extra: string[] = []): string[] {
  return ['login', '--issuer', provider.issuer, '--client-id', provider.publicClientId, '--profile', profile, ...extra];
}

async function userinfoStatus(accessToken: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${provider.issuer}/oauth/userinfo`, { headers: { Authorization: `Bearer ${accessToken}` } });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function assertSignedOut(profile: string): Promise<void> {
  const status = await runCli(['status', '--profile', profile, '--json']);
  assert.equal(status.code, 1);
  assert.deepEqual(jsonOf(status), { status: 'signed_out', profile });
}

describe('connect-login login over loopback', () => {
  test('a public client signs in; status and token work; the token is accepted by userinfo', async () => {
    const profile = profileFor('public');
    const user = browserUser({ user: 'alice' });
    // A script that sends the token itself wants a Bearer token: --dpop off (dpop.test.ts: bound ones).
    const login = await runCli(loginArgs(profile, ['--json', '--dpop', 'off']), { BROWSER: user.BROWSER });
    assert.equal(login.code, 0, login.stderr);
    const signedIn = jsonOf(login);
    assert.equal(signedIn.status, 'signed_in');
    assert.equal(signedIn.issuer, provider.issuer);
    assert.equal(signedIn.sub, 'alice');
    assert.equal(signedIn.redirect_uri, 'http://127.0.0.1/connect/oauth2callback');
    assert.match(String(signedIn.scope), /\bopenid\b/);
    assert.ok(Number(signedIn.expires_at) > Date.now() / 1000 + 3000, 'expires about an hour from now');

    const page = await user.report();
    assert.equal(page.ok, true, page.error);
    assert.match(page.landedOn ?? '', /^http:\/\/127\.0\.0\.1:\d+\/connect\/oauth2callback$/);
    assert.equal(page.heading, 'You are signed in');
    assert.match(page.text ?? '', /Signed in as Alice Example/);

    const status = await runCli(['status', '--profile', profile]);
    assert.equal(status.code, 0);
    assert.match(status.stdout, /is signed in as Alice Example/);
    assert.match(status.stdout, /subject: +alice/);
    assert.match(status.stdout, /access token: expires in/);

    const token = await runCli(['token', '--profile', profile]);
    assert.equal(token.code, 0, token.stderr);
    const accessToken = token.stdout.trim();
    assert.equal(token.stdout, `${accessToken}\n`, 'token prints the token and nothing else');
    assert.ok(!status.stdout.includes(accessToken), 'status never prints the token');
    assert.ok(!login.stdout.includes(accessToken) && !login.stderr.includes(accessToken), 'login never prints the token');
    const userinfo = await userinfoStatus(accessToken);
    assert.equal(userinfo.status, 200);
    assert.equal(userinfo.body.sub, 'alice');
    assert.equal(userinfo.body.email, 'alice@example.com');

    const logout = await runCli(['logout', '--profile', profile]);
    assert.equal(logout.code, 0);
    assert.match(logout.stdout, /Signed out/);
    await assertSignedOut(profile);
  });

  test('a confidential client signs in with HTTP Basic, its secret read from an environment variable', async () => {
    const profile = profileFor('confidential');
    const user = browserUser({ user: 'bob' });
    const login = await runCli(
      [
        'login',
        '--issuer',
        provider.issuer,
        '--client-id',
        provider.confidentialClientId,
        '--client-secret-env',
        'DEMO_SECRET',
        '--profile',
        profile,
        '--json',
      ],
      { BROWSER: user.BROWSER, DEMO_SECRET: provider.confidentialClientSecret },
    );
    assert.equal(login.code, 0, login.stderr);
    assert.equal(jsonOf(login).sub, 'bob');
    assert.ok(!login.stdout.includes(provider.confidentialClientSecret) && !login.stderr.includes(provider.confidentialClientSecret));
    const userinfo = await runCli(['userinfo', '--profile', profile, '--json']);
    assert.equal((jsonOf(userinfo).claims as Record<string, unknown>).sub, 'bob');
  });

  test('a confidential client with the wrong secret fails with invalid_client and stores nothing', async () => {
    const profile = profileFor('bad-secret');
    const user = browserUser();
    const login = await runCli(
      ['login', '--issuer', provider.issuer, '--client-id', provider.confidentialClientId, '--client-secret-env', 'S', '--profile', profile],
      { BROWSER: user.BROWSER, S: 'not-the-secret' },
    );
    assert.equal(login.code, 1);
    assert.match(login.stderr, /^error: invalid_client: The provider did not accept this client/m);
    assert.equal((await user.report()).heading, 'Sign-in did not complete');
    await assertSignedOut(profile);
  });

  test('settings from a --config file, with the profile from CONNECT_PROFILE', async () => {
    const profile = profileFor('config');
    const dir = mkdtempSync(join(tmpdir(), 'connect-config-'));
    const file = join(dir, 'connect.json');
    writeFileSync(file, JSON.stringify({ issuer: provider.issuer, clientId: provider.publicClientId, scope: 'openid profile' }));
    const user = browserUser({ user: 'bob' });
    const login = await runCli(['login', '--config', file, '--json'], { BROWSER: user.BROWSER, CONNECT_PROFILE: profile });
    assert.equal(login.code, 0, login.stderr);
    assert.equal(jsonOf(login).profile, profile);
    assert.equal(jsonOf(login).scope, 'openid profile');
    const status = await runCli(['status', '--json'], { CONNECT_PROFILE: profile });
    assert.equal(jsonOf(status).sub, 'bob');

    writeFileSync(file, JSON.stringify({ issuer: provider.issuer, client_id: 'typo' }));
    const bad = await runCli(['login', '--config', file]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown key "client_id"/);
  });

  test('a provider without discovery: explicit endpoints from the config file', async () => {
    const profile = profileFor('endpoints');
    const file = join(mkdtempSync(join(tmpdir(), 'connect-config-')), 'connect.json');
    const at = (path: string) => `${provider.issuer}${path}`;
    writeFileSync(
      file,
      JSON.stringify({
        issuer: provider.issuer,
        clientId: provider.publicClientId,
        endpoints: { authorization: at('/oauth/authorize'), token: at('/oauth/token'), jwks: at('/oauth/jwks'), userinfo: at('/oauth/userinfo') },
      }),
    );
    const user = browserUser({ user: 'alice' });
    const login = await runCli(['login', '--config', file, '--profile', profile, '--json'], { BROWSER: user.BROWSER });
    assert.equal(login.code, 0, login.stderr);
    assert.equal(jsonOf(login).sub, 'alice');
  });

  test('the user cancels on the provider page: access_denied, the browser says so, nothing stored', async () => {
    const profile = profileFor('denied');
    const user = browserUser({ action: 'deny' });
    const login = await runCli(loginArgs(profile, ['--json']), { BROWSER: user.BROWSER });
    assert.equal(login.code, 1);
    const out = jsonOf(login);
    assert.equal(out.status, 'error');
    assert.equal(out.error, 'access_denied');
    assert.match(String(out.error_description), /cancelled or access was denied/);
    const page = await user.report();
    assert.equal(page.heading, 'Sign-in did not complete');
    assert.match(page.text ?? '', /Error code: access_denied/);
    await assertSignedOut(profile);
  });

  test('a response with the wrong state is set aside: the browser shows a neutral page, login waits on, nothing stored', async () => {
    const profile = profileFor('state');
    const user = browserUser({ tamper: 'state=forged-state' });
    const login = await runCli([...loginArgs(profile), '--timeout', '8'], { BROWSER: user.BROWSER, CONNECT_DEBUG: '1' });
    assert.equal(login.code, 1);
    assert.match(login.stderr, /^debug: sign-in: a response without this attempt's state was set aside \(1 so far\)$/m);
    assert.match(login.stderr, /^error: timeout: /m);
    assert.match((await user.report()).text ?? '', /Nothing to do here/);
    await assertSignedOut(profile);
  });

  test('a response without iss from a provider that promises it is refused: issuer_mismatch', async () => {
    const profile = profileFor('iss');
    const user = browserUser({ tamper: 'drop-iss' });
    const login = await runCli(loginArgs(profile, ['--json']), { BROWSER: user.BROWSER });
    assert.equal(login.code, 1);
    assert.equal(jsonOf(login).error, 'issuer_mismatch');
    assert.match(String(jsonOf(login).error_description), /did not name its issuer/);
    await assertSignedOut(profile);
  });

  test('a response naming another issuer is refused: issuer_mismatch', async () => {
    const profile = profileFor('iss-other');
    const user = browserUser({ tamper: 'iss=https://attacker.example' });
    const login = await runCli(loginArgs(profile, ['--json']), { BROWSER: user.BROWSER });
    assert.equal(login.code, 1);
    assert.equal(jsonOf(login).error, 'issuer_mismatch');
    await assertSignedOut(profile);
  });

  test('nobody finishes in the browser: timeout, and the listener is closed afterwards', async () => {
    const profile = profileFor('timeout');
    const login = await runCli(loginArgs(profile, ['--timeout', '2']), { BROWSER: 'true' });
    assert.equal(login.code, 1);
    assert.match(
      login.stderr,
      /^error: timeout: Sign-in was not completed within 2 seconds; nothing was stored\. Likely causes: the browser shows an error page from the provider \(it does not know this client id or redirect URI: check them; a provider that matches the port of a loopback redirect URI as well, as Glewlwyd does \(RFC 8252 §7\.3 asks it not to\), refuses one with no port: register a fixed port, such as http:\/\/127\.0\.0\.1:8765\/connect\/oauth2callback, and sign in with it\), the browser window was closed, or the sign-in was left unfinished\. To wait longer, pass --timeout SECONDS \(now 2\)\.$/m,
    );
    const port = Number(/127\.0\.0\.1%3A(\d+)/.exec(login.stderr)?.[1]);
    assert.ok(port > 0, 'the authorization URL named the listening port');
    const refused = await fetch(`http://127.0.0.1:${port}/connect/oauth2callback?state=x`).then(
      () => false,
      () => true,
    );
    assert.ok(refused, 'nothing listens on the callback port any more');
    await assertSignedOut(profile);
  });

  test('a fixed redirect port already in use: port_in_use before the browser opens', async () => {
    const profile = profileFor('port');
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const login = await runCli(
        loginArgs(profile, ['--redirect-uri', `http://127.0.0.1:${port}/connect/oauth2callback`, '--json']),
        { BROWSER: 'false' },
      );
      assert.equal(login.code, 1);
      const out = jsonOf(login);
      assert.equal(out.error, 'port_in_use');
      assert.match(String(out.error_description), new RegExp(`Port ${port} on 127\\.0\\.0\\.1 is already in use`));
      assert.doesNotMatch(login.stderr, /Opening your browser/);
    } finally {
      blocker.close();
    }
    await assertSignedOut(profile);
  });

  test('the keychain is unavailable: keychain_unavailable before the browser opens, no plaintext fallback, nothing stored', async () => {
    const profile = profileFor('keychain');
    const opened = join(mkdtempSync(join(tmpdir(), 'connect-browser-')), 'opened');
    const noKeychain = { DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/bus' };
    const login = await runCli(loginArgs(profile), { BROWSER: `touch ${opened}`, ...noKeychain });
    assert.equal(login.code, 1);
    assert.match(login.stderr, /^error: keychain_unavailable: Could not (read from|write to) the Secret Service keyring.*never in a plain file/m);
    assert.doesNotMatch(login.stderr, /Opening your browser/);
    assert.equal(existsSync(opened), false, 'the user was not sent to sign in for nothing');
    const status = await runCli(['status', '--profile', profile, '--json'], noKeychain);
    assert.equal(status.code, 1);
    assert.equal(jsonOf(status).error, 'keychain_unavailable');
    await assertSignedOut(profile);
  });

  test('the provider is down: network_error naming the issuer', async () => {
    const profile = profileFor('down');
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise((resolve) => closed.close(resolve));
    const login = await runCli(['login', '--issuer', `http://127.0.0.1:${port}`, '--client-id', 'x', '--profile', profile, '--json']);
    assert.equal(login.code, 1);
    const out = jsonOf(login);
    assert.equal(out.error, 'network_error');
    assert.match(String(out.error_description), new RegExp(`Could not reach the provider at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)`));
  });
});

describe('connect-login usage', () => {
  test('bad usage exits 2 with a clear message, in text and in JSON', async () => {
    const missing = await runCli(['login', '--client-id', 'x']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^error: usage: login needs --issuer URL/m);

    const unknown = await runCli(['status', '--bogus', '--json']);
    assert.equal(unknown.code, 2);
    assert.equal(jsonOf(unknown).error, 'usage');

    const http = await runCli(['login', '--issuer', 'http://idp.example.com', '--client-id', 'x', '--json']);
    assert.equal(http.code, 2);
    assert.equal(jsonOf(http).error, 'insecure_issuer');

    const https = await runCli(['login', '--issuer', provider.issuer, '--client-id', 'x', '--redirect-uri', 'https://app.example.com/cb']);
    assert.equal(https.code, 2);
    assert.match(https.stderr, /^error: unsupported_redirect_uri: /m);

    const profile = await runCli(['status', '--profile', '../etc']);
    assert.equal(profile.code, 2);
    assert.match(profile.stderr, /profile name "\.\.\/etc" is not valid/);
  });

  test('token for a profile that never signed in: not_signed_in on stderr, nothing on stdout', async () => {
    const token = await runCli(['token', '--profile', testProfile('never')]);
    assert.equal(token.code, 1);
    assert.equal(token.stdout, '');
    assert.match(token.stderr, /^error: not_signed_in: /m);
  });

  test('--help and --version', async () => {
    const help = await runCli(['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Usage: connect-login <command>/);
    const version = await runCli(['--version']);
    assert.match(version.stdout, /^connect-login \d+\.\d+\.\d+\n$/);
  });
});
