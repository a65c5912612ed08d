// No secret in any output: the whole flow with every diagnostic on (CONNECT_DEBUG=1), through the CLI
// and through the core behind the app's window. The adversarial provider records every secret that
// exists in the flow (authorization codes, PKCE verifiers, access, refresh and ID tokens, the client
// secret); none of them may appear in stdout, stderr, debug lines or anything the renderer is sent.
// The one exception is by design: `connect-login token` prints the access token on stdout.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setDebugSink } from '../src/common/debug.js';
import { createDesktopClient } from '../src/app/desktop-client.js';
import { decodeJwt, reSignIdToken, type Json } from './support/adversary.js';
import { adversarialSession } from './support/adversarial-session.js';
import { runCli, type CliResult } from './support/cli.js';

// Access tokens live 2 seconds, so the flow refreshes too.
const fixture = adversarialSession({ accessTokenTtl: 2 });
const { store, profileFor } = fixture;
const tokenResponses: Json[] = [];

const recordTokens = (body: Json) => (tokenResponses.push(body), body);
/** The private parts of the DPoP keys the sessions held. */
const dpopKeys: string[] = [];

/** Every secret the provider and client exchanged so far. */
function secrets(extra: string[] = []): string[] {
  const found = new Set<string>(extra);
  for (const code of fixture.adversary.codes) found.add(code);
  for (const request of fixture.adversary.seen.filter((r) => r.endpoint === 'token')) {
    const params = new URLSearchParams(request.body);
    for (const name of ['code', 'code_verifier', 'refresh_token', 'client_secret']) {
      const value = params.get(name);
      if (value) found.add(value);
    }
  }
  for (const body of tokenResponses) {
    for (const name of ['access_token', 'refresh_token', 'id_token']) if (typeof body[name] === 'string') found.add(body[name]);
    // The ID token's signature alone is enough to replay it: look for that part too.
    if (typeof body.id_token === 'string') found.add(decodeJwt(body.id_token).signature);
  }
  return [...found].filter((s) => s.length >= 16);
}

function assertNoSecret(outputs: string[], known: string[]): void {
  assert.ok(known.length >= 8, `the flow produced secrets to look for (${known.length})`);
  for (const [index, output] of outputs.entries()) {
    for (const secret of known) {
      assert.ok(!output.includes(secret), `output #${index} contains a secret (${secret.slice(0, 4)}…): ${output.slice(0, 300)}`);
    }
  }
}

describe('no token, code or secret in any output', () => {
  test('connect-login with CONNECT_DEBUG=1: login, status, userinfo with a refresh, fetch, a refused login, logout everywhere', async () => {
    fixture.adversary.reset();
    fixture.adversary.tamper = { token: recordTokens };
    const profile = profileFor('secrets-cli');
    const clientSecret = fixture.adversary.provider.confidentialClientSecret;
    const env = async () => ({ BROWSER: await fixture.browser.command(), CONNECT_DEBUG: '1', CONNECT_TEST_SECRET: clientSecret });
    const login = ['login', '--issuer', fixture.adversary.issuer, '--client-id', fixture.adversary.provider.confidentialClientId,
      '--client-secret-env', 'CONNECT_TEST_SECRET', '--profile', profile];
    const outputs: CliResult[] = [];
    const run = async (args: string[]) => {
      const result = await runCli(args, await env());
      outputs.push(result);
      return result;
    };

    assert.equal((await run(login)).code, 0, outputs.at(-1)?.stderr);
    assert.match(outputs.at(-1)?.stderr ?? '', /debug: http: POST http:\/\/127\.0\.0\.1:\d+\/oauth\/token -> 200/, 'debug lines are on');
    assert.equal((await run([...login, '--json'])).code, 0);
    for (const args of [['status'], ['status', '--json'], ['userinfo', '--json']]) await run([...args, '--profile', profile]);
    await new Promise((r) => setTimeout(r, 2500));
    const refreshing = await run(['userinfo', '--profile', profile]);
    assert.equal(refreshing.code, 0, refreshing.stderr);
    assert.ok(fixture.adversary.seen.some((r) => r.endpoint === 'token' && r.body.includes('grant_type=refresh_token')), 'a refresh happened');
    assert.equal((await run(['fetch', `${fixture.adversary.issuer}/api/resource`, '-i', '--profile', profile])).code, 0);

    // The one command that prints a token, by design; it prints exactly that.
    const token = await runCli(['token', '--profile', profile], await env());
    const current = await store.load(profile);
    assert.equal(token.stdout, `${current?.accessToken}\n`);
    // The DPoP key's private part is a secret too (bound by default here: the provider offers DPoP).
    const privateKey = current?.dpop?.privateJwk.d;
    assert.ok(privateKey, 'the session is DPoP-bound');
    dpopKeys.push(privateKey);
    assert.doesNotMatch(token.stderr, new RegExp(current?.accessToken as string));

    // A sign-in refused for a bad ID token: the error names the problem, not the tokens.
    fixture.adversary.tamper = { token: (body) => reSignIdToken(fixture.adversary.keys.otherRsa)(recordTokens(body)) };
    const refused = await run([...login.slice(0, -1), profileFor('secrets-refused'), '--json']);
    assert.equal(refused.code, 1);
    fixture.adversary.tamper = { token: recordTokens };

    const logout = await run(['logout', '--everywhere', '--profile', profile, '--json']);
    assert.equal(logout.code, 0, logout.stderr);
    assertNoSecret(outputs.flatMap((o) => [o.stdout, o.stderr]), secrets([clientSecret, ...dpopKeys]));
  });

  test('the core behind the app window: every result the renderer is sent, and every debug line', async () => {
    fixture.adversary.reset();
    fixture.adversary.tamper = { token: recordTokens };
    const lines: string[] = [];
    setDebugSink((line) => lines.push(line));
    const client = createDesktopClient({
      settings: { issuer: fixture.adversary.issuer, clientId: fixture.adversary.provider.publicClientId },
      profile: profileFor('secrets-app'),
      store,
      browser: fixture.browser.opener(),
      platform: 'linux',
    });
    try {
      const sent: unknown[] = [];
      sent.push(await client.state());
      sent.push(await client.signIn());
      sent.push(await client.state());
      await new Promise((r) => setTimeout(r, 2500));
      sent.push(await client.refresh());
      sent.push(await client.reloadUserInfo());
      sent.push(await client.settings());
      sent.push(await client.signOut(true));
      for (const result of sent) assert.ok((result as { ok: boolean }).ok, JSON.stringify(result));
      assert.ok(lines.some((l) => l.startsWith('keychain: wrote')), 'debug lines were written');
      assertNoSecret([...sent.map((r) => JSON.stringify(r)), ...lines], secrets());
    } finally {
      setDebugSink(undefined);
      client.dispose();
    }
  });
});
