// Sender-constrained tokens (DPoP, RFC 9449), issue #20, first step: the library with `dpop: 'on'`
// against oidc-provider (which offers DPoP): the key made at sign-in and kept in the keychain entry,
// proofs on the code exchange, userinfo, refresh and a protected call, and the same access token
// refused when it is sent as a plain Bearer token.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { getAccessToken } from '../src/steps/access-token.js';
import { authorizedFetch } from '../src/steps/authorized-fetch.js';
import { keychainStore } from '../src/secret-store/keychain.js';
import { signOut } from '../src/steps/sign-out.js';
import { startSignIn } from '../src/steps/sign-in.js';
import { TokenStore } from '../src/session/token-store.js';
import { readUserInfo } from '../src/steps/userinfo.js';
import { constants, createHash, generateKeyPairSync, randomUUID, sign, webcrypto, type KeyPairKeyObjectResult } from 'node:crypto';
import { checkProof, jwkThumbprint, ReplayCache } from './provider/dpop-proof.js';
import { DPOP_CLIENT_ID, startTestProvider, type TestProvider } from './provider/provider.js';
import { startAdversary } from './support/adversary.js';
import { createClient } from '../src/client.js';
import { jsonOf, profileTracker, runCli } from './support/cli.js';
import { SharedBrowser } from './support/shared-browser.js';

let plain: TestProvider;
let pushed: TestProvider;
let nonced: TestProvider;
let browser: SharedBrowser;
const store = new TokenStore(keychainStore());
const { profileFor, signOutAll } = profileTracker();

before(async () => {
  plain = await startTestProvider();
  pushed = await startTestProvider({ par: 'on' });
  nonced = await startTestProvider({ dpopNonce: true });
  browser = await SharedBrowser.start();
});

after(async () => {
  await signOutAll();
  await browser.close();
  await plain.close();
  await pushed.close();
  await nonced.close();
});

async function signIn(provider: TestProvider, profile: string, dpop: 'on' | 'off' | 'auto', clientId = provider.publicClientId) {
  const opened: string[] = [];
  const attempt = startSignIn({
    settings: { issuer: provider.issuer, clientId, dpop },
    profile,
    store,
    browser: { open: async (url) => void (opened.push(url), await browser.opener().open(url)) },
    timeoutMs: 60_000,
  });
  return { summary: await attempt.result, url: new URL(opened[0] as string) };
}

const userinfoEndpoint = (p: TestProvider) => `${p.issuer}/oauth/userinfo`;

/** The demo's protected resource (dpop-proof.ts) takes the token with a fresh proof, and nothing less. */
async function resourceChecksProofs(provider: TestProvider, profile: string, accessToken: string) {
  const api = `${provider.issuer}/api/resource`;
  const proofs: string[] = [];
  const realFetch = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const proof = new Headers(init?.headers).get('dpop');
    if (proof && String(input).startsWith(api)) proofs.push(proof);
    return realFetch(input, init);
  };
  let answer: Response;
  try {
    answer = await authorizedFetch(store, profile, `${api}?q=1`, { method: 'POST', body: 'hello' });
  } finally {
    globalThis.fetch = realFetch;
  }
  assert.equal(answer.status, 200);
  assert.deepEqual(await answer.json(), { sub: 'alice', scope: 'openid profile email offline_access', method: 'POST', body: 'hello', contentType: 'text/plain;charset=UTF-8' });
  const proof = proofs[0] as string;
  assert.ok(proof, 'the call carried a proof');
  const call = async (url: string, authorization: string, dpop?: string, method = 'POST') => {
    const refused = await fetch(url, { method, headers: { authorization, ...(dpop ? { dpop } : {}) } });
    return { status: refused.status, challenge: refused.headers.get('www-authenticate') ?? '' };
  };
  const refusedFor = (description: string) => ({ status: 401, challenge: `DPoP algs="ES256 ES384 EdDSA Ed25519 PS256 RS256", error="invalid_dpop_proof", error_description="${description}"` });
  assert.deepEqual(await call(api, `Bearer ${accessToken}`), {
    status: 401,
    challenge: 'DPoP algs="ES256 ES384 EdDSA Ed25519 PS256 RS256", error="invalid_token", error_description="the token is DPoP-bound: send it as DPoP with a proof"',
  });
  assert.deepEqual(await call(api, `DPoP ${accessToken}`), refusedFor('a DPoP-bound token needs a DPoP proof'));
  assert.deepEqual(await call(api, `DPoP ${accessToken}`, proof), refusedFor('the proof was already used'));
  assert.deepEqual(await call(api, `DPoP ${accessToken}`, proof, 'GET'), refusedFor('the proof is for another method'));
  const [head, body, signature] = proof.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(body, 'base64url').toString());
  const forged = `${head}.${Buffer.from(JSON.stringify({ ...claims, jti: 'another' })).toString('base64url')}.${signature}`;
  assert.deepEqual(await call(api, `DPoP ${accessToken}`, forged), refusedFor('the proof signature is invalid'));
}

