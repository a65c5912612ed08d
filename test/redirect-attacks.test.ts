// The authorization response under attack (RFC 9207, RFC 9700, RFC 8252), against the adversarial
// provider, through the core API and connect-login: a response from the wrong issuer or for another
// attempt, an injected code, a provider that offers only PKCE plain, and where tokens may travel.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { getAccessToken } from '../src/access-token.js';
import { startSignIn } from '../src/sign-in.js';
import { signOut } from '../src/sign-out.js';
import type { Adversary, Tampering } from './support/adversary.js';
import { LOOPBACK, adversarialSession } from './support/adversarial-session.js';

const fixture = adversarialSession();
const { store, profileFor, faces, signInCore } = fixture;

/** The response parameters changed on the way back to the app, as a man in the middle would. */
const response = (edit: (params: URLSearchParams) => void): Tampering => ({
  authorizationResponse: (url) => {
    edit(url.searchParams);
    return url;
  },
});

interface Case {
  source: string;
  what: string;
  tamper: (a: Adversary) => Tampering;
  expect: 'signed_in' | { code: string; message: RegExp };
}

const CASES: Case[] = [
  {
    source: 'RFC 9207 §2.4',
    what: 'iss in the response names another issuer',
    tamper: () => response((p) => p.set('iss', 'https://attacker.example')),
    expect: { code: 'issuer_mismatch', message: /came from a different issuer/ },
  },
  {
    source: 'RFC 9207 §2.4',
    what: 'iss missing although the provider advertises it',
    tamper: () => response((p) => p.delete('iss')),
    expect: { code: 'issuer_mismatch', message: /did not name its issuer/ },
  },
  {
    source: 'RFC 9207 §2.4',
    what: 'iss missing from a provider that does not advertise it: accepted',
    tamper: () => ({
      discovery: (doc) => ({ ...doc, authorization_response_iss_parameter_supported: false }),
      ...response((p) => p.delete('iss')),
    }),
    expect: 'signed_in',
  },
  {
    source: 'RFC 9700 §4.5 (code injection), RFC 7636',
    what: 'a valid code from another session injected into this response',
    tamper: (a) => response((p) => p.set('code', a.codes[0] as string)),
    expect: { code: 'invalid_grant', message: /code/i },
  },
  {
    source: 'RFC 9700 §2.1.1',
    what: 'metadata that offers only PKCE plain: S256 is sent anyway',
    tamper: () => ({ discovery: (doc) => ({ ...doc, code_challenge_methods_supported: ['plain'] }) }),
    expect: 'signed_in',
  },
  {
    source: 'RFC 6749 §4.1.2.1',
    what: 'an error response with the right state and iss',
    tamper: () =>
      response((p) => {
        p.delete('code');
        p.set('error', 'temporarily_unavailable');
        p.set('error_description', 'Try later');
      }),
    expect: { code: 'temporarily_unavailable', message: /Try later|unavailable/i },
  },
];

/** A code the provider issued for somebody else's attempt (its own PKCE verifier), never redeemed. */
async function stolenCode(): Promise<void> {
  const attacker = startSignIn({
    settings: { issuer: fixture.adversary.issuer, clientId: fixture.adversary.provider.publicClientId, redirectUri: LOOPBACK },
    profile: profileFor('attacker'),
    store,
    browser: fixture.browser.opener(),
    timeoutMs: 60_000,
  });
  // The attacker's own client never redeems it: the adversary keeps the code and answers the browser itself.
  fixture.adversary.tamper = { authorizationResponse: (url) => new URL(`${fixture.adversary.issuer}/nowhere${url.search}`) };
  while (fixture.adversary.codes.length === 0) await new Promise((r) => setTimeout(r, 50));
  attacker.cancel();
  await attacker.result.catch(() => {});
}

/** Responses that are not this attempt's: another attempt's state, none, or two. */
const NOT_OURS: { what: string; forge: (p: URLSearchParams) => void }[] = [
  { what: 'state of another attempt', forge: (p) => p.set('state', 'state-of-another-attempt') },
  { what: 'state missing', forge: (p) => p.delete('state') },
  { what: 'state twice', forge: (p) => p.append('state', 'state-of-another-attempt') },
];

for (const [face, signIn] of Object.entries(faces)) {
  describe(`a response that is not this attempt's is set aside, ${face} [RFC 6749 §10.12, RFC 9700 §4.7]`, () => {
    for (const c of NOT_OURS) {
      test(`${c.what}: a neutral page, the attempt goes on, and the genuine response signs in`, async () => {
        fixture.adversary.reset();
        let genuine: string | undefined;
        let forged: Promise<string> | undefined;
        // The browser is sent to a forged callback; the genuine one arrives after it (as when another
        // program, or a stale tab, hits the listener first).
        fixture.adversary.tamper = {
          authorizationResponse: (url) => {
            genuine = url.href;
            const copy = new URL(url.href);
            c.forge(copy.searchParams);
            forged = fetch(copy).then((r) => r.text());
            return new URL(`${fixture.adversary.issuer}/nowhere`);
          },
        };
        const outcome = signIn(profileFor('not-ours'));
        while (!forged) await new Promise((r) => setTimeout(r, 20));
        assert.match(await forged, /Nothing to do here/);
        assert.doesNotMatch(await forged, /Error code/);
        await fetch(genuine as string);
        assert.deepEqual(await outcome, { sub: 'alice' });
      });
    }
  });

  describe(`authorization response checks, ${face}`, () => {
    for (const c of CASES) {
      test(`${c.what} [${c.source}]`, async () => {
        fixture.adversary.reset();
        if (c.what.includes('injected')) await stolenCode();
        fixture.adversary.tamper = c.tamper(fixture.adversary);
        const profile = profileFor('rfc');
        const outcome = await signIn(profile);
        if (c.expect === 'signed_in') {
          assert.deepEqual(outcome, { sub: 'alice' });
        } else {
          assert.equal(outcome.code, c.expect.code, outcome.message);
          assert.match(outcome.message ?? '', c.expect.message);
          assert.equal(await store.load(profile), null, 'nothing stored');
        }
        const request = fixture.adversary.seen.findLast((r) => r.url.includes('/oauth/authorize?'));
        assert.equal(new URL(request?.url ?? 'x:').searchParams.get('code_challenge_method'), 'S256');
      });
    }
  });
}

