// Learning the provider once (provider-cache.ts): the discovery document, keys and clock are kept
// between runs, so a cold `connect-login token` that renews makes one request to the provider; a
// provider that rotated its keys is followed; an endpoint that is gone makes the client learn again;
// a damaged cache costs requests, never a sign-in.
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { keepSeconds, providerCacheDir, readProviderCache, DEFAULT_KEEP_SECONDS, MAX_KEEP_SECONDS } from '../src/provider/provider-cache.js';
import { publicJwk, reSignIdToken } from './support/adversary.js';
import { adversarialSession } from './support/adversarial-session.js';
import { runCli } from './support/cli.js';

const fixture = adversarialSession();
const { store } = fixture;

async function expire(profile: string): Promise<void> {
  const session = await store.load(profile);
  assert.ok(session?.refreshToken);
  await store.save(profile, { ...session, expiresAt: Math.floor(Date.now() / 1000) - 60 });
}

/** Signed in with the adversary's answers cacheable, the access token expired, the request log empty. */
async function cachedSession(label: string): Promise<string> {
  const { adversary } = fixture;
  adversary.reset();
  adversary.tamper = { cacheable: true };
  const profile = fixture.profileFor(label);
  const outcome = await fixture.signInCore(profile, { scope: 'openid offline_access' });
  assert.ok(outcome.sub, JSON.stringify(outcome));
  await expire(profile);
  adversary.seen.length = 0;
  return profile;
}

describe('the provider learned once', () => {
  test('a cold connect-login token that renews makes exactly one request to the provider', async () => {
    const profile = await cachedSession('one-request');
    const result = await runCli(['token', '--profile', profile]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(
      fixture.adversary.seen.map((r) => r.endpoint),
      ['token'],
      'no discovery and no keys: both came from the cache',
    );
    const again = await runCli(['token', '--profile', profile]);
    assert.equal(again.stdout, result.stdout);
    assert.equal(fixture.adversary.seen.length, 1, 'a fresh token needs no request at all');
  });

  test('the provider rotated its signing key: the kept keys lack it, so they are fetched once again', async () => {
    const profile = await cachedSession('rotated');
    const { adversary } = fixture;
    const next = adversary.keys.otherRsa;
    adversary.tamper = {
      cacheable: true,
      token: (body, grant) => (grant === 'refresh_token' ? reSignIdToken(next, ({ header }) => (header.kid = next.jwk.kid as string))(body) : body),
      jwks: (jwks) => ({ keys: [...jwks.keys, publicJwk(next)] }),
    };
    const result = await runCli(['token', '--profile', profile]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(adversary.seen.map((r) => r.endpoint), ['token', 'jwks']);
    assert.equal((await store.load(profile))?.pendingRefresh, undefined);
  });

  test('an endpoint the kept document names answers 404: the document is forgotten and learned again next time', async () => {
    const profile = await cachedSession('moved');
    const { adversary } = fixture;
    adversary.tamper = { cacheable: true, fault: (endpoint) => (endpoint === 'token' ? { status: 404, body: 'gone' } : undefined) };
    const failed = await runCli(['token', '--profile', profile]);
    assert.equal(failed.code, 1);
    assert.equal(readProviderCache(adversary.issuer).document, undefined, 'forgotten');
    adversary.tamper = { cacheable: true };
    adversary.seen.length = 0;
    const result = await runCli(['token', '--profile', profile]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(adversary.seen.map((r) => r.endpoint), ['discovery', 'token', 'jwks'], 'document and keys learned again');
  });

  test('a damaged cache file is ignored: the provider is asked again, and the sign-in works', async () => {
    const profile = await cachedSession('damaged');
    const dir = providerCacheDir();
    mkdirSync(dir, { recursive: true });
    for (const name of readdirSync(dir)) writeFileSync(join(dir, name), '{"version":1,"issuer":');
    const result = await runCli(['token', '--profile', profile]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(fixture.adversary.seen.map((r) => r.endpoint), ['discovery', 'token', 'jwks']);
  });

  test('kept only as long as the answer allows: no-store, max-age, Age, a bounded default and a cap', () => {
    const keep = (headers: Record<string, string>) => keepSeconds(new Headers(headers));
    assert.equal(keep({ 'Cache-Control': 'no-store' }), 0);
    assert.equal(keep({ 'Cache-Control': 'public, no-cache' }), 0);
    assert.equal(keep({ 'Cache-Control': 'max-age=0' }), 0);
    assert.equal(keep({ 'Cache-Control': 'public, max-age=3600' }), 3600);
    assert.equal(keep({ 'Cache-Control': 'max-age=3600', Age: '600' }), 3000);
    assert.equal(keep({ 'Cache-Control': 'max-age=99999999' }), MAX_KEEP_SECONDS);
    assert.equal(keep({}), DEFAULT_KEEP_SECONDS);
  });
});
