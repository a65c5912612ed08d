// The library as a developer uses it (createClient), the CLI's userinfo and fetch, and the examples,
// against the demo provider and its protected resource.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { systemBrowser } from '../src/browser/opener.js';
import { createClient, type ClientEvent } from '../src/client.js';
import { CLIENT_ERROR_CODES, type ConnectError } from '../src/common/errors.js';
import { keychainStore } from '../src/secret-store/keychain.js';
import { TokenStore } from '../src/session/token-store.js';
import { startTestProvider, type TestProvider } from './provider/provider.js';
import { ROOT, browserUser, jsonOf, profileTracker, runCli, testProfile } from './support/cli.js';
import { NO_ELECTRON, electronBinary } from './support/electron.js';
import { SharedBrowser } from './support/shared-browser.js';

let provider: TestProvider;
let user: SharedBrowser;
let refreshes = 0;
const store = new TokenStore(keychainStore());
const { profileFor, signOutAll } = profileTracker();

before(async () => {
  provider = await startTestProvider();
  provider.provider.on('grant.success', (ctx: { oidc: { params?: { grant_type?: unknown } } }) => {
    if (ctx.oidc.params?.grant_type === 'refresh_token') refreshes++;
  });
  user = await SharedBrowser.start();
});

after(async () => {
  await signOutAll();
  await user.close();
  await provider.close();
});

describe('createClient', () => {
  test('sign in, events, status, userInfo, fetch with a retry after invalid_token, sign out', async () => {
    const profile = profileFor('library');
    const client = createClient({
      settings: { issuer: provider.issuer, clientId: provider.publicClientId },
      profile,
      store,
      browser: user.opener(),
      timeoutMs: 30_000,
    });
    const events: ClientEvent[] = [];
    client.on((event) => events.push(event));
    assert.equal(await client.status(), null);

    const session = await client.signIn();
    assert.equal(session.sub, 'alice');
    assert.equal(session.senderConstrained, true, 'dpop "auto" by default: the demo provider offers DPoP');
    assert.deepEqual(
      events.map((e) => (e.type === 'sign-in' ? `sign-in:${e.event.type}` : e.type === 'attempt-changed' ? `attempt:${e.attempt}` : e.type)),
      ['attempt:browser', 'sign-in:browser-opening', 'sign-in:waiting', 'sign-in:exchanging', 'signed-in', 'attempt:null'],
    );
    assert.equal((await client.status())?.sub, 'alice');
    assert.equal((await client.userInfo()).email, 'alice@example.com');

    const api = `${provider.issuer}/api/resource`;
    const first = await client.fetch(api, { method: 'POST', body: 'hello', headers: { 'Content-Type': 'text/plain' } });
    assert.equal(first.status, 200);
    assert.deepEqual(await first.json(), { sub: 'alice', scope: 'openid profile email offline_access', method: 'POST', body: 'hello', contentType: 'text/plain' });

    // The resource server stops accepting the token before it expires (the provider dropped just that
    // access token; RFC 7009 revocation would end the whole grant here): one renewal, one retry.
    const token = await client.getAccessToken();
    await (await provider.provider.AccessToken.find(token))?.destroy();
    const before = refreshes;
    const retried = await client.fetch(api);
    assert.equal(retried.status, 200);
    assert.equal(refreshes - before, 1);
    assert.notEqual(await client.getAccessToken(), token);
    assert.ok(events.some((e) => e.type === 'refreshed'));

    await assert.rejects(client.fetch('http://resource.example.com/api'), (e: ConnectError) => e.code === 'resource_not_allowed');
    // An https origin the profile does not allow gets nothing either (the token is the issuer's and resourceOrigins' only).
    await assert.rejects(client.fetch('https://api.example.com/me'), (e: ConnectError) => e.code === 'resource_not_allowed' && /Nothing was sent/.test(e.message));
    await assert.rejects(client.submitCode('x'), (e: ConnectError) => e.code === 'no_pending_attempt');

    const stored = await store.load(profile);
    const out = await client.signOut();
    assert.equal(out.revoked, true);
    assert.equal(events.at(-1)?.type, 'signed-out');
    assert.equal(await client.status(), null);
    const seen = JSON.stringify(events);
    assert.ok(stored && !seen.includes(stored.accessToken) && !seen.includes(stored.refreshToken as string), 'events carry no token');
  });
});

