// Messages that name what was found (issue #18): an https issuer that is really a plain-http server is
// not a "TLS certificate not trusted", and a discovery document for another issuer names the issuer
// it declares, since the fix is to use one or the other.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestProvider, type TestProvider } from './provider/provider.js';
import { jsonOf, profileTracker, runCli } from './support/cli.js';

let provider: TestProvider;
const { profileFor } = profileTracker();

before(async () => {
  provider = await startTestProvider();
});

after(async () => {
  await provider.close();
});

describe('messages that name what was found', () => {
  test('https:// against a plain-http server: "does not speak https", not a certificate problem', async () => {
    const issuer = provider.issuer.replace('http://', 'https://');
    const login = await runCli(['login', '--issuer', issuer, '--client-id', provider.publicClientId, '--profile', profileFor('tls'), '--json']);
    assert.equal(login.code, 1);
    const out = jsonOf(login);
    assert.equal(out.error, 'network_error');
    assert.match(String(out.error_description), /^The server at https:\/\/127\.0\.0\.1:\d+ does not speak https \(TLS\) \(ERR_SSL_WRONG_VERSION_NUMBER\); it may be a plain http server: check the issuer URL\.$/);
    assert.doesNotMatch(String(out.error_description), /certificate/);
  });

  test('a discovery document for another issuer names the issuer it declares', async () => {
    const configured = provider.issuer.replace('127.0.0.1', 'localhost');
    const login = await runCli(['login', '--issuer', configured, '--client-id', provider.publicClientId, '--profile', profileFor('iss'), '--json']);
    assert.equal(login.code, 1);
    const out = jsonOf(login);
    assert.equal(out.error, 'discovery_failed');
    assert.equal(
      out.error_description,
      `The provider's discovery document declares the issuer "${provider.issuer}", not "${configured}" as configured; ` +
        'if that is the provider you mean, use its issuer exactly as declared (the document is not used otherwise).',
    );
  });
});
