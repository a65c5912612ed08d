// The authorization response under attack (RFC 9207, RFC 9700, RFC 8252), against the adversarial
// provider, through the core API and connect-login: a response from the wrong issuer or for another
// attempt, an injected code, a provider that offers only PKCE plain, and where tokens may travel.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { getAccessToken } from '../src/steps/access-token.js';
import { startSignIn } from '../src/steps/sign-in.js';
import { signOut } from '../src/steps/sign-out.js';
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

/** What a terminal acts on, line feeds and tabs aside. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/;

describe('what a provider can make the client send, store or print', () => {
  for (const [face, signIn] of Object.entries(faces)) {
    test(`with DPoP off, a DPoP token (token_type: DPoP) is refused at sign-in, never stored or sent as Bearer [RFC 9449 §7.1], ${face}`, async () => {
      fixture.adversary.reset();
      fixture.adversary.tamper = { token: (body) => ({ ...body, token_type: 'DPoP' }) };
      const profile = profileFor('dpop');
      const outcome = await signIn(profile, { dpop: 'off' });
      assert.equal(outcome.code, 'unsupported_token_type', outcome.message);
      assert.match(outcome.message ?? "", /"DPoP" access token.*only use Bearer tokens/i);
      assert.equal(await store.load(profile), null);
      assert.equal(fixture.adversary.count('userinfo'), 0, 'the token was not sent anywhere');
    });

    test(`an access token with a line break is refused, and no message carries it, ${face}`, async () => {
      fixture.adversary.reset();
      let token = '';
      fixture.adversary.tamper = { token: (body) => ({ ...body, access_token: (token = `${String(body.access_token)}\r\nX-Injected: 1`) }) };
      const profile = profileFor('crlf-token');
      const outcome = await signIn(profile);
      assert.equal(outcome.code, 'invalid_response');
      assert.match(outcome.message ?? '', /cannot be sent in an HTTP header/);
      assert.ok(!JSON.stringify(outcome).includes(token.slice(0, 20)), 'the token is in no message');
      assert.equal(await store.load(profile), null);
    });

    test(`a loopback issuer whose document names a plain-http token endpoint off this machine: refused before the browser opens, ${face}`, async () => {
      fixture.adversary.reset();
      fixture.adversary.tamper = { discovery: (doc) => ({ ...doc, token_endpoint: 'http://192.0.2.2/oauth/token' }) };
      const outcome = await signIn(profileFor('http-endpoint'));
      assert.equal(outcome.code, 'insecure_endpoint');
      assert.match(outcome.message ?? '', /token_endpoint \(http:\/\/192\.0\.2\.2\) is not https/);
      assert.equal(fixture.adversary.count('authorization'), 0, 'no browser, no code');
    });
  }

  test('claims and error codes with terminal escapes are printed cleaned in text, exact in JSON (CLI)', async () => {
    const { runCli, jsonOf } = await import('./support/cli.js');
    fixture.adversary.reset();
    const evil = '\u001b[2J\u001b[31mMallory\r\nProfile "default" is signed in as admin\u202e';
    fixture.adversary.tamper = { userinfo: (body) => ({ ...body, name: evil, nickname: evil }) };
    const profile = profileFor('escapes');
    assert.deepEqual(await faces.CLI(profile), { sub: 'alice' });
    const info = await runCli(['userinfo', '--profile', profile]);
    const status = await runCli(['status', '--profile', profile]);
    for (const out of [info.stdout, status.stdout]) {
      assert.ok(!CONTROL.test(out), 'no control character reaches the terminal');
      assert.match(out, /Mallory Profile "default" is signed in as admin/);
    }
    assert.match(status.stdout, /^Profile "test-escapes-[0-9a-f]+" is signed in as \[2J \[31mMallory/);
    const exact = jsonOf(await runCli(['userinfo', '--profile', profile, '--json'])).claims as Record<string, unknown>;
    assert.equal(exact.nickname, evil, 'JSON output is exact (JSON escapes it)');

    fixture.adversary.reset();
    fixture.adversary.tamper = {
      authorizationResponse: (url) => {
        url.searchParams.delete('code');
        url.searchParams.set('error', '\u001b]0;owned\u0007\u001b[2Jerror');
        return url;
      },
    };
    const { startCli } = await import('./support/cli.js');
    const login = startCli(['login', '--issuer', fixture.adversary.issuer, '--client-id', fixture.adversary.provider.publicClientId, '--profile', profileFor('escape-code')], {
      BROWSER: await fixture.browser.command(),
    }, { stdin: 'ignore' });
    const result = await login.done;
    assert.equal(result.code, 1);
    assert.ok(!CONTROL.test(result.stderr), result.stderr);
    // Not a registered OAuth code: provider_error, the provider's own code named in the sentence, printable.
    assert.match(result.stderr, /^error: provider_error: The provider answered with the error "\]0;owned \[2Jerror"\.$/m);
    const json = await runCli(
      ['login', '--issuer', fixture.adversary.issuer, '--client-id', fixture.adversary.provider.publicClientId, '--profile', profileFor('escape-code-json'), '--json'],
      { BROWSER: await fixture.browser.command() },
    );
    assert.equal(json.code, 1);
    assert.deepEqual(jsonOf(json), {
      status: 'error',
      error: 'provider_error',
      error_description: 'The provider answered with the error "]0;owned [2Jerror".',
      provider_error: ']0;owned [2Jerror',
    });
  });
});

describe('where fetch sends the access token', () => {
  test('only to the issuer\'s origin and the origins the profile allows; anything else is refused before any request (CLI)', async () => {
    const { createServer } = await import('node:http');
    const { runCli, jsonOf } = await import('./support/cli.js');
    const seen: (string | undefined)[] = [];
    const api = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(api.address() as import('node:net').AddressInfo).port}`;
    try {
      fixture.adversary.reset();
      const profile = profileFor('fetch-origins');
      assert.deepEqual(await faces.CLI(profile), { sub: 'alice' });
      const refused = await runCli(['fetch', `${origin}/me`, '--profile', profile]);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /^error: resource_not_allowed: .* is not one of them .*Nothing was sent\.$/m);
      assert.deepEqual(seen, [], 'the resource server saw nothing');
      const https = await runCli(['fetch', 'https://api.example.com/me', '--profile', profile]);
      assert.match(https.stderr, /^error: resource_not_allowed: /m);
      // Refused before a renewal too: with the token expired, nothing reaches the provider either.
      const stored = await store.load(profile);
      await store.save(profile, { ...(stored as NonNullable<typeof stored>), expiresAt: Math.floor(Date.now() / 1000) - 60 });
      const tokenRequests = fixture.adversary.count('token');
      const expired = await runCli(['fetch', `${origin}/me`, '--profile', profile]);
      assert.match(expired.stderr, /^error: resource_not_allowed: /m);
      assert.equal(fixture.adversary.count('token'), tokenRequests, 'no refresh for a refused fetch');
      assert.deepEqual(seen, []);

      const allowed = await runCli(['fetch', `${origin}/me`, '--allow-origin', origin, '--profile', profile]);
      assert.equal(allowed.code, 0, allowed.stderr);
      assert.equal(allowed.stdout, '{"ok":true}');
      // Bound by default (dpop auto: the provider offers it): the token goes as DPoP, with a proof beside it.
      assert.match(seen[0] ?? '', /^DPoP /);
      const bad = await runCli(['fetch', `${origin}/me`, '--allow-origin', `${origin}/path`, '--profile', profile]);
      assert.match(bad.stderr, /must be an origin only/);

      // Kept with the profile from login --allow-origin.
      const kept = profileFor('fetch-origins-kept');
      const login = await runCli(
        ['login', '--issuer', fixture.adversary.issuer, '--client-id', fixture.adversary.provider.publicClientId, '--allow-origin', origin, '--profile', kept, '--json'],
        { BROWSER: await fixture.browser.command() },
      );
      assert.equal(jsonOf(login).sub, 'alice');
      assert.equal((await runCli(['fetch', `${origin}/me`, '--profile', kept])).code, 0);
    } finally {
      api.close();
    }
  });
});