describe('createClient for an app of your own', () => {
  test('appName is on the browser page after the sign-in; the tokens go under keychainService', async () => {
    const { keychainEntries } = await import('../src/secret-store/keychain.js');
    const profile = profileFor('own-app');
    const user = browserUser({ user: 'alice' });
    const client = createClient({
      settings: { issuer: provider.issuer, clientId: provider.publicClientId },
      profile,
      appName: 'Acme Notes',
      keychainService: 'acme-notes-tests',
      browser: systemBrowser({ BROWSER: user.BROWSER }),
    });
    assert.equal((await client.signIn()).sub, 'alice');
    assert.match((await user.report()).text ?? '', /return to Acme Notes\./);
    const own = await keychainEntries('acme-notes-tests').list();
    assert.ok(own.some((account) => account.includes(profile)), own.join(', '));
    assert.equal(await store.load(profile), null, 'nothing under the template\'s own service');
    await client.signOut();
    assert.deepEqual((await keychainEntries('acme-notes-tests').list()).filter((a) => a.includes(profile)), []);
  });
});

describe('createClient: one client owns the attempt, the session and its renewal', () => {
  test('keepFresh renews in the background and says so; a renewal the provider refuses signs out with a signed-out event; one attempt at a time', async () => {
    const shortLived = await startTestProvider({ accessTokenTtl: 4 });
    const profile = profileFor('library-keep-fresh');
    const client = createClient({
      settings: { issuer: shortLived.issuer, clientId: shortLived.publicClientId },
      profile,
      store,
      keepFresh: true,
      browser: systemBrowser({ BROWSER: browserUser({ user: 'alice' }).BROWSER }),
    });
    const events: ClientEvent[] = [];
    client.on((event) => events.push(event));
    try {
      const signingIn = client.signIn();
      assert.equal(client.attempt, 'browser');
      await assert.rejects(client.signIn(), { code: 'sign_in_in_progress' });
      await assert.rejects(client.signInOnAnotherDevice({ onCode: () => {} }), { code: 'sign_in_in_progress' });
      const first = await signingIn;
      assert.equal(client.attempt, null);
      const renewed = await new Promise<ClientEvent>((resolve) => client.on((e) => e.type === 'refreshed' && resolve(e)));
      assert.ok(renewed.type === 'refreshed' && (renewed.session.expiresAt as number) > (first.expiresAt as number), 'renewed before it expired');
      assert.equal((await client.status())?.expiresAt, renewed.session.expiresAt, 'status follows without reading the keychain again');

      // The grant ended at the provider: the next background renewal is refused, and the client says so.
      const session = await store.load(profile);
      const grantId = (await shortLived.provider.AccessToken.find(session?.accessToken as string))?.grantId as string;
      await (await shortLived.provider.Grant.find(grantId))?.destroy();
      await shortLived.provider.RefreshToken.revokeByGrantId?.(grantId);
      const ended = await new Promise<ClientEvent>((resolve) => client.on((e) => e.type === 'signed-out' && resolve(e)));
      assert.deepEqual(ended, { type: 'signed-out', result: null });
      assert.ok(events.some((e) => e.type === 'error' && e.error.code === 'session_expired'), 'the error is told too');
      assert.equal(await client.status(), null);
      assert.equal(await store.load(profile), null);
    } finally {
      client.dispose();
      await shortLived.close();
    }
  });

  test('an issuer typed with a trailing slash: the session keeps the provider\'s own, so a renewal\'s ID token matches it; a renewal by another process is told as refreshed', async () => {
    const profile = profileFor('library-issuer-slash');
    const client = createClient({
      settings: { issuer: `${provider.issuer}/`, clientId: provider.publicClientId },
      profile,
      store,
      browser: systemBrowser({ BROWSER: browserUser({ user: 'alice' }).BROWSER }),
    });
    const events: ClientEvent[] = [];
    client.on((event) => events.push(event));
    assert.equal((await client.signIn()).issuer, provider.issuer);
    await client.refresh();
    assert.equal((await client.status())?.issuer, provider.issuer, 'still signed in after a renewal with an ID token');
    const seen = events.filter((e) => e.type === 'refreshed').length;
    // Another process renews (the same core, outside this client): the client's next call says so.
    const { getAccessToken: renewElsewhere } = await import('../src/steps/access-token.js');
    const elsewhere = await renewElsewhere(store, profile, { force: true });
    assert.equal(await client.getAccessToken(), elsewhere);
    assert.equal(events.filter((e) => e.type === 'refreshed').length, seen + 1);
    await client.signOut();
  });

  test('without settings, a sign-in uses the ones the profile last signed in with; never signed in: invalid_settings', async () => {
    const profile = profileFor('library-again');
    const browser = systemBrowser({ BROWSER: browserUser({ user: 'bob' }).BROWSER });
    await createClient({ settings: { issuer: provider.issuer, clientId: provider.publicClientId, scope: 'openid email' }, profile, store, browser }).signIn();
    const again = await createClient({ profile, store, browser: systemBrowser({ BROWSER: browserUser({ user: 'bob' }).BROWSER }) }).signIn();
    assert.equal(again.scope, 'openid email');
    await assert.rejects(createClient({ profile: profileFor('library-never'), store }).signIn(), {
      code: 'invalid_settings',
      message: /was never signed in/,
    });
  });
});

