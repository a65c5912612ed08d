// Every redirect kind but loopback (cli-login.test.ts) end to end: the real provider, real chromium,
// the real keychain; the user pastes codes, the "OS" hands custom-scheme URLs over.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startSignIn } from '../src/steps/sign-in.js';
import { keychainStore } from '../src/secret-store/keychain.js';
import { TokenStore } from '../src/session/token-store.js';
import type { ConnectError } from '../src/common/errors.js';
import { startTestProvider, type TestProvider } from './provider/provider.js';
import { CLI, browserUser, jsonOf, runCli, startCli, testProfile } from './support/cli.js';
import { launchChromium } from './support/chromium.js';
import { actOnProviderPages } from './support/provider-pages.js';
import { startProxy } from './support/proxy.js';
import { IDENTITY } from '../src/config/identity.js';

let provider: TestProvider;
const profiles: string[] = [];
const store = new TokenStore(keychainStore());

before(async () => {
  provider = await startTestProvider();
});

after(async () => {
  for (const profile of profiles) await store.remove(profile);
  await provider.close();
});

function profileFor(label: string): string {
  const profile = testProfile(label);
  profiles.push(profile);
  return profile;
}

function waitFor(predicate: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (predicate()) resolve();
      else if (Date.now() - start > timeoutMs) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 50);
    };
    tick();
  });
}

describe('urn:ietf:wg:oauth:2.0:oob: the user pastes the code', () => {
  test('CLI: a mistyped code is refused and asked for again; the right one signs in', async () => {
    const profile = profileFor('oob');
    const user = browserUser({ user: 'bob' });
    const cli = startCli(
      ['login', '--issuer', provider.issuer, '--client-id', provider.publicClientId, '--redirect-uri', 'urn:ietf:wg:oauth:2.0:oob', '--profile', profile, '--json'],
      { BROWSER: user.BROWSER },
    );
    let stderr = '';
    cli.child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const page = await user.report();
    assert.equal(page.heading, 'Copy this code into the application');
    assert.ok(page.shownCode);
    await waitFor(() => stderr.includes('Paste the code shown in your browser:\n'), 'the prompt');

    cli.child.stdin.write('not-the-code\n');
    await waitFor(() => /error: invalid_grant: .*\nPaste the code shown in your browser:\n$/.test(stderr), 'the second prompt');
    cli.child.stdin.write(`  code=${page.shownCode}  \n`);
    const result = await cli.done;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(jsonOf(result).sub, 'bob');
    assert.equal(jsonOf(result).redirect_uri, 'urn:ietf:wg:oauth:2.0:oob');
    assert.ok(!result.stderr.includes(page.shownCode), 'the code is never echoed');
  });

  test('CLI: stdin ends without a working code: a clear error, nothing stored', async () => {
    const profile = profileFor('oob-eof');
    const cli = startCli([
      'login', '--issuer', provider.issuer, '--client-id', provider.publicClientId, '--redirect-uri', 'urn:ietf:wg:oauth:2.0:oob', '--profile', profile,
    ]);
    cli.child.stdin.end('garbage with spaces\n');
    const result = await cli.done;
    assert.equal(result.code, 1);
    assert.match(result.stderr, /error: invalid_code: That does not look like a code/);
    assert.match(result.stderr, /^error: cancelled: Standard input ended before a working code was pasted; nothing was stored\.$/m);
    assert.equal(await store.load(profile), null);
  });
});

