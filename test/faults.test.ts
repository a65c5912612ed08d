// A broken provider or network at each step of the sign-in and at refresh, through the core API and
// connect-login: a typed error and a sentence that says what went wrong, nothing stored, nothing
// lost, and no hang (each answer is waited for at most --request-timeout).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { getAccessToken } from '../src/steps/access-token.js';
import { signOut } from '../src/steps/sign-out.js';
import type { ConnectError } from '../src/common/errors.js';
import type { Endpoint, Fault } from './support/adversary.js';
import { adversarialSession, type SignInFace } from './support/adversarial-session.js';

const fixture = adversarialSession();
const { store, profileFor } = fixture;
/** Every sign-in here waits at most 1 second for each answer from the provider. */
const faces = Object.fromEntries(
  Object.entries(fixture.faces).map(([face, signIn]) => [face, ((profile, s = {}) => signIn(profile, { requestTimeout: 1, ...s })) as SignInFace]),
);
const signInCore = faces['core API'] as SignInFace;

const HUGE = Buffer.alloc(3 * 1024 * 1024, 0x20);
const json = (body: string | Buffer): Fault => ({ status: 200, headers: { 'Content-Type': 'application/json' }, body });

interface FaultCase {
  what: string;
  fault: Fault;
  /** The code and sentence, per endpoint where they differ. */
  expect: (endpoint: Endpoint) => { code: string; message: RegExp };
}

const at = (endpoint: Endpoint) =>
  ({ discovery: /\/\.well-known\/openid-configuration/, jwks: /\/oauth\/jwks/, token: /\/oauth\/token/, userinfo: /\/oauth\/userinfo/ })[
    endpoint as 'token'
  ];

const FAULTS: FaultCase[] = [
  {
    what: 'the connection drops',
    fault: 'drop',
    expect: () => ({ code: 'network_error', message: /closed the connection without a proper HTTP answer/ }),
  },
  { what: 'no answer within the request timeout', fault: 'hang', expect: () => ({ code: 'network_error', message: /did not answer within 1 second/ }) },
  {
    what: 'HTTP 503 with an HTML page',
    fault: { status: 503, headers: { 'Content-Type': 'text/html' }, body: '<h1>Service Unavailable</h1>' },
    expect: (e) => ({ code: e === 'discovery' ? 'discovery_failed' : 'invalid_response', message: /answered HTTP 503/ }),
  },
  {
    what: 'malformed JSON',
    fault: json('{"issuer": "'),
    expect: (e) => ({ code: e === 'discovery' ? 'discovery_failed' : 'invalid_response', message: /is not valid JSON/ }),
  },
  {
    what: 'the wrong content type',
    fault: { status: 200, headers: { 'Content-Type': 'text/html' }, body: '<html><body>Welcome</body></html>' },
    expect: (e) => ({ code: e === 'discovery' ? 'discovery_failed' : 'invalid_response', message: /is not JSON \(content type text\/html\)/ }),
  },
  {
    what: 'a 3 MB answer',
    fault: json(HUGE),
    expect: (e) => ({ code: e === 'discovery' ? 'discovery_failed' : 'invalid_response', message: /larger than 1 MB; it was refused/ }),
  },
];

const SIGN_IN_ENDPOINTS: Endpoint[] = ['discovery', 'jwks', 'token', 'userinfo'];

for (const [face, signIn] of Object.entries(faces)) {
  describe(`a broken provider during sign-in, ${face}`, () => {
    for (const endpoint of SIGN_IN_ENDPOINTS) {
      for (const f of FAULTS) {
        test(`${endpoint}: ${f.what}`, async () => {
          fixture.adversary.reset();
          fixture.adversary.tamper = { fault: (e) => (e === endpoint ? f.fault : undefined) };
          const profile = profileFor('fault');
          const outcome = await signIn(profile);
          const expected = f.expect(endpoint);
          assert.equal(outcome.code, expected.code, outcome.message);
          assert.match(outcome.message ?? '', expected.message);
          assert.match(outcome.message ?? '', at(endpoint), 'the sentence names where');
          assert.equal(await store.load(profile), null, 'nothing stored');
        });
      }
    }
  });
}

describe('a broken provider at refresh: nothing lost', () => {
  for (const f of FAULTS) {
    test(`token endpoint: ${f.what}; the stored session is unchanged and the next refresh works`, async () => {
      fixture.adversary.reset();
      const profile = profileFor('refresh-fault');
      assert.deepEqual(await signInCore(profile), { sub: 'alice' });
      const before = await store.load(profile);
      fixture.adversary.tamper = { fault: (e) => (e === 'token' ? f.fault : undefined) };
      await assert.rejects(getAccessToken(store, profile, { force: true }), (e: ConnectError) => {
        assert.equal(e.code, f.expect('token').code);
        assert.match(e.message, f.expect('token').message);
        return true;
      });
      assert.deepEqual(await store.load(profile), before, 'the tokens are kept as they were');
      fixture.adversary.reset();
      const renewed = await getAccessToken(store, profile, { force: true });
      assert.notEqual(renewed, before?.accessToken);
    });
  }
});