describe('createClient({ settings: { dpop } })', () => {
  test('"off" keeps Bearer tokens, which the demo resource takes as Bearer; "on" binds them, and fetch sends proofs', async () => {
    for (const dpop of ['off', 'on'] as const) {
      const profile = profileFor(`library-dpop-${dpop}`);
      const client = createClient({
        settings: { issuer: provider.issuer, clientId: provider.publicClientId, dpop },
        profile,
        store,
        browser: systemBrowser({ BROWSER: browserUser({ user: 'alice' }).BROWSER }),
      });
      assert.equal((await client.signIn()).senderConstrained, dpop === 'on');
      assert.equal((await client.status())?.senderConstrained, dpop === 'on');
      const bare = await fetch(`${provider.issuer}/api/resource`, { headers: { authorization: `Bearer ${await client.getAccessToken()}` } });
      assert.equal(bare.status, dpop === 'on' ? 401 : 200, 'the bare token works only when it is not bound');
      assert.equal((await client.fetch(`${provider.issuer}/api/resource`)).status, 200);
      await client.signOut();
    }
  });
});

describe('connect-login userinfo and fetch', () => {
  test('userinfo prints the claims; fetch prints the response like curl, -i with status and headers', async () => {
    const profile = profileFor('cli-fetch');
    const login = await runCli(['login', '--issuer', provider.issuer, '--client-id', provider.publicClientId, '--profile', profile], {
      BROWSER: browserUser({ user: 'bob' }).BROWSER,
    });
    assert.equal(login.code, 0, login.stderr);

    const info = await runCli(['userinfo', '--profile', profile, '--json']);
    assert.equal(info.code, 0, info.stderr);
    assert.equal((jsonOf(info).claims as { email: string }).email, 'bob@example.com');
    const text = await runCli(['userinfo', '--profile', profile]);
    assert.match(text.stdout, /^name: Bob Example$/m);

    const api = `${provider.issuer}/api/resource`;
    const get = await runCli(['fetch', api, '--profile', profile]);
    assert.equal(get.code, 0, get.stderr);
    assert.equal(JSON.parse(get.stdout).sub, 'bob');

    const post = await runCli(['fetch', api, '-X', 'PUT', '-H', 'Content-Type: application/json', '-d', '{"a":1}', '-i', '--profile', profile]);
    assert.equal(post.code, 0, post.stderr);
    const [head, body] = post.stdout.split('\r\n\r\n');
    assert.match(head ?? '', /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(head ?? '', /\r\nx-resource: demo(\r\n|$)/);
    assert.deepEqual(JSON.parse(body ?? ''), { sub: 'bob', scope: 'openid profile email offline_access', method: 'PUT', body: '{"a":1}', contentType: 'application/json' });
    assert.ok(!post.stdout.includes('Bearer'), 'the token is not printed');

    const bad = await runCli(['fetch', api, '-H', 'no colon', '--profile', profile]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /-H takes "Name: value"/);
    const signedOut = await runCli(['fetch', api, '--profile', testProfile('nobody')]);
    assert.equal(signedOut.code, 1);
    assert.match(signedOut.stderr, /^error: not_signed_in: /m);
  });
});

describe('examples', () => {
  test('examples/node-loopback.mjs signs in, calls the API and signs out against the demo provider', async () => {
    const profile = profileFor('example');
    const child = spawn(process.execPath, [join(ROOT, 'examples/node-loopback.mjs'), provider.issuer, provider.publicClientId, `${provider.issuer}/api/resource`], {
      cwd: ROOT,
      env: { ...process.env, CONNECT_PROFILE: profile, BROWSER: browserUser({ user: 'alice' }).BROWSER },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, out);
    assert.match(out, /^Opening your browser to sign in\.\.\.\nSigned in as Alice Example\.\nGET .*\/api\/resource: 200 \{"sub":"alice",.*\}\nSigned out; the tokens were revoked\.\n$/);
  });

  test('examples/electron-main.mjs is a minimal main process (under 60 lines) on the public API', () => {
    const source = readFileSync(join(ROOT, 'examples/electron-main.mjs'), 'utf8');
    assert.ok(source.split('\n').length < 60);
    const imports = [...source.matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
    assert.deepEqual(imports, ['electron', 'connect-desktop']);
    assert.match(source, /redirectUri: `\$\{scheme\}:\/\/connect\/oauth2callback`/);
    assert.match(source, /client\.deliverRedirect\(url\)/);
  });

  test('examples/electron-main.mjs follows Electron\'s lifecycle: it evaluates, then opens its window and the browser', async () => {
    // Under the stand-in electron (support/electron-standin.ts), as the app's own main process is.
    const { scenario, startMain } = await import('./support/electron-main.js');
    const main = startMain(scenario(), { CONNECT_STANDIN_MAIN: join(ROOT, 'examples/electron-main.mjs'), ISSUER: provider.issuer, CLIENT_ID: provider.publicClientId });
    try {
      await main.waitFor((e) => e.type === 'loaded' && e.url === 'data:', 'its window\'s page');
      const opened = await main.waitFor((e) => e.type === 'open-external', 'the system browser opened');
      assert.equal(opened.origin, provider.issuer);
      assert.ok(main.events.some((e) => e.type === 'set-protocol-client' && e.scheme === provider.publicClientId));
    } finally {
      await main.stop();
    }
  });

  test('examples/electron-main.mjs runs in Electron', { skip: electronBinary() ? false : NO_ELECTRON }, async () => {
    const { _electron: electron } = await import('playwright-core');
    const app = await electron.launch({
      executablePath: electronBinary() as string,
      args: [join(ROOT, 'examples/electron-main.mjs'), '--no-sandbox'],
      env: { ...process.env, ISSUER: provider.issuer },
    });
    const window = await app.firstWindow();
    assert.match(await window.content(), /Finish signing in in your browser/);
    await app.close();
  });
});

describe('the package a template user installs', () => {
  test('npm pack ships the built library, its types, identity.json and the guides; no tests, screenshots or source maps', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT });
    const [pack] = JSON.parse(stdout) as [{ unpackedSize: number; files: { path: string }[] }];
    const files = pack.files.map((f) => f.path);
    for (const needed of ['dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/bundle/connect-login.js', 'identity.json', 'README.md', 'docs/library.md', 'docs/make-it-yours.md']) {
      assert.ok(files.includes(needed), needed);
    }
    assert.deepEqual(files.filter((f) => /^(test|src|renderer)\/|^dist\/test\/|\.map$|screenshots|fuzz/.test(f)), []);
    assert.ok(pack.unpackedSize < 1_000_000, `${pack.unpackedSize} bytes`);
    // A strict TypeScript consumer needs Node's types for ours.
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    assert.ok(pkg.dependencies['@types/node']);
  });
});

