// The demo/test provider itself: configured like the reference (endpoint names, PKCE S256 only,
// the oob result pages), so the other tests stand on something that behaves like the real one.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import type { Browser } from 'playwright-core';
import { startTestProvider, type TestProvider } from './provider/provider.js';
import { launchChromium } from './support/chromium.js';
import { actOnProviderPages } from './support/provider-pages.js';

let provider: TestProvider;
let browser: Browser;

before(async () => {
  provider = await startTestProvider({ registration: 'managed', initialAccessToken: 'let-me-register' });
  browser = await launchChromium();
});

after(async () => {
  await browser.close();
  await provider.close();
});

async function configFor(clientId = provider.publicClientId): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(provider.issuer), clientId, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
}

async function authorize(redirectUri: string, extra: Record<string, string> = {}) {
  const config = await configFor();
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid profile',
    state,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    ...extra,
  });
  const page = await browser.newPage();
  await page.goto(url.href);
  await actOnProviderPages(page, { user: 'alice', password: 'pw', action: 'approve' });
  return { config, verifier, state, page };
}

describe('npm run provider', () => {
  test('its port taken: it listens on a free port and says which, instead of failing', async () => {
    const { spawn } = await import('node:child_process');
    const { join } = await import('node:path');
    const { ROOT } = await import('./support/cli.js');
    const main = join(ROOT, 'dist/test/provider/main.js');
    const taken = await startTestProvider();
    const child = spawn(process.execPath, [main, '--port', String(taken.port)], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      for (let i = 0; i < 200 && !/issuer: +http/.test(out); i++) await new Promise((r) => setTimeout(r, 50));
      const port = Number(/listens on port (\d+) instead/.exec(out)?.[1]);
      assert.match(out, new RegExp(`^Port ${taken.port} is taken; the demo provider listens on port \\d+ instead \\(--port PORT picks one\\)\\.$`, 'm'));
      assert.match(out, new RegExp(`issuer: +http://127\\.0\\.0\\.1:${port}$`, 'm'));
      assert.equal((await fetch(`http://127.0.0.1:${port}/.well-known/openid-configuration`)).status, 200);
      assert.doesNotMatch(out, /EADDRINUSE/);
    } finally {
      child.kill();
      await taken.close();
    }
  });
});

describe('demo provider', () => {
  test('discovery names the reference endpoints, S256 only, RFC 9207 iss', async () => {
    const meta = (await configFor()).serverMetadata();
    assert.equal(meta.issuer, provider.issuer);
    for (const [key, path] of [
      ['authorization_endpoint', '/oauth/authorize'],
      ['token_endpoint', '/oauth/token'],
      ['revocation_endpoint', '/oauth/revoke'],
      ['userinfo_endpoint', '/oauth/userinfo'],
      ['end_session_endpoint', '/oauth/logout'],
      ['jwks_uri', '/oauth/jwks'],
      ['registration_endpoint', '/oauth/register'],
    ] as const) {
      assert.equal(meta[key], `${provider.issuer}${path}`, key);
    }
    assert.deepEqual(meta.code_challenge_methods_supported, ['S256']);
    assert.equal(meta.authorization_response_iss_parameter_supported, true);
  });

  test('oob:auto: the page title carries Success state=…&code=…&iss=…, and the code is real', async () => {
    const { config, verifier, state, page } = await authorize('urn:ietf:wg:oauth:2.0:oob:auto');
    const title = await page.title();
    const match = /^Success (.*)$/.exec(title);
    assert.ok(match, title);
    const fields = new URLSearchParams(match[1]);
    assert.deepEqual([...fields.keys()], ['state', 'code', 'iss']);
    assert.equal(fields.get('state'), state);
    assert.equal(fields.get('iss'), provider.issuer);
    assert.match(await page.locator('h1').innerText(), /Signed in/);
    const callback = new URL('urn:ietf:wg:oauth:2.0:oob:auto');
    callback.search = fields.toString();
    const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
    assert.equal(tokens.claims()?.sub, 'alice');
    await page.close();
  });

  test('oob: the page shows the code for the user to copy', async () => {
    const { state, page } = await authorize('urn:ietf:wg:oauth:2.0:oob');
    assert.match(await page.title(), /^Success state=/);
    assert.match(await page.locator('h1').innerText(), /Copy this code/);
    assert.equal(await page.locator('#state').innerText(), state);
    assert.ok((await page.locator('#code').inputValue()).length > 20);
    await page.close();
  });

  test('oob:auto denied: the title says Denied with the state and error', async () => {
    const config = await configFor();
    const state = oidc.randomState();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: 'urn:ietf:wg:oauth:2.0:oob:auto',
      scope: 'openid',
      state,
      code_challenge: await oidc.calculatePKCECodeChallenge(oidc.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    const page = await browser.newPage();
    await page.goto(url.href);
    await actOnProviderPages(page, { user: 'alice', password: 'pw', action: 'deny' });
    const title = await page.title();
    assert.match(title, new RegExp(`^Denied state=${state}&error=access_denied`));
    await page.close();
  });

  test('PKCE is required: a request without a code challenge is refused', async () => {
    const config = await configFor();
    const url = oidc.buildAuthorizationUrl(config, { redirect_uri: 'urn:ietf:wg:oauth:2.0:oob', scope: 'openid', state: 's' });
    const page = await browser.newPage();
    await page.goto(url.href);
    assert.match(await page.title(), /^Denied state=s&error=invalid_request/);
    await page.close();
  });

  test('managed registration needs the initial access token', async () => {
    const body = JSON.stringify({ redirect_uris: ['http://127.0.0.1/cb'], application_type: 'native', token_endpoint_auth_method: 'none' });
    const headers = { 'Content-Type': 'application/json' };
    const refused = await fetch(`${provider.issuer}/oauth/register`, { method: 'POST', headers, body });
    assert.equal(refused.status, 401);
    const accepted = await fetch(`${provider.issuer}/oauth/register`, {
      method: 'POST',
      headers: { ...headers, Authorization: 'Bearer let-me-register' },
      body,
    });
    assert.equal(accepted.status, 201);
    assert.ok(((await accepted.json()) as { client_id?: string }).client_id);
  });
});