describe('the loopback listener and where tokens travel', () => {
  test('connections that send nothing, or half a request, do not keep login from printing and exiting (CLI)', async () => {
    const { createConnection } = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    fixture.adversary.reset();
    // Another program on this machine connects to the listener just before the browser arrives.
    fixture.adversary.tamper = {
      authorizationResponse: (url) => {
        for (const first of ['', `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\n`]) {
          const socket = createConnection(Number(url.port), '127.0.0.1');
          socket.on('error', () => {});
          if (first) socket.write(first);
          sockets.push(socket);
        }
        return url;
      },
    };
    const started = Date.now();
    assert.deepEqual(await faces.CLI(profileFor('silent-sockets')), { sub: 'alice' });
    assert.ok(Date.now() - started < 30_000);
    assert.ok(sockets.length === 2 && sockets.every((s) => s.destroyed || s.readableEnded), 'the CLI dropped them as it finished');
    for (const socket of sockets) socket.destroy();
  });

  test('with nobody signing in and a silent connection open, login --timeout 5 prints the timeout and exits', async () => {
    const { createConnection } = await import('node:net');
    const { startCli } = await import('./support/cli.js');
    const started = Date.now();
    const login = startCli(
      ['login', '--issuer', fixture.adversary.issuer, '--client-id', fixture.adversary.provider.publicClientId, '--profile', profileFor('stalled'), '--timeout', '5', '--json'],
      { BROWSER: 'true' },
      { stdin: 'ignore' },
    );
    let stderr = '';
    login.child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let port: string | undefined;
    for (let i = 0; i < 200 && !port; i++) {
      port = /redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A(\d+)/.exec(stderr)?.[1];
      if (!port) await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(port, stderr);
    const silent = createConnection(Number(port), '127.0.0.1');
    silent.on('error', () => {});
    const result = await login.done;
    silent.destroy();
    assert.equal(result.code, 1);
    assert.equal(JSON.parse(result.stdout).error, 'timeout');
    assert.ok(Date.now() - started < 15_000, `exited ${Date.now() - started} ms after it started`);
  });

  test('the callback URL replayed after the sign-in reaches nothing: the listener is closed', async () => {
    fixture.adversary.reset();
    let callback: string | undefined;
    fixture.adversary.tamper = { authorizationResponse: (url) => ((callback = url.href), url) };
    assert.deepEqual(await signInCore(profileFor('replay')), { sub: 'alice' });
    assert.match(callback ?? '', /^http:\/\/127\.0\.0\.1:\d+\/connect\/oauth2callback\?/);
    await assert.rejects(fetch(callback as string), 'connection refused');
  });

  test('after a refused response the listener is closed too', async () => {
    fixture.adversary.reset();
    let callback: string | undefined;
    fixture.adversary.tamper = { authorizationResponse: (url) => ((callback = url.href), url.searchParams.set('iss', 'https://attacker.example'), url) };
    assert.equal((await signInCore(profileFor('closed'))).code, 'issuer_mismatch');
    await assert.rejects(fetch(callback as string), 'connection refused');
  });

  test('access and refresh tokens never appear in a URL: sign-in, userinfo, refresh, revocation, logout everywhere', async () => {
    fixture.adversary.reset();
    const locations: string[] = [];
    fixture.adversary.tamper = { authorizationResponse: (url) => (locations.push(url.href), url) };
    const profile = profileFor('urls');
    assert.deepEqual(await signInCore(profile), { sub: 'alice' });
    const first = await store.load(profile);
    await getAccessToken(store, profile, { force: true });
    const second = await store.load(profile);
    const result = await signOut({ profile, store, everywhere: true, browser: fixture.browser.opener() });
    assert.equal(result.revoked, true);
    const secrets = [first?.accessToken, first?.refreshToken, second?.accessToken, second?.refreshToken].filter(
      (s): s is string => typeof s === 'string',
    );
    assert.equal(secrets.length, 4);
    const urls = [...fixture.adversary.seen.map((r) => r.url), ...locations];
    for (const url of urls) for (const secret of secrets) assert.ok(!url.includes(secret), `a token in ${new URL(url).pathname}`);
    // The one token a URL carries: the ID token as id_token_hint of the logout page (OpenID RP-Initiated Logout §2).
    const withIdToken = urls.filter((u) => second?.idToken && u.includes(second.idToken));
    assert.deepEqual(withIdToken.map((u) => new URL(u).pathname), ['/oauth/logout']);
  });
});