describe('guides', () => {
  test('the package exports exactly what docs/library.md lists, and no internals', async () => {
    const api = (await import(pathToFileURL(join(ROOT, 'dist/src/index.js')).href)) as Record<string, unknown>;
    const declarations = readFileSync(join(ROOT, 'dist/src/index.d.ts'), 'utf8');
    const doc = readFileSync(join(ROOT, 'docs/library.md'), 'utf8');
    const listed = doc.slice(doc.indexOf('**What the package exports**'), doc.indexOf('The core\'s steps below the client'));
    const names = [...listed.matchAll(/`([A-Za-z_]+)`/g)].map((m) => m[1] as string).filter((n) => n !== 'src');
    assert.ok(names.length > 40, 'the list was found');
    for (const name of Object.keys(api)) assert.ok(names.includes(name), `${name} is exported but not listed`);
    for (const name of names) assert.match(declarations, new RegExp(`\\b${name}\\b`), `${name} is listed but not exported`);
    for (const internal of ['createDesktopClient', 'refreshMargin', 'startSignIn', 'freshSession', 'authorizedFetch', 'LoopbackReceiver']) {
      assert.equal(internal in api, false, internal);
    }
  });

  test('every error code has its cause and fix in docs/troubleshooting.md', () => {
    const codes = [...CLIENT_ERROR_CODES];
    assert.ok(codes.length > 20);
    const guide = readFileSync(join(ROOT, 'docs/troubleshooting.md'), 'utf8');
    const missing = codes.filter((code) => !guide.includes(`\`${code}\``));
    assert.deepEqual(missing, []);
  });

  test('the README links every guide', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    for (const guide of ['architecture', 'redirect-kinds', 'your-provider', 'platform-notes', 'troubleshooting', 'library', 'make-it-yours']) {
      assert.match(readme, new RegExp(`\\(docs/${guide}\\.md\\)`), guide);
    }
  });
});
