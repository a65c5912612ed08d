// Pushed authorization requests (RFC 9126), issue #18 "know before the browser opens": where the
// provider offers PAR, the request is pushed first, so a wrong client id or an unknown redirect URI
// is a clear error at once, before any browser opens, and the browser's URL carries only client_id
// and request_uri. Through connect-login and the library, against oidc-provider offering and
// requiring PAR.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ProviderError } from '../src/common/errors.js';
import { keychainStore } from '../src/secret-store/keychain.js';
import { startSignIn } from '../src/steps/sign-in.js';
import { TokenStore } from '../src/session/token-store.js';
import { startTestProvider, type TestProvider } from './provider/provider.js';
import { browserUser, jsonOf, profileTracker, runCli } from './support/cli.js';
import { startAdversary } from './support/adversary.js';
import { SharedBrowser } from './support/shared-browser.js';

let offered: TestProvider;
let required: TestProvider;
let phone: SharedBrowser;
const { profileFor, signOutAll } = profileTracker();

before(async () => {
  offered = await startTestProvider({ par: 'on' });
  required = await startTestProvider({ par: 'required' });
  phone = await SharedBrowser.start();
});

after(async () => {
  await signOutAll();
  await phone.close();
  await offered.close();
  await required.close();
});

/** The URL the CLI printed for the browser. */
function browserUrl(stderr: string): URL {
  const line = /visit:\n {2}(\S+)/.exec(stderr)?.[1];
  assert.ok(line, `the CLI printed the URL: ${stderr}`);
  return new URL(line);
}

const neverOpened = () => {
  const marker = join(mkdtempSync(join(tmpdir(), 'connect-browser-')), 'opened');
  return { BROWSER: `touch ${marker}`, opened: () => existsSync(marker) };
};

