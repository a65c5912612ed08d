// Client registration: the details model and its rules, WebFinger, and dynamic registration
// (RFC 7591/7592) against the demo provider's open and managed instances, through the CLI.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ConnectError } from '../src/common/errors.js';
import { DetailsError, clientMetadata, registrationRequest, validateDetails } from '../src/registration/details.js';
import { registerClient } from '../src/registration/dynamic.js';
import { webFingerIssuer, webFingerTarget } from '../src/registration/webfinger.js';
import { startTestProvider, type TestProvider } from './provider/provider.js';
import { browserUser, jsonOf, runCli, testProfile } from './support/cli.js';

const FULL = {
  organization: 'Example AS',
  product: 'Example Desktop',
  displayName: 'Example for Windows',
  description: 'Signs people in to Example from their desktop.',
  contactEmail: 'dev@example.com',
  technology: 'windows-desktop',
};

function problems(input: unknown, purpose: 'manual' | 'dynamic' = 'manual'): string[] {
  try {
    validateDetails(input, { purpose });
  } catch (error) {
    assert.ok(error instanceof DetailsError, String(error));
    return error.problems.map((p) => `${p.field}: ${p.message}`);
  }
  return [];
}

describe('registration details (the provider\'s list)', () => {
  test('a complete native client: defaults per technology and the standard metadata', () => {
    const { details, warnings } = validateDetails(FULL, { purpose: 'manual' });
    assert.deepEqual(warnings, []);
    assert.equal(details.applicationType, 'native');
    assert.equal(details.clientType, 'public');
    assert.deepEqual(details.redirectUris, ['urn:ietf:wg:oauth:2.0:oob', 'urn:ietf:wg:oauth:2.0:oob:auto']);
    assert.deepEqual(clientMetadata(details), {
      client_name: 'Example for Windows',
      redirect_uris: ['urn:ietf:wg:oauth:2.0:oob', 'urn:ietf:wg:oauth:2.0:oob:auto'],
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      scope: 'openid profile email offline_access',
      client_confidential: false,
      contacts: ['dev@example.com'],
      connect_organization: 'Example AS',
      connect_product: 'Example Desktop',
      connect_description: 'Signs people in to Example from their desktop.',
      connect_technology: 'windows-desktop',
      connect_sso: false,
    });
  });

  test('every rule names its field', () => {
    assert.deepEqual(problems({}), [
      'organization: is required by the provider',
      'product: is required by the provider',
      'displayName: is required by the provider',
      'description: is required by the provider',
      'contactEmail: is required by the provider',
      'technology: is required: one of windows-desktop, mac, linux-desktop, ios, android, windows-phone, web',
      'redirectUris: at least one redirect URI is required',
    ]);
    assert.deepEqual(problems({ ...FULL, contactEmail: 'not-an-address' }), ['contactEmail: "not-an-address" is not an e-mail address']);
    assert.deepEqual(problems({ ...FULL, technology: 'amiga' }), [
      'technology: "amiga" is not one of windows-desktop, mac, linux-desktop, ios, android, windows-phone, web',
      'redirectUris: at least one redirect URI is required',
    ]);
    assert.deepEqual(problems({ ...FULL, applicationType: 'web' }), [
      'applicationType: "web" does not fit technology "windows-desktop" (expected "native")',
    ]);
    assert.match(problems({ ...FULL, redirectUris: ['https://app.example.com/cb'] })[0] ?? '', /^redirectUris: .*for a native client it must use http with localhost/);
    assert.deepEqual(problems({ ...FULL, technology: 'web', sso: true, redirectUris: ['https://app.example.com/cb'] }), [
      'postLogoutRedirectUris: single sign-on on a web client needs a post-logout redirect URI',
    ]);
    assert.deepEqual(problems({ ...FULL, backchannelLogoutUri: 'http://app.example.com/bc' }), ['backchannelLogoutUri: "http://app.example.com/bc" must be an https URL']);
    assert.deepEqual(problems({ ...FULL, scopes: ['profile', 'two words'] }), ['scopes: "two words" is not a scope value (one word each)', 'scopes: must include "openid"']);
    assert.deepEqual(problems({ ...FULL, colour: 'blue' }), [`colour: is not a known field (known: organization, product, displayName, description, contactEmail, technology, applicationType, clientType, scopes, redirectUris, sso, postLogoutRedirectUris, backchannelLogoutUri, logoUri, policyUri, tosUri)`]);
    assert.deepEqual(problems({ ...FULL, sso: 'yes' }), ['sso: must be a boolean']);
    assert.match(problems({ ...FULL, technology: 'mac' }, 'dynamic')[0] ?? '', /^redirectUris: the default "<client-id>:\/\/connect\/oauth2callback" needs the client id/);
  });

  test('a confidential native client is a warning; manual requests keep the <client-id> default', () => {
    const { details, warnings } = validateDetails({ ...FULL, technology: 'mac', clientType: 'confidential' }, { purpose: 'manual' });
    assert.match(warnings[0] ?? '', /native application cannot keep a secret/);
    assert.equal(clientMetadata(details).token_endpoint_auth_method, 'client_secret_basic');
    const { markdown, json } = registrationRequest(details);
    assert.match(markdown, /\| Redirect URIs \| <client-id>:\/\/connect\/oauth2callback \|/);
    assert.match(markdown, /\| OAuth client type \| Confidential \|/);
    assert.equal(JSON.parse(json).metadata.client_name, 'Example for Windows');
  });
});

