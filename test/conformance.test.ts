// The OpenID Foundation's RP conformance plan (oidcc-client-test-plan, code flow) against the
// adversarial provider: the real oidc-provider behind a server that tampers with one thing per case.
// Every case runs twice, through the core API and through connect-login, and asserts what the user
// would see: signed in, or the error code and its sentence, with nothing stored.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { getAccessToken } from '../src/steps/access-token.js';
import type { ConnectError } from '../src/common/errors.js';
import { decodeJwt, publicJwk, reSignIdToken, signJwt, type Adversary, type Json, type Tampering } from './support/adversary.js';
import { adversarialSession } from './support/adversarial-session.js';

const fixture = adversarialSession();
const { store, profileFor, faces, signInCore } = fixture;

interface Case {
  /** The conformance module it follows (or the source of the expectation). */
  module: string;
  what: string;
  tamper: (a: Adversary) => Tampering;
  /** Signed in, or refused with this code and a sentence matching `message`. */
  expect: 'signed_in' | { code: string; message: RegExp };
}

const now = () => Math.floor(Date.now() / 1000);
const idTokenInvalid = (message: RegExp) => ({ code: 'id_token_invalid', message });
const withClaims = (edit: (claims: Json) => void) => (a: Adversary) => ({
  token: reSignIdToken(a.keys.provider, ({ payload }) => edit(payload)),
});
/** Discovery and JWKS that also offer `alg` with `key` (a provider may sign with any alg it lists). */
const offering = (a: Adversary, alg: string, keys: Json[]): Tampering => ({
  discovery: (doc) => ({ ...doc, id_token_signing_alg_values_supported: ['RS256', alg] }),
  jwks: (jwks) => ({ keys: [...jwks.keys, ...keys] }),
});