describe('the demo resource server\'s proof check (test/provider/dpop-proof.ts)', () => {
  const url = 'https://api.example/resource';
  const accessToken = 'an-access-token';
  const now = 1_800_000_000;
  const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');
  function proofWith(alg: string, keys: KeyPairKeyObjectResult, claims: Record<string, unknown> = {}) {
    const header = { typ: 'dpop+jwt', alg, jwk: keys.publicKey.export({ format: 'jwk' }) };
    const payload = { htm: 'GET', htu: `${url}?q=1#f`, iat: now, jti: randomUUID(), ath: sha256(accessToken), ...claims };
    const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
    const options = alg.startsWith('ES')
      ? { key: keys.privateKey, dsaEncoding: 'ieee-p1363' as const }
      : alg === 'PS256'
        ? { key: keys.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }
        : keys.privateKey;
    const signature = sign(alg === 'EdDSA' ? null : alg === 'ES384' ? 'sha384' : 'sha256', Buffer.from(input), options);
    return { proof: `${input}.${signature.toString('base64url')}`, jkt: jwkThumbprint(header.jwk) };
  }
  /** The first proof's header and claims with the second one's signature. */
  const swapSignature = (first: { proof: string; jkt: string }, second: { proof: string }) => ({
    ...first,
    proof: `${first.proof.split('.').slice(0, 2).join('.')}.${second.proof.split('.')[2]}`,
  });
  /** A proof whose header says something else than a well-made one (its signature then fails, if the header got that far). */
  const withHeader = (keyPair: KeyPairKeyObjectResult, change: Record<string, unknown>) => {
    const made = proofWith('ES256', keyPair);
    const [head, ...rest] = made.proof.split('.');
    const header = { ...JSON.parse(Buffer.from(head as string, 'base64url').toString()), ...change };
    return { ...made, proof: [Buffer.from(JSON.stringify(header)).toString('base64url'), ...rest].join('.') };
  };
  const check = (made: { proof: string; jkt: string }, replay = new ReplayCache(), extra: Partial<Parameters<typeof checkProof>[0]> = {}) =>
    checkProof({ proof: made.proof, method: 'GET', url, accessToken, jkt: made.jkt, replay, now, ...extra });
  const keys = {
    ES256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
    ES384: generateKeyPairSync('ec', { namedCurve: 'P-384' }),
    EdDSA: generateKeyPairSync('ed25519'),
    PS256: generateKeyPairSync('rsa', { modulusLength: 2048 }),
    RS256: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  };

  test('a proof made with each algorithm the client can make is taken; the same proof twice is refused', () => {
    for (const [alg, pair] of Object.entries(keys)) {
      const replay = new ReplayCache();
      const made = proofWith(alg, pair);
      check(made, replay);
      assert.throws(() => check(made, replay), { message: 'the proof was already used' }, alg);
    }
  });

  test('each way a proof can be wrong is refused with its reason', () => {
    const pair = keys.ES256;
    const cases: [string, { proof: string; jkt: string }, Partial<Parameters<typeof checkProof>[0]>][] = [
      ['the proof is for another URL', proofWith('ES256', pair, { htu: 'https://api.example/other' }), {}],
      ['the proof is for another method', proofWith('ES256', pair), { method: 'POST' }],
      ['the proof is not recent', proofWith('ES256', pair, { iat: now - 61 }), {}],
      ['the proof is for another access token', proofWith('ES256', pair, { ath: sha256('another token') }), {}],
      ['the proof is signed by another key than the token is bound to', { ...proofWith('ES256', pair), jkt: proofWith('ES256', keys.ES384).jkt }, {}],
      ['the proof was already used', proofWith('ES256', pair, { jti: '' }), {}],
      ['the proof signature is invalid', swapSignature(proofWith('ES256', pair), proofWith('ES256', pair)), {}],
      ['a DPoP-bound token needs a DPoP proof', { proof: '', jkt: 'x' }, { proof: undefined }],
      ['the proof is not typed dpop+jwt', withHeader(pair, { typ: 'JWT' }), {}],
      ['unsupported proof algorithm', withHeader(pair, { alg: 'none' }), {}],
      ['unsupported proof algorithm', withHeader(pair, { alg: 'HS256' }), {}],
      ['the proof must carry a public key', withHeader(pair, { jwk: pair.privateKey.export({ format: 'jwk' }) }), {}],
      ['the proof algorithm does not match its key', withHeader(keys.RS256, { alg: 'ES256' }), {}],
      ['the proof algorithm does not match its key', withHeader(keys.ES384, { alg: 'ES256' }), {}],
      ['the proof is not a JWT', { proof: `${Buffer.from('null').toString('base64url')}.e30.AA`, jkt: 'x' }, {}],
      ['the proof signature is invalid', { ...proofWith('ES256', pair), proof: `${proofWith('ES256', pair).proof}!!` }, {}],
    ];
    for (const [reason, made, extra] of cases) assert.throws(() => check(made, new ReplayCache(), extra), { message: reason });
  });
});

