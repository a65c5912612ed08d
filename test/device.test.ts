// Sign-in on another device (RFC 8628, issue #18): connect-login login --device and the library's
// deviceSignIn, against oidc-provider with the device flow on and off, the code entered by real
// chromium on the provider's pages as a phone would.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { deviceSignIn, type DeviceCode } from '../src/steps/device-sign-in.js';
import { ConnectError } from '../src/common/errors.js';
import { keychainStore } from '../src/secret-store/keychain.js';
import { TokenStore } from '../src/session/token-store.js';
import { startTestProvider, type TestProvider } from './provider/provider.js';
import { jsonOf, profileTracker, runCli, startCli } from './support/cli.js';
import { SharedBrowser } from './support/shared-browser.js';

let provider: TestProvider;
let shortLived: TestProvider;
let without: TestProvider;
let phone: SharedBrowser;
const { profileFor, signOutAll } = profileTracker();

before(async () => {
  provider = await startTestProvider({ deviceFlow: true });
  shortLived = await startTestProvider({ deviceFlow: true, deviceCodeTtl: 2 });
  without = await startTestProvider();
  phone = await SharedBrowser.start();
});

after(async () => {
  await signOutAll();
  await phone.close();
  for (const p of [provider, shortLived, without]) await p.close();
});

/** Start `login --device` and wait for the code it prints. */
async function deviceLogin(p: TestProvider, profile: string) {
  const run = startCli(['login', '--device', '--issuer', p.issuer, '--client-id', p.publicClientId, '--profile', profile, '--json'], {}, { stdin: 'ignore', timeoutMs: 60_000 });
  let stderr = '';
  run.child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  for (let i = 0; i < 200 && !/Waiting for you/.test(stderr); i++) await new Promise((r) => setTimeout(r, 50));
  const userCode = /and enter the code: {2}(\S+)/.exec(stderr)?.[1];
  const complete = /\(or open (\S+), which has the code filled in\)/.exec(stderr)?.[1];
  assert.ok(userCode && complete, stderr);
  return { run, userCode, complete, stderr: () => stderr };
}

describe('sign-in on another device', () => {
  test('login --device prints the page and the code; entered on the other device, the session is stored', async () => {
    const profile = profileFor('device');
    const login = await deviceLogin(provider, profile);
    assert.match(login.stderr(), new RegExp(`open this page on any device \\(a phone will do\\):\\n {2}${provider.issuer.replace(/\./g, '\\.')}/device\\n`));
    assert.equal(new URL(login.complete).searchParams.get('user_code'), login.userCode);
    await phone.opener().open(login.complete);
    const result = await login.run.done;
    assert.equal(result.code, 0, result.stderr);
    assert.equal(jsonOf(result).sub, 'alice');
    const token = await runCli(['token', '--profile', profile]);
    assert.equal(token.code, 0, token.stderr);
    assert.equal(jsonOf(await runCli(['status', '--profile', profile, '--json'])).status, 'signed_in');
  });

  test('refused on the other device: access_denied, nothing stored', async () => {
    const profile = profileFor('device-denied');
    const login = await deviceLogin(provider, profile);
    const page = await phone.page();
    await page.goto(login.complete);
    // "[ Abort ]" on the provider's confirmation page: the user did not start this, or the code does not match.
    // The tab stays open until the provider has answered the click (closing it earlier can cancel the
    // request, and the CLI then waits for a code nobody refused).
    const answered = page.waitForResponse((r) => r.request().method() === 'POST' && r.request().postData()?.includes('abort=') === true);
    await page.click('button[name="abort"]');
    await answered;
    await page.locator('body', { hasText: 'The Sign-in request was interrupted' }).waitFor();
    await page.close();
    const result = await login.run.done;
    assert.equal(result.code, 1);
    assert.equal(jsonOf(result).error, 'access_denied');
    assert.match(String(jsonOf(result).error_description), /refused on the other device; nothing was stored/);
    assert.equal(jsonOf(await runCli(['status', '--profile', profile, '--json'])).status, 'signed_out');
  });

  test('the code expires before anyone enters it: expired_token, nothing stored (library)', async () => {
    const codes: DeviceCode[] = [];
    await assert.rejects(
      deviceSignIn({
        settings: { issuer: shortLived.issuer, clientId: shortLived.publicClientId },
        profile: profileFor('device-expired'),
        store: new TokenStore(keychainStore()),
        onCode: (code) => codes.push(code),
      }),
      (error: ConnectError) => {
        assert.equal(error.code, 'expired_token');
        assert.match(error.message, /expired before it was entered on the other device; nothing was stored/);
        return true;
      },
    );
    assert.equal(codes.length, 1);
    assert.equal(codes[0]?.expiresIn, 2);
  });

  test('cancelled while the provider has not answered yet: cancelled at once, and no code is shown (library)', async () => {
    const { createServer } = await import('node:net');
    const silent = createServer(() => {}); // accepts, never answers
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const controller = new AbortController();
      const codes: DeviceCode[] = [];
      const started = Date.now();
      setTimeout(() => controller.abort(), 300);
      await assert.rejects(
        deviceSignIn({
          settings: { issuer: `http://127.0.0.1:${(silent.address() as { port: number }).port}`, clientId: 'x' },
          profile: profileFor('device-cancel'),
          store: new TokenStore(keychainStore()),
          signal: controller.signal,
          onCode: (code) => codes.push(code),
        }),
        (error: ConnectError) => error.code === 'cancelled',
      );
      assert.ok(Date.now() - started < 3000, `cancelled at once (${Date.now() - started} ms)`);
      assert.deepEqual(codes, []);
    } finally {
      silent.close();
    }
  });

  test('a provider without discovery: the device endpoint from the settings\' endpoints', async () => {
    const doc = (await (await fetch(`${provider.issuer}/.well-known/openid-configuration`)).json()) as Record<string, string>;
    const endpoints = {
      authorization: doc.authorization_endpoint as string,
      token: doc.token_endpoint as string,
      jwks: doc.jwks_uri as string,
      deviceAuthorization: doc.device_authorization_endpoint as string,
    };
    const controller = new AbortController();
    const codes: DeviceCode[] = [];
    await assert.rejects(
      deviceSignIn({
        settings: { issuer: provider.issuer, clientId: provider.publicClientId, endpoints },
        profile: profileFor('device-endpoints'),
        store: new TokenStore(keychainStore()),
        signal: controller.signal,
        onCode: (code) => {
          codes.push(code);
          controller.abort();
        },
      }),
      (error: ConnectError) => error.code === 'cancelled',
    );
    assert.equal(codes[0]?.verificationUri, `${provider.issuer}/device`);
  });

  test('a provider without the device flow: device_flow_unsupported, naming the other ways', async () => {
    const result = await runCli(['login', '--device', '--issuer', without.issuer, '--client-id', without.publicClientId, '--profile', profileFor('device-none'), '--json']);
    assert.equal(result.code, 1);
    assert.equal(jsonOf(result).error, 'device_flow_unsupported');
    assert.match(String(jsonOf(result).error_description), /does not offer sign-in on another device \(no device_authorization_endpoint, in its discovery document or the settings' endpoints\).*oob redirect/);
  });
});