describe('a refresh token refused without an error body (Glewlwyd, for a session ended elsewhere)', () => {
  test('an empty 400 at refresh: the profile is signed out, with a sentence naming the provider\'s answer', async () => {
    fixture.adversary.reset();
    const profile = profileFor('refresh-400');
    assert.deepEqual(await signInCore(profile), { sub: 'alice' });
    fixture.adversary.tamper = { fault: (e) => (e === 'token' ? { status: 400 } : undefined) };
    await assert.rejects(getAccessToken(store, profile, { force: true }), (e: ConnectError) => {
      assert.equal(e.code, 'session_expired');
      assert.match(e.message, /no longer accepts the sign-in .*HTTP 400 and an empty answer, where RFC 6749 §5\.2 asks for a JSON error\); you are signed out/);
      return true;
    });
    assert.equal(await store.load(profile), null, 'not left "signed in"');
  });

  for (const [what, fault] of [
    ['a proxy\'s HTML page', { status: 400, headers: { 'Content-Type': 'text/html' }, body: '<h1>Request Header Or Cookie Too Large</h1>' }],
    ['a gateway\'s JSON without an OAuth error', { status: 400, headers: { 'Content-Type': 'application/json' }, body: '{"message":"Bad Request"}' }],
  ] as const) {
    test(`a 400 with ${what} is not taken for a refusal: an unusable answer, and the session is kept`, async () => {
      fixture.adversary.reset();
      const profile = profileFor('refresh-400-body');
      assert.deepEqual(await signInCore(profile), { sub: 'alice' });
      const before = await store.load(profile);
      fixture.adversary.tamper = { fault: (e) => (e === 'token' ? (fault as Fault) : undefined) };
      await assert.rejects(getAccessToken(store, profile, { force: true }), (e: ConnectError) => e.code === 'invalid_response');
      assert.deepEqual(await store.load(profile), before);
    });
  }

  test('a 400 with a JSON error other than invalid_grant is that error, and the session is kept', async () => {
    fixture.adversary.reset();
    const profile = profileFor('refresh-400-json');
    assert.deepEqual(await signInCore(profile), { sub: 'alice' });
    const before = await store.load(profile);
    const body = JSON.stringify({ error: 'invalid_request', error_description: 'try later' });
    fixture.adversary.tamper = { fault: (e) => (e === 'token' ? { status: 400, headers: { 'Content-Type': 'application/json' }, body } : undefined) };
    await assert.rejects(getAccessToken(store, profile, { force: true }), (e: ConnectError) => e.code === 'invalid_request');
    assert.deepEqual(await store.load(profile), before);
  });
});

describe('revocation refused to a public client (Glewlwyd asks every client for credentials)', () => {
  test('an empty 401: signed out here, and the warning says the tokens stay valid at the provider and why', async () => {
    fixture.adversary.reset();
    const profile = profileFor('revoke-401');
    assert.deepEqual(await signInCore(profile), { sub: 'alice' });
    fixture.adversary.tamper = { fault: (e) => (e === 'revocation' ? { status: 401 } : undefined) };
    const result = await signOut({ profile, store });
    assert.equal(result.revoked, false);
    assert.deepEqual(result.warnings, [
      'The tokens were removed from this computer, but the provider refused to revoke them without client credentials (HTTP 401), ' +
        'which RFC 7009 §2.1 asks only of confidential clients, and this one is public: they stay valid at the provider until they expire.',
    ]);
    assert.equal(await store.load(profile), null);
  });

  test('signOut with a post-logout redirect URI that is not loopback: invalid_settings, and nothing is removed', async () => {
    fixture.adversary.reset();
    const profile = profileFor('post-logout-bad');
    assert.deepEqual(await signInCore(profile), { sub: 'alice' });
    await assert.rejects(signOut({ profile, store, everywhere: true, postLogoutRedirectUri: 'https://example.com/bye' }), (e: ConnectError) => {
      assert.equal(e.code, 'invalid_settings');
      assert.match(e.message, /must be a loopback URI/);
      return true;
    });
    assert.ok(await store.load(profile), 'still signed in');
  });
});

describe('TLS and HTTP errors', () => {
  let tlsServer: ReturnType<typeof createHttpsServer>;
  let tlsIssuer: string;
  let garbageIssuer: string;
  let garbage: ReturnType<typeof createTcpServer>;

  before(async () => {
    // A self-signed certificate for 127.0.0.1: what an attacker's (or a misconfigured) server presents.
    const dir = mkdtempSync(join(tmpdir(), 'connect-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-days', '1',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    tlsServer = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{}');
    });
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
    tlsIssuer = `https://127.0.0.1:${(tlsServer.address() as AddressInfo).port}`;
    // A server that answers with something that is not HTTP at all.
    garbage = createTcpServer((socket) => socket.end('SSH-2.0-OpenSSH_9.2\r\nnot http\r\n\r\n'));
    await new Promise<void>((resolve) => garbage.listen(0, '127.0.0.1', resolve));
    garbageIssuer = `http://127.0.0.1:${(garbage.address() as AddressInfo).port}`;
  });

  after(() => {
    tlsServer.close();
    garbage.close();
  });

  for (const [face, signIn] of Object.entries(faces)) {
    test(`${face}: an https provider whose certificate is not trusted is refused, naming the certificate`, async () => {
      const outcome = await signIn(profileFor('tls'), { issuer: tlsIssuer });
      assert.equal(outcome.code, 'network_error');
      assert.match(outcome.message ?? '', /certificate .*not trusted .*\(DEPTH_ZERO_SELF_SIGNED_CERT\)/);
    });

    test(`${face}: a server that does not speak HTTP`, async () => {
      const outcome = await signIn(profileFor('garbage'), { issuer: garbageIssuer });
      assert.equal(outcome.code, 'network_error');
      assert.match(outcome.message ?? '', /The server at http:\/\/127\.0\.0\.1:\d+ did not answer in HTTP \(HPE_\w+\); check the issuer URL/);
    });
  }
});