const CASES: Case[] = [
  { module: 'oidcc-client-test', what: 'an honest provider (the adversary passes everything through)', tamper: () => ({}), expect: 'signed_in' },
  {
    module: 'oidcc-client-test-invalid-sig-rs256',
    what: 'ID token signed by a key that is not the provider\'s (RS256)',
    tamper: (a) => ({ token: reSignIdToken({ ...a.keys.otherRsa, jwk: { ...a.keys.otherRsa.jwk, kid: a.keys.provider.jwk.kid } }) }),
    expect: idTokenInvalid(/signature/i),
  },
  {
    module: 'oidcc-client-test-invalid-sig-es256',
    what: 'ID token with a bad ES256 signature (the provider offers ES256)',
    tamper: (a) => ({
      ...offering(a, 'ES256', [publicJwk(a.keys.ec)]),
      token: (body) => {
        const { header, payload } = decodeJwt(String(body.id_token));
        const good = signJwt({ ...header, kid: 'ec-1' }, payload, a.keys.ec);
        return { ...body, id_token: good.replace(/\.[^.]+$/, `.${Buffer.alloc(64, 7).toString('base64url')}`) };
      },
    }),
    expect: idTokenInvalid(/signature/i),
  },
  {
    module: 'oidcc-client-test-idtoken-sig-es256',
    what: 'ID token validly signed with ES256 (the provider offers ES256): accepted',
    tamper: (a) => ({
      ...offering(a, 'ES256', [publicJwk(a.keys.ec)]),
      token: reSignIdToken(a.keys.ec, ({ header }) => (header.kid = 'ec-1')),
    }),
    expect: 'signed_in',
  },
  {
    module: 'oidcc-client-test-invalid-sig-hs256',
    what: 'ID token signed with HS256 and a guessed secret (a public client has none)',
    tamper: (a) => ({
      ...offering(a, 'HS256', []),
      token: reSignIdToken({ alg: 'HS256', secret: 'guessed-secret' }, ({ header }) => delete header.kid),
    }),
    expect: idTokenInvalid(/alg|signature|key/i),
  },
  {
    module: 'oidcc-client-test-idtoken-sig-none',
    what: 'unsigned ID token (alg none)',
    tamper: () => ({
      discovery: (doc) => ({ ...doc, id_token_signing_alg_values_supported: ['RS256', 'none'] }),
      token: reSignIdToken({ alg: 'none' }, ({ header }) => delete header.kid),
    }),
    expect: idTokenInvalid(/alg|sign/i),
  },
  {
    module: 'oidcc-client-test-invalid-iss',
    what: 'ID token from another issuer',
    tamper: withClaims((c) => (c.iss = 'https://attacker.example')),
    expect: idTokenInvalid(/"iss"/),
  },
  {
    module: 'OIDC Core 3.1.3.7 step 2',
    what: 'ID token without iss',
    tamper: withClaims((c) => delete c.iss),
    expect: idTokenInvalid(/"iss"/),
  },
  {
    module: 'oidcc-client-test-invalid-aud',
    what: 'ID token for another client',
    tamper: withClaims((c) => (c.aud = 'someone-else')),
    expect: idTokenInvalid(/"aud"/),
  },
  {
    module: 'oidcc-client-test-missing-aud',
    what: 'ID token without aud',
    tamper: withClaims((c) => delete c.aud),
    expect: idTokenInvalid(/"aud"/),
  },
  {
    module: 'oidcc-client-test-missing-sub',
    what: 'ID token without sub',
    tamper: withClaims((c) => delete c.sub),
    expect: idTokenInvalid(/"sub"/),
  },
  {
    module: 'oidcc-client-test-missing-iat',
    what: 'ID token without iat',
    tamper: withClaims((c) => delete c.iat),
    expect: idTokenInvalid(/"iat"/),
  },
  {
    module: 'OIDC Core 3.1.3.7 step 9',
    what: 'expired ID token',
    tamper: withClaims((c) => {
      c.iat = now() - 7200;
      c.exp = now() - 3600;
    }),
    expect: idTokenInvalid(/"exp"/),
  },
  {
    module: 'oidcc-client-test-nonce-invalid',
    what: 'ID token with another attempt\'s nonce',
    tamper: withClaims((c) => (c.nonce = 'nonce-of-another-attempt')),
    expect: idTokenInvalid(/"nonce"/),
  },
  {
    module: 'OIDC Core 3.1.2.1 (nonce sent, so required)',
    what: 'ID token without nonce',
    tamper: withClaims((c) => delete c.nonce),
    expect: idTokenInvalid(/"nonce"/),
  },
  {
    module: 'oidcc-client-test-kid-absent-single-jwks',
    what: 'no kid, and one key in the JWKS: accepted',
    tamper: (a) => ({
      jwks: (jwks) => ({ keys: jwks.keys.map(({ kid: _kid, ...key }) => key) }),
      token: reSignIdToken(a.keys.provider, ({ header }) => delete header.kid),
    }),
    expect: 'signed_in',
  },
  {
    module: 'oidcc-client-test-kid-absent-multiple-jwks (either outcome conforms)',
    what: 'no kid, and several keys that could match: refused rather than guessed',
    tamper: (a) => ({
      jwks: (jwks) => ({ keys: [...jwks.keys, publicJwk(a.keys.otherRsa)].map(({ kid: _kid, ...key }) => key) }),
      token: reSignIdToken(a.keys.provider, ({ header }) => delete header.kid),
    }),
    expect: idTokenInvalid(/key/i),
  },
  {
    module: 'oidcc-client-test-userinfo-invalid-sub',
    what: 'userinfo about another subject than the ID token',
    tamper: () => ({ userinfo: (body) => ({ ...body, sub: 'mallory' }) }),
    expect: { code: 'userinfo_invalid', message: /"sub"/ },
  },
  {
    module: 'oidcc-client-test-discovery-issuer-mismatch',
    what: 'a discovery document naming another issuer',
    tamper: () => ({ discovery: (doc) => ({ ...doc, issuer: 'https://attacker.example' }) }),
    expect: { code: 'discovery_failed', message: /declares the issuer "https:\/\/attacker\.example", not "http:\/\/127\.0\.0\.1:\d+" as configured/ },
  },
];

for (const [face, signIn] of Object.entries(faces)) {
  describe(`OpenID RP conformance, ${face}`, () => {
    for (const c of CASES) {
      test(`${c.what} [${c.module}]`, async () => {
        fixture.adversary.reset();
        fixture.adversary.tamper = c.tamper(fixture.adversary);
        const profile = profileFor('conf');
        const outcome = await signIn(profile);
        if (c.expect === 'signed_in') {
          assert.deepEqual(outcome, { sub: 'alice' });
          assert.equal((await store.load(profile))?.sub, 'alice');
        } else {
          assert.equal(outcome.code, c.expect.code, outcome.message);
          assert.match(outcome.message ?? '', c.expect.message);
          assert.equal(await store.load(profile), null, 'nothing stored');
        }
      });
    }
  });
}