describe('pushed authorization requests', () => {
  for (const [label, provider] of [
    ['offered', () => offered],
    ['required', () => required],
  ] as const) {
    test(`PAR ${label}: the request is pushed, the browser gets only client_id and request_uri, and the sign-in completes`, async () => {
      const p = provider();
      const profile = profileFor(`par-${label}`);
      const user = browserUser();
      const login = await runCli(['login', '--issuer', p.issuer, '--client-id', p.publicClientId, '--profile', profile, '--json'], {
        BROWSER: user.BROWSER,
        CONNECT_DEBUG: '1',
      });
      assert.equal(login.code, 0, login.stderr);
      assert.equal(jsonOf(login).sub, 'alice');
      assert.match(login.stderr, /debug: authorization: the request was pushed to .*\/request and accepted/);
      // The URL printed for a person to open by hand, maybe later: a pushed reference works once and
      // for a minute, so it is the whole request unless the provider takes pushed requests only.
      const printed = [...browserUrl(login.stderr).searchParams.keys()].sort();
      if (label === 'required') assert.deepEqual(printed, ['client_id', 'request_uri']);
      else assert.ok(printed.includes('code_challenge') && !printed.includes('request_uri'), printed.join());
    });
  }

  test('explicit endpoints that require pushed requests but name no endpoint for them: refused as settings', async () => {
    const opened: string[] = [];
    assert.throws(
      () =>
        startSignIn({
          settings: {
            issuer: required.issuer,
            clientId: required.publicClientId,
            endpoints: { authorization: `${required.issuer}/oauth/authorize`, token: `${required.issuer}/oauth/token`, jwks: `${required.issuer}/oauth/jwks`, requirePushedAuthorization: true },
          },
          profile: profileFor('par-endpoints'),
          store: new TokenStore(keychainStore()),
          browser: { open: async (url) => void opened.push(url) },
        }),
      (error: ProviderError) => error.code === 'invalid_settings' && /require pushed authorization requests but name no pushedAuthorization endpoint/.test(error.message),
    );
    assert.deepEqual(opened, []);
  });

  test('"Open the browser again" pushes the request again (a pushed reference works once); the new one signs in', async () => {
    const opened: string[] = [];
    const attempt = startSignIn({
      settings: { issuer: required.issuer, clientId: required.publicClientId },
      profile: profileFor('par-again'),
      store: new TokenStore(keychainStore()),
      browser: { open: async (url) => void opened.push(url) },
      timeoutMs: 30_000,
    });
    for (let i = 0; i < 100 && !opened.length; i++) await new Promise((r) => setTimeout(r, 50));
    await attempt.reopenBrowser();
    assert.equal(opened.length, 2);
    const [first, second] = opened.map((u) => new URL(u).searchParams.get('request_uri'));
    assert.ok(first && second && first !== second, 'a fresh reference');
    await phone.opener().open(opened[1] as string);
    assert.equal((await attempt.result).sub, 'alice');
  });

  test('a wrong client id: refused at once, before the browser opens, with the provider\'s reason', async () => {
    const browser = neverOpened();
    const started = Date.now();
    const login = await runCli(['login', '--issuer', offered.issuer, '--client-id', 'nobody-registered-me', '--profile', profileFor('par-client'), '--json'], {
      BROWSER: browser.BROWSER,
    });
    assert.equal(login.code, 1);
    const out = jsonOf(login);
    assert.equal(out.error, 'invalid_client');
    assert.match(String(out.error_description), /^The provider refused the sign-in request before the browser opened: the provider did not accept this client/);
    assert.equal(browser.opened(), false);
    assert.ok(Date.now() - started < 10_000, 'no waiting for a timeout');
  });

  test('a redirect URI the provider does not know: refused before the browser opens (library)', async () => {
    const opened: string[] = [];
    const attempt = startSignIn({
      settings: { issuer: offered.issuer, clientId: offered.publicClientId, redirectUri: 'http://127.0.0.1/not/registered' },
      profile: profileFor('par-redirect'),
      store: new TokenStore(keychainStore()),
      browser: { open: async (url) => void opened.push(url) },
      timeoutMs: 30_000,
    });
    await assert.rejects(attempt.result, (error: ProviderError) => {
      assert.ok(error instanceof ProviderError, String(error));
      assert.match(error.code, /^invalid_(redirect_uri|request)$/);
      assert.match(error.message, /before the browser opened/);
      assert.match(error.description ?? '', /redirect_uri/);
      return true;
    });
    assert.deepEqual(opened, []);
  });

  test('with PAR, a timeout no longer blames the client id or redirect URI (they were checked)', async () => {
    const login = await runCli(['login', '--issuer', offered.issuer, '--client-id', offered.publicClientId, '--profile', profileFor('par-timeout'), '--timeout', '2'], {
      BROWSER: 'true',
    });
    assert.equal(login.code, 1);
    assert.match(
      login.stderr,
      /^error: timeout: Sign-in was not completed within 2 seconds; nothing was stored\. Likely causes: the browser window was closed, the sign-in was left unfinished, or the sign-in link was opened too late \(it works once, for a short while\)\. To wait longer, pass --timeout SECONDS \(now 2\)\.$/m,
    );
  });

  test('a push refused with an empty 403 (as Glewlwyd refuses an unregistered redirect URI): invalid_request, naming the URI, before any browser', async () => {
    const adversary = await startAdversary({ par: 'on' });
    try {
      // The push is the first request after discovery that is none of the known endpoints.
      adversary.tamper = { fault: (e) => (e === 'other' ? { status: 403 } : undefined) };
      for (const [redirectUri, hint] of [
        [undefined, true],
        ['http://127.0.0.1:8765/connect/oauth2callback', false],
      ] as const) {
        const opened: string[] = [];
        const attempt = startSignIn({
          settings: { issuer: adversary.issuer, clientId: adversary.provider.publicClientId, ...(redirectUri ? { redirectUri } : {}) },
          profile: profileFor('par-403'),
          store: new TokenStore(keychainStore()),
          browser: { open: async (url) => void opened.push(url) },
          timeoutMs: 30_000,
        });
        await assert.rejects(attempt.result, (e: ProviderError) => {
          assert.equal(e.code, 'invalid_request');
          const uri = (redirectUri ?? 'http://127.0.0.1/connect/oauth2callback').replace(/[./]/g, '\\$&');
          assert.match(e.message, new RegExp(`^The provider refused the sign-in request before the browser opened \\(HTTP 403 with no explanation, at http://127\\.0\\.0\\.1:\\d+/request\\)\\. Check the client id, and that the redirect URI "${uri}" is registered exactly`));
          assert.equal(/as Glewlwyd does \(RFC 8252 §7\.3 asks it not to\), refuses one with no port/.test(e.message), hint);
          return true;
        });
        assert.deepEqual(opened, [], 'no browser was opened');
      }
    } finally {
      await adversary.close();
    }
  });
});