describe('DPoP with dpop: "on" (library)', () => {
  for (const [name, provider] of [
    ['the request in the URL (dpop_jkt)', () => plain],
    ['a pushed request (a proof on the push)', () => pushed],
  ] as const) {
    test(`${name}: bound tokens; userinfo, refresh and a protected call carry proofs; the token alone is refused`, async () => {
      const profile = profileFor('dpop');
      const { summary, url } = await signIn(provider(), profile, 'on');
      assert.equal(summary.senderConstrained, true);
      const session = await store.load(profile);
      assert.equal(session?.tokenType, 'dpop');
      assert.equal(session?.dpop?.alg, 'ES256');
      assert.ok(session?.dpop?.privateJwk.d, 'the private key is kept in the keychain entry');
      if (provider() === plain) assert.match(url.searchParams.get('dpop_jkt') ?? '', /^[\w-]{43}$/);

      // Copied out of the keychain, the access token alone is refused.
      const copied = await fetch(userinfoEndpoint(provider()), { headers: { authorization: `Bearer ${session?.accessToken}` } });
      assert.equal(copied.status, 401);
      const asDpopWithoutProof = await fetch(userinfoEndpoint(provider()), { headers: { authorization: `DPoP ${session?.accessToken}` } });
      assert.equal(asDpopWithoutProof.status, 400);

      // With the key: userinfo, a protected call, and a refresh (a public client's refresh token is bound too).
      assert.equal((await readUserInfo(store, profile)).userinfo.email, 'alice@example.com');
      const response = await authorizedFetch(store, profile, userinfoEndpoint(provider()));
      assert.equal(response.status, 200);
      await resourceChecksProofs(provider(), profile, session?.accessToken as string);
      await getAccessToken(store, profile, { force: true });
      const renewed = await store.load(profile);
      assert.notEqual(renewed?.accessToken, session?.accessToken);
      assert.equal(renewed?.tokenType, 'dpop');
      assert.deepEqual(renewed?.dpop, session?.dpop, 'the same key');
      assert.equal((await readUserInfo(store, profile)).userinfo.sub, 'alice');

      const out = await signOut({ profile, store });
      assert.equal(out.revoked, true);
      assert.equal(await store.load(profile), null, 'the key goes with the tokens');
    });
  }

  test('connect-login login --dpop on: status says the tokens are bound; userinfo and a refresh work; a bad --dpop is a usage error', async () => {
    const profile = profileFor('dpop-cli');
    const BROWSER = await browser.command();
    const login = await runCli(['login', '--issuer', plain.issuer, '--client-id', plain.publicClientId, '--dpop', 'on', '--profile', profile, '--json'], { BROWSER });
    assert.equal(login.code, 0, login.stderr);
    assert.equal(jsonOf(login).sender_constrained, true);
    const status = await runCli(['status', '--profile', profile]);
    assert.match(status.stdout, /^ {2}tokens: {7}bound to a key in the keychain \(DPoP\): a copy without the key is refused where DPoP is checked$/m);
    const userinfo = await runCli(['userinfo', '--profile', profile, '--json']);
    assert.equal(userinfo.code, 0, userinfo.stderr);
    assert.equal((jsonOf(userinfo).claims as Record<string, unknown>).sub, 'alice');
    const token = await runCli(['token', '--profile', profile]);
    assert.equal(token.code, 0);
    assert.match(token.stdout, /^[\w-]+\n$/, 'stdout has the token only');
    assert.match(token.stderr, /^note: this access token is bound to a key in the keychain \(DPoP\); servers that check DPoP refuse it without a proof: call them with "connect-login fetch"\.$/m);
    await getAccessToken(store, profile, { force: true });
    assert.equal(jsonOf(await runCli(['status', '--profile', profile, '--json'])).sender_constrained, true);
    // Signing in again keeps the setting it was given.
    const again = await runCli(['login', '--profile', profile, '--json'], { BROWSER });
    assert.equal(jsonOf(again).sender_constrained, true);

    const bad = await runCli(['login', '--issuer', plain.issuer, '--client-id', plain.publicClientId, '--dpop', 'yes', '--profile', profileFor('dpop-bad'), '--json']);
    assert.equal(bad.code, 2);
    assert.match(String(jsonOf(bad).error_description), /--dpop takes auto, on, off, not "yes"/);
  });

  test('a provider that wants a nonce in every proof: the first proof is refused, the retry with its nonce works', async () => {
    const profile = profileFor('dpop-nonce');
    const { summary } = await signIn(nonced, profile, 'on');
    assert.equal(summary.senderConstrained, true);
    assert.equal((await readUserInfo(store, profile)).userinfo.sub, 'alice');
    // The resource server wants its own nonce too: the first call is answered use_dpop_nonce, the retry carries it.
    const api = `${nonced.issuer}/api/resource`;
    const bare = await fetch(api, { headers: { authorization: `DPoP ${(await store.load(profile))?.accessToken}` } });
    assert.equal(bare.status, 401);
    for (let i = 0; i < 2; i++) assert.equal((await authorizedFetch(store, profile, api, { method: 'POST', body: 'x' })).status, 200);
    await getAccessToken(store, profile, { force: true });
    assert.equal((await store.load(profile))?.tokenType, 'dpop');
  });

  test('a client the provider binds by registration (dpop_bound_access_tokens): off is refused at the exchange; auto and on work', async () => {
    await assert.rejects(signIn(plain, profileFor('dpop-required-off'), 'off', DPOP_CLIENT_ID), (e: { code: string; message: string }) => {
      // The provider says no more than invalid_grant; docs/troubleshooting.md names DPoP as a cause.
      assert.equal(e.code, 'invalid_grant');
      return true;
    });
    for (const mode of ['auto', 'on'] as const) {
      const { summary } = await signIn(plain, profileFor(`dpop-required-${mode}`), mode, DPOP_CLIENT_ID);
      assert.equal(summary.senderConstrained, true, mode);
    }
  });

  test('the key lost or replaced: the next renewal is refused by the provider and the profile is signed out cleanly', async () => {
    const profile = profileFor('dpop-key-lost');
    await signIn(plain, profile, 'on');
    const session = await store.load(profile);
    assert.ok(session?.dpop);
    const other = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    await store.save(profile, {
      ...session,
      dpop: { alg: 'ES256', privateJwk: await webcrypto.subtle.exportKey('jwk', other.privateKey), publicJwk: await webcrypto.subtle.exportKey('jwk', other.publicKey) },
    });
    await assert.rejects(getAccessToken(store, profile, { force: true }), (e: { code: string }) => e.code === 'session_expired');
    assert.equal(await store.load(profile), null);
  });

  test('the key\'s algorithm is one the provider accepts: Ed25519 or PS256 alone work end to end; "EdDSA" alone is not offered a key', async () => {
    for (const alg of ['Ed25519', 'PS256'] as const) {
      const only = await startTestProvider({ dpopAlgorithms: [alg] });
      try {
        const profile = profileFor(`dpop-${alg}`);
        const { summary } = await signIn(only, profile, 'auto');
        assert.equal(summary.senderConstrained, true, alg);
        assert.equal((await store.load(profile))?.dpop?.alg, alg);
        assert.equal((await readUserInfo(store, profile)).userinfo.sub, 'alice', alg);
        await getAccessToken(store, profile, { force: true });
        const called = (await (await authorizedFetch(store, profile, `${only.issuer}/api/resource`)).json()) as { sub: string };
        assert.equal(called.sub, 'alice', alg);
      } finally {
        await only.close();
      }
    }
    // openid-client labels an Ed25519 proof "Ed25519" (RFC 9864); a provider that knows only "EdDSA" would refuse it.
    const older = await startTestProvider({ dpopAlgorithms: ['EdDSA'] });
    try {
      const { summary } = await signIn(older, profileFor('dpop-eddsa-auto'), 'auto');
      assert.equal(summary.senderConstrained, false, 'auto: Bearer tokens rather than proofs it would refuse');
      const opened: string[] = [];
      const on = startSignIn({
        settings: { issuer: older.issuer, clientId: older.publicClientId, dpop: 'on' },
        profile: profileFor('dpop-eddsa-on'),
        store,
        browser: { open: async (url) => void opened.push(url) },
      });
      await assert.rejects(on.result, {
        code: 'invalid_settings',
        message: 'DPoP is on, but the provider accepts DPoP proofs signed only with EdDSA, none of which this client can make (ES256, Ed25519, ES384, PS256, RS256).',
      });
      assert.deepEqual(opened, [], 'refused before the browser opened');
    } finally {
      await older.close();
    }
  });

  test('the key gone from the keychain entry: the saved sign-in is refused as damaged, nothing is sent, and a new sign-in works', async () => {
    const profile = profileFor('dpop-key-gone');
    await signIn(plain, profile, 'on');
    const { dpop: _gone, ...withoutKey } = (await store.load(profile)) as NonNullable<Awaited<ReturnType<typeof store.load>>>;
    await store.save(profile, withoutKey);
    const status = await runCli(['status', '--profile', profile, '--json']);
    assert.equal(status.code, 1);
    assert.equal(jsonOf(status).error, 'stored_session_invalid');
    await assert.rejects(authorizedFetch(store, profile, `${plain.issuer}/api/resource`), { code: 'stored_session_invalid' });
    const again = await signIn(plain, profile, 'on');
    assert.equal(again.summary.senderConstrained, true);
  });

  test('a key kept with a Bearer access token (a provider that binds only the refresh token, RFC 9449 §5): the renewal carries a proof; calls send the token as Bearer', async () => {
    const adversary = await startAdversary();
    try {
      const profile = profileFor('dpop-refresh-only');
      const opened = startSignIn({
        settings: { issuer: adversary.issuer, clientId: adversary.provider.publicClientId, dpop: 'on' },
        profile,
        store,
        browser: browser.opener(),
        timeoutMs: 60_000,
      });
      await opened.result;
      const session = await store.load(profile);
      assert.ok(session?.dpop);
      // As such a provider would have answered: the access token a Bearer token, the key kept.
      await store.save(profile, { ...session, tokenType: 'Bearer' });
      assert.equal((await createClient({ profile, store }).status())?.senderConstrained, false, 'status says what the access token is');
      const before = adversary.seen.length;
      await getAccessToken(store, profile, { force: true });
      const renewal = adversary.seen.slice(before).find((r) => r.endpoint === 'token');
      assert.match(renewal?.dpop ?? '', /^ey/, 'the renewal carried a proof');
      assert.equal((await store.load(profile))?.tokenType, 'dpop', 'and this provider bound the renewed access token');
    } finally {
      await adversary.close();
    }
  });

  test('dpop: "off" keeps Bearer tokens and no key', async () => {
    const profile = profileFor('dpop-off');
    const { summary } = await signIn(plain, profile, 'off');
    assert.equal(summary.senderConstrained, false);
    const session = await store.load(profile);
    assert.equal(session?.tokenType, 'bearer');
    assert.equal(session?.dpop, undefined);
  });
});