describe('what a correct provider may do, and how the token travels', () => {
  test('scope claims come from userinfo when the ID token carries only sub [oidcc-client-test-scope-userinfo-claims]', async () => {
    for (const [face, signIn] of Object.entries(faces)) {
      fixture.adversary.reset();
      let idClaims: Json = {};
      fixture.adversary.tamper = { token: (body) => ((idClaims = decodeJwt(String(body.id_token)).payload), body) };
      const profile = profileFor('scope');
      assert.deepEqual(await signIn(profile, { scope: 'openid email' }), { sub: 'alice' }, face);
      assert.equal(idClaims.email, undefined, 'the ID token itself has no email');
      const session = await store.load(profile);
      assert.equal(session?.claims.email, 'alice@example.com', face);
      assert.equal(session?.claims.name, undefined, 'no profile claims: the profile scope was not asked for');
    }
  });

  test('the access token goes to userinfo in the Authorization header only, never in a URL or a body', async () => {
    fixture.adversary.reset();
    const profile = profileFor('header');
    assert.deepEqual(await signInCore(profile), { sub: 'alice' });
    const session = await store.load(profile);
    const accessToken = session?.accessToken as string;
    const userinfo = fixture.adversary.seen.filter((r) => r.endpoint === 'userinfo');
    assert.equal(userinfo.length, 1);
    // DPoP-bound by default against this provider (dpop "auto"): the scheme says so, the proof goes beside it.
    assert.equal(session?.tokenType, 'dpop');
    assert.equal(userinfo[0]?.authorization, `DPoP ${accessToken}`);
    assert.equal(userinfo[0]?.body, '');
    for (const seen of fixture.adversary.seen) assert.ok(!seen.url.includes(accessToken), `no access token in ${seen.endpoint}'s URL`);
  });
});

describe('refresh against a misbehaving provider', () => {
  async function signedInProfile(label: string): Promise<string> {
    fixture.adversary.reset();
    const profile = profileFor(label);
    assert.deepEqual(await signInCore(profile), { sub: 'alice' });
    fixture.adversary.reset();
    return profile;
  }

  test('the signing key rotates: the JWKS is fetched again once, and the renewed ID token is accepted', async () => {
    const profile = await signedInProfile('rotate');
    const rotated = { ...fixture.adversary.keys.otherRsa, jwk: { ...fixture.adversary.keys.otherRsa.jwk, kid: 'rotated-1' } };
    fixture.adversary.tamper = {
      jwks: () => ({ keys: [publicJwk(rotated)] }),
      token: reSignIdToken(rotated, ({ header }) => (header.kid = 'rotated-1')),
    };
    await getAccessToken(store, profile, { force: true });
    assert.equal(decodeJwt((await store.load(profile))?.idToken as string).header.kid, 'rotated-1');
    assert.equal(fixture.adversary.count('jwks'), 1, 'one JWKS fetch for the renewal');
  });

  test('a renewed ID token from another issuer is refused and the profile signed out [oidcc-client-test-refresh-token-invalid-issuer]', async () => {
    const profile = await signedInProfile('refresh-iss');
    fixture.adversary.tamper = { token: reSignIdToken(fixture.adversary.keys.provider, ({ payload }) => (payload.iss = 'https://attacker.example')) };
    await assert.rejects(getAccessToken(store, profile, { force: true }), (e: ConnectError) => {
      assert.equal(e.code, 'id_token_invalid');
      assert.match(e.message, /signed out for safety/);
      return true;
    });
    assert.equal(await store.load(profile), null);
  });

  test('a renewed ID token with a bad signature is refused', async () => {
    const profile = await signedInProfile('refresh-sig');
    fixture.adversary.tamper = { token: reSignIdToken({ ...fixture.adversary.keys.otherRsa, jwk: { ...fixture.adversary.keys.otherRsa.jwk, kid: fixture.adversary.keys.provider.jwk.kid } }) };
    await assert.rejects(getAccessToken(store, profile, { force: true }), (e: ConnectError) => e.code === 'id_token_invalid');
  });
});