describe('custom URI scheme: <client-id>://connect/oauth2callback', () => {
  const scheme = `${IDENTITY.scheme}://connect/oauth2callback`;

  test('CLI: the OS hands the URL to "connect-login deliver", and the waiting login completes', async () => {
    const profile = profileFor('scheme');
    const user = browserUser({ user: 'alice', schemeHandler: [process.execPath, CLI, 'deliver', '--profile', profile] });
    const login = await runCli(
      ['login', '--issuer', provider.issuer, '--client-id', provider.publicClientId, '--redirect-uri', scheme, '--profile', profile, '--json'],
      { BROWSER: user.BROWSER },
    );
    assert.equal(login.code, 0, login.stderr);
    assert.equal(jsonOf(login).sub, 'alice');
    assert.equal(jsonOf(login).redirect_uri, scheme);
    assert.match(login.stderr, /the OS must run "connect-login deliver URL --profile /);
  });

  test('CLI: a second login of the same profile while the first waits for the OS: handoff_busy, exit 1; the first still completes', async () => {
    const profile = profileFor('scheme-busy');
    const args = ['login', '--issuer', provider.issuer, '--client-id', provider.publicClientId, '--redirect-uri', scheme, '--profile', profile, '--json'];
    // BROWSER=true: the first login's page is never opened, so it waits for a hand-off.
    const first = startCli(args, {}, { stdin: 'ignore' });
    let stderr = '';
    first.child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitFor(() => stderr.includes('connect-login deliver URL --profile'), 'the first login waiting for the OS');
    const second = await runCli(args);
    assert.equal(second.code, 1, 'not a usage error: nothing is wrong with the command');
    assert.deepEqual(jsonOf(second), {
      status: 'error',
      error: 'handoff_busy',
      error_description: `Another sign-in for profile "${profile}" is already waiting for its browser response; finish or cancel it first.`,
    });
    first.child.kill('SIGINT');
    assert.equal(jsonOf(await first.done).error, 'cancelled');
  });

  test('CLI: deliver with no login waiting is refused', async () => {
    const result = await runCli(['deliver', `${scheme}?code=x&state=y`, '--profile', testProfile('nobody'), '--json']);
    assert.equal(result.code, 1);
    assert.equal(jsonOf(result).error, 'no_pending_attempt');
  });

  test('core API: a forged state is refused while the attempt waits; a replay and a late URL are refused', async () => {
    const profile = profileFor('scheme-core');
    let location: string | undefined;
    const proxy = await startProxy({ onExternalRedirect: (url) => (location = url) });
    const browser = await launchChromium({ args: proxy.args });
    try {
      const attempt = startSignIn({
        settings: { issuer: provider.issuer, clientId: provider.publicClientId, redirectUri: scheme },
        profile,
        store,
        browser: {
          open: async (url) => {
            const page = await browser.newPage();
            await page.goto(url);
            await actOnProviderPages(page, { user: 'alice', password: 'pw', action: 'approve' });
          },
        },
      });
      await waitFor(() => location !== undefined, 'the redirect to the custom scheme');
      const url = new URL(location as string);
      assert.equal(`${url.protocol}//${url.host}${url.pathname}`, scheme);

      const forged = new URL(url.href);
      forged.searchParams.set('state', 'forged');
      await assert.rejects(attempt.deliverRedirect(forged.href), (e: ConnectError) => e.code === 'state_mismatch');
      await assert.rejects(attempt.deliverRedirect('https://evil.example/connect/oauth2callback?code=x'), (e: ConnectError) => e.code === 'invalid_response');

      const first = attempt.deliverRedirect(url.href);
      await assert.rejects(attempt.deliverRedirect(url.href), (e: ConnectError) => e.code === 'redirect_replayed');
      await first;
      assert.equal((await attempt.result).sub, 'alice');
      await assert.rejects(attempt.deliverRedirect(url.href), (e: ConnectError) => e.code === 'no_pending_attempt');
      assert.equal((await store.load(profile))?.sub, 'alice');
    } finally {
      await browser.close();
      proxy.close();
    }
  });
});

describe('loopback, completed: the provider default http://localhost:8081/connect/oauth2callback', () => {
  test('signs in on the fixed port, and a taken port 8081 gets a clear message', async (t) => {
    const { createServer } = await import('node:net');
    const probe = createServer();
    const free = await new Promise<boolean>((resolve) => {
      probe.once('error', () => resolve(false));
      probe.listen(8081, '127.0.0.1', () => resolve(true));
    });
    if (!free) {
      t.skip('port 8081 is in use on this machine by something else');
      return;
    }
    const args = (profile: string) => [
      'login', '--issuer', provider.issuer, '--client-id', provider.publicClientId,
      '--redirect-uri', 'http://localhost:8081/connect/oauth2callback', '--profile', profile, '--json',
    ];
    // Taken (by the probe): refused before the browser opens.
    const taken = await runCli(args(testProfile('8081-taken')), { BROWSER: 'false' });
    assert.equal(taken.code, 1);
    assert.match(String(jsonOf(taken).error_description), /Port 8081 on 127\.0\.0\.1 is already in use by another program/);
    await new Promise((resolve) => probe.close(resolve));

    const profile = profileFor('8081');
    const user = browserUser({ user: 'alice' });
    const login = await runCli(args(profile), { BROWSER: user.BROWSER });
    assert.equal(login.code, 0, login.stderr);
    assert.equal((await user.report()).landedOn, 'http://localhost:8081/connect/oauth2callback');
  });
});