describe('WebFinger issuer discovery', () => {
  let server: Server;
  let origin: string;
  let answer: (res: import('node:http').ServerResponse) => void = () => {};

  before(async () => {
    server = createServer((_req, res) => answer(res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  const jrd = (href: unknown, type = 'application/jrd+json') => (res: import('node:http').ServerResponse) => {
    res.writeHead(200, { 'Content-Type': type });
    res.end(JSON.stringify({ links: [{ rel: 'http://openid.net/specs/connect/1.0/issuer', href }] }));
  };

  test('targets: e-mail, acct:, URL; https except on loopback', () => {
    assert.deepEqual(webFingerTarget('joe@example.com'), { resource: 'acct:joe@example.com', origin: 'https://example.com' });
    assert.deepEqual(webFingerTarget('acct:joe@localhost:8080'), { resource: 'acct:joe@localhost:8080', origin: 'http://localhost:8080' });
    assert.deepEqual(webFingerTarget('https://example.com/joe'), { resource: 'https://example.com/joe', origin: 'https://example.com' });
    assert.deepEqual(webFingerTarget('example.com'), { resource: 'https://example.com/', origin: 'https://example.com' });
  });

  test('strict answers: JRD content type, an https (or loopback) issuer, a size limit', async () => {
    const reason = async () => {
      try {
        await webFingerIssuer(`joe@${origin}`, { timeoutMs: 1000 });
        return 'accepted';
      } catch (error) {
        return `${(error as ConnectError).code}: ${(error as Error).message}`;
      }
    };
    answer = jrd('https://idp.example.com');
    assert.equal(await webFingerIssuer(`joe@${origin}`), 'https://idp.example.com');
    answer = jrd('https://idp.example.com', 'application/json');
    assert.match(await reason(), /^discovery_failed: .*"application\/json", not application\/jrd\+json/);
    answer = jrd('http://idp.example.com');
    assert.match(await reason(), /is not an https URL/);
    answer = jrd('https://idp.example.com/?x=1');
    assert.match(await reason(), /has a query or fragment/);
    answer = jrd(42);
    assert.match(await reason(), /no issuer link/);
    answer = (res) => {
      res.writeHead(200, { 'Content-Type': 'application/jrd+json' });
      res.end('x'.repeat(100_000));
    };
    assert.match(await reason(), /larger than 65536 bytes/);
    answer = (res) => {
      res.writeHead(404);
      res.end();
    };
    assert.match(await reason(), /answered HTTP 404/);
    answer = () => {};
    assert.match(await reason(), /^network_error: WebFinger at .* did not answer within/);
  });
});

describe('dynamic registration', () => {
  let open: TestProvider;
  let managed: TestProvider;
  const profiles: string[] = [];

  before(async () => {
    open = await startTestProvider({ registration: 'open' });
    managed = await startTestProvider({ registration: 'managed', initialAccessToken: 'let-me-in' });
  });
  after(async () => {
    for (const profile of profiles) await runCli(['logout', '--profile', profile]);
    await open.close();
    await managed.close();
  });

  test('discover → register → login → registration show/update/delete, all through the CLI', async () => {
    const profile = testProfile('register');
    profiles.push(profile);
    const host = new URL(open.issuer).host;
    const discovered = await runCli(['discover', `alice@${host}`, '--json']);
    assert.equal(discovered.code, 0, discovered.stderr);
    assert.equal(jsonOf(discovered).issuer, open.issuer);
    assert.equal(jsonOf(discovered).webfinger, true);
    assert.equal(jsonOf(discovered).registration_endpoint, `${open.issuer}/oauth/register`);

    const registered = await runCli(['register', '--issuer', String(jsonOf(discovered).issuer), '--profile', profile, '--json']);
    assert.equal(registered.code, 0, registered.stderr);
    const out = jsonOf(registered);
    assert.equal(out.status, 'registered');
    assert.equal(typeof out.client_id, 'string');
    assert.deepEqual(out.redirect_uris, ['http://127.0.0.1/connect/oauth2callback']);
    assert.ok(!registered.stdout.includes('registration_access_token') && !/secret"\s*:\s*"/.test(registered.stdout));

    const again = await runCli(['register', '--issuer', open.issuer, '--profile', profile]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already has a registered client/);

    // login needs no other flags now.
    const user = browserUser({ user: 'alice' });
    const login = await runCli(['login', '--profile', profile, '--json'], { BROWSER: user.BROWSER });
    assert.equal(login.code, 0, login.stderr);
    assert.equal(jsonOf(login).client_id, out.client_id);
    assert.equal(jsonOf(login).sub, 'alice');

    const shown = await runCli(['registration', 'show', '--profile', profile]);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, new RegExp(`client id: +${String(out.client_id)}`));

    const details = join(mkdtempSync(join(tmpdir(), 'connect-details-')), 'details.json');
    writeFileSync(details, JSON.stringify({ displayName: 'Renamed app', technology: 'linux-desktop', redirectUris: ['http://127.0.0.1/connect/oauth2callback', 'http://localhost:8081/connect/oauth2callback'] }));
    const updated = await runCli(['registration', 'update', '--details', details, '--profile', profile, '--json']);
    assert.equal(updated.code, 0, updated.stdout + updated.stderr);
    assert.deepEqual(jsonOf(updated).redirect_uris, ['http://127.0.0.1/connect/oauth2callback', 'http://localhost:8081/connect/oauth2callback']);

    const deleted = await runCli(['registration', 'delete', '--profile', profile, '--json']);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(jsonOf(deleted).status, 'deleted');
    const read = await fetch(`${open.issuer}/oauth/register/${String(out.client_id)}`, { headers: { Authorization: 'Bearer x' } });
    assert.equal(read.status, 401, 'the client is gone at the provider');
    const status = await runCli(['status', '--profile', profile, '--json']);
    assert.equal(jsonOf(status).status, 'signed_out');
  });

  test('managed registration: refused without the initial access token, accepted with it', async () => {
    const refused = await runCli(['register', '--issuer', managed.issuer, '--profile', testProfile('managed-no'), '--json']);
    assert.equal(refused.code, 1);
    assert.equal(jsonOf(refused).error, 'invalid_token');
    const profile = testProfile('managed');
    profiles.push(profile);
    const accepted = await runCli(['register', '--issuer', managed.issuer, '--initial-access-token-env', 'IAT', '--profile', profile, '--json'], { IAT: 'let-me-in' });
    assert.equal(accepted.code, 0, accepted.stderr);
    await runCli(['registration', 'delete', '--profile', profile]);
  });

  test('a software statement is sent as given (RFC 7591 §2.3), with the metadata', async () => {
    const profile = testProfile('statement');
    profiles.push(profile);
    const dir = mkdtempSync(join(tmpdir(), 'connect-statement-'));
    const statement = 'eyJhbGciOiJub25lIn0.eyJzb2Z0d2FyZV9pZCI6ImNvbm5lY3QtZGVza3RvcCJ9.';
    writeFileSync(join(dir, 'statement.jwt'), `${statement}\n`);
    const registered = await runCli(['register', '--issuer', open.issuer, '--software-statement', join(dir, 'statement.jwt'), '--profile', profile, '--json']);
    assert.equal(registered.code, 0, registered.stdout + registered.stderr);
    const body = open.registrationRequests.at(-1) ?? {};
    assert.equal(body.software_statement, statement);
    assert.deepEqual(body.redirect_uris, ['http://127.0.0.1/connect/oauth2callback']);
    assert.equal(body.token_endpoint_auth_method, 'none');
    await runCli(['registration', 'delete', '--profile', profile]);
  });

  test('the provider\'s error responses become typed errors with its description', async () => {
    await assert.rejects(
      registerClient({ issuer: open.issuer, metadata: { redirect_uris: ['https://localhost/cb'], application_type: 'native' } }),
      (e: ConnectError) => e.code === 'invalid_redirect_uri' && /refused a redirect URI/.test(e.message) && /localhost/.test(e.message),
    );
    await assert.rejects(
      registerClient({ issuer: open.issuer, metadata: { redirect_uris: ['http://127.0.0.1/cb'], token_endpoint_auth_method: 'no-such-method' } }),
      (e: ConnectError) => e.code === 'invalid_client_metadata',
    );
    const noRegistration = await startTestProvider();
    try {
      await assert.rejects(registerClient({ issuer: noRegistration.issuer, metadata: {} }), (e: ConnectError) => e.code === 'registration_unsupported');
    } finally {
      await noRegistration.close();
    }
  });

  test('a bad details file: one error line per bad field, exit 2; --request-only writes the documents', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'connect-details-'));
    const file = join(dir, 'details.json');
    writeFileSync(file, JSON.stringify({ ...FULL, contactEmail: 'nope', technology: 'mac', applicationType: 'web' }));
    const bad = await runCli(['register', '--request-only', '--details', file, '--out', dir]);
    assert.equal(bad.code, 2);
    assert.deepEqual(bad.stderr.trim().split('\n'), [
      'error: invalid_client_details: contactEmail: "nope" is not an e-mail address',
      'error: invalid_client_details: applicationType: "web" does not fit technology "mac" (expected "native")',
    ]);
    writeFileSync(file, JSON.stringify(FULL));
    const written = await runCli(['register', '--request-only', '--details', file, '--out', dir, '--json']);
    assert.equal(written.code, 0, written.stderr);
    assert.match(readFileSync(join(dir, 'registration-request.md'), 'utf8'), /\| Company\/organization \| Example AS \|/);
  });
});
