// The compatibility table of docs/providers.md, measured. Each row is a flow run against each provider
// the tests stand up, the demo oidc-provider and Glewlwyd (Debian's, set up from scratch by
// glewlwyd.ts), through connect-login and the library, with the real browser and keychain. The last
// test compares what was measured with the table in the docs, so the docs cannot claim what a provider
// does not do, nor miss what it does.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { getAccessToken } from '../../src/steps/access-token.js';
import { IDENTITY } from '../../src/config/identity.js';
import { keychainStore } from '../../src/secret-store/keychain.js';
import { TokenStore } from '../../src/session/token-store.js';
import { startTestProvider } from '../provider/provider.js';
import { CLI, browserUser, jsonOf, profileTracker, runCli, startCli } from '../support/cli.js';
import { SharedBrowser } from '../support/shared-browser.js';
import { glewlwydAvailable, startGlewlwyd } from './glewlwyd.js';
import { freePort } from '../support/free-port.js';

/** One provider under test, as the flows need it. */
interface Subject {
  issuer: string;
  clientId: string;
  password: string;
  /** Registered loopback redirect URIs with a fixed port (the any-port default is measured apart). */
  redirectUri: string;
  postLogoutRedirectUri: string;
  close(): Promise<void>;
}

const COLUMNS = ['oidc-provider (demo)', 'Glewlwyd 2.7'] as const;
type Column = (typeof COLUMNS)[number];

const ROWS = [
  'Discovery',
  'PKCE S256',
  'Loopback redirect, fixed port',
  'Loopback redirect, any port (RFC 8252 §7.3)',
  '`iss` in the authorization response (RFC 9207)',
  'Userinfo',
  'Refresh token rotation',
  'Revocation by a public client (RFC 7009)',
  'A refused refresh token: the answer',
  'Single sign-on logout (RP-initiated)',
  'Post-logout redirect, any port',
  'Custom URI scheme redirect',
  'oob: a page with the code to paste',
  'Pushed authorization requests (RFC 9126)',
  'Device grant (RFC 8628)',
  'DPoP (RFC 9449)',
  'Dynamic registration (RFC 7591)',
] as const;
type Row = (typeof ROWS)[number];

const measured = new Map<Row, Partial<Record<Column, string>>>();
function record(row: Row, column: Column, cell: string): void {
  measured.set(row, { ...measured.get(row), [column]: cell });
}

const subjects = new Map<Column, Subject>();
const { profileFor, signOutAll } = profileTracker();
const store = new TokenStore(keychainStore());
/** The user's everyday browser: the provider's single sign-on session lives on in it, as logout needs. */
let browser: SharedBrowser;

const SCHEME_URI = `${IDENTITY.scheme}://connect/oauth2callback`;
const OOB = 'urn:ietf:wg:oauth:2.0:oob';
const skipGlewlwyd = glewlwydAvailable();
/** Files the flows write (details, the handler's copy of a redirect), removed at the end. */
const scratch = mkdtempSync(join(tmpdir(), 'connect-compat-'));

before(async () => {
  browser = await SharedBrowser.start();
  const demo = await startTestProvider({ registration: 'open', par: 'on', deviceFlow: true });
  // The demo takes any port, so its fixed ones are the defaults with a port added.
  subjects.set('oidc-provider (demo)', {
    issuer: demo.issuer,
    clientId: demo.publicClientId,
    password: 'pw',
    redirectUri: `http://127.0.0.1:${await freePort()}/connect/oauth2callback`,
    postLogoutRedirectUri: `http://127.0.0.1:${await freePort()}/connect/logout`,
    close: () => demo.close(),
  });
  if (skipGlewlwyd) return;
  const redirectUri = `http://127.0.0.1:${await freePort()}/connect/oauth2callback`;
  const postLogoutRedirectUri = `http://127.0.0.1:${await freePort()}/connect/logout`;
  const glewlwyd = await startGlewlwyd({ redirectUris: [redirectUri, SCHEME_URI, OOB], postLogoutRedirectUris: [postLogoutRedirectUri] });
  subjects.set('Glewlwyd 2.7', {
    issuer: glewlwyd.issuer,
    clientId: glewlwyd.publicClientId,
    password: glewlwyd.password,
    redirectUri,
    postLogoutRedirectUri,
    close: () => glewlwyd.close(),
  });
});

after(async () => {
  await signOutAll();
  await browser?.close();
  for (const subject of subjects.values()) await subject.close();
  rmSync(scratch, { recursive: true, force: true });
});

const metadataOf = async (s: Subject) =>
  (await (await fetch(`${s.issuer}/.well-known/openid-configuration`)).json()) as Record<string, unknown>;

for (const column of COLUMNS) {
  const skip = column === 'Glewlwyd 2.7' ? skipGlewlwyd : undefined;
  describe(`${column}: the table's rows, measured`, { skip }, () => {
    const s = () => subjects.get(column) as Subject;
    /** BROWSER for connect-login: the shared browser, acting as the user. */
    const everyday = async () => ({ BROWSER: await browser.command({ password: s().password }) });
    const login = (profile: string, extra: string[]) => ['login', '--issuer', s().issuer, '--client-id', s().clientId, '--profile', profile, ...extra];

    test('discovery', async () => {
      const discovered = await runCli(['discover', s().issuer, '--json']);
      assert.equal(discovered.code, 0, discovered.stderr);
      assert.equal(jsonOf(discovered).issuer, s().issuer);
      record('Discovery', column, 'yes');
    });

    test('sign-in with a fixed-port loopback redirect, userinfo, a rotated refresh, revocation and single sign-on logout', async () => {
      const profile = profileFor('compat');
      const signIn = await runCli(login(profile, ['--redirect-uri', s().redirectUri, '--post-logout-redirect-uri', s().postLogoutRedirectUri, '--json']), {
        ...(await everyday()),
        CONNECT_DEBUG: '1',
      });
      assert.equal(signIn.code, 0, signIn.stderr);
      assert.equal(jsonOf(signIn).status, 'signed_in');
      record('Loopback redirect, fixed port', column, 'yes');
      const methods = (await metadataOf(s())).code_challenge_methods_supported;
      record('PKCE S256', column, Array.isArray(methods) && methods.includes('S256') ? 'yes' : 'no');
      record('Pushed authorization requests (RFC 9126)', column, /the request was pushed to .* and accepted/.test(signIn.stderr) ? 'yes' : 'no');

      const userinfo = await runCli(['userinfo', '--profile', profile, '--json']);
      assert.equal(userinfo.code, 0, userinfo.stderr);
      assert.equal((jsonOf(userinfo).claims as Record<string, unknown>).email, 'alice@example.com');
      record('Userinfo', column, 'yes');

      const before = await store.load(profile);
      await getAccessToken(store, profile, { force: true });
      const renewed = await store.load(profile);
      assert.notEqual(renewed?.accessToken, before?.accessToken, 'the refresh worked');
      record('Refresh token rotation', column, renewed?.refreshToken !== before?.refreshToken ? 'yes' : 'no');
      const token = await runCli(['token', '--profile', profile]);
      assert.equal(token.code, 0, token.stderr);

      const logout = await runCli(['logout', '--everywhere', '--profile', profile, '--json'], await everyday());
      assert.equal(logout.code, 0, logout.stderr);
      const out = jsonOf(logout);
      assert.equal(out.everywhere, 'confirmed', logout.stdout);
      record('Single sign-on logout (RP-initiated)', column, 'yes');
      if (out.revoked === true) record('Revocation by a public client (RFC 7009)', column, 'yes');
      else {
        assert.match(String((out.warnings as string[])[0]), /refused to revoke them without client credentials \(HTTP 401\), which RFC 7009 §2\.1 asks only of confidential clients/);
        record('Revocation by a public client (RFC 7009)', column, 'no (401)');
      }
    });

    test('a session ended at the provider: the next renewal signs the profile out, whatever the answer looks like', async () => {
      const profile = profileFor('compat-ended');
      // Bearer tokens: the test ends the session with the access token as Glewlwyd's revocation credential.
      const signIn = await runCli(login(profile, ['--redirect-uri', s().redirectUri, '--dpop', 'off', '--json']), await everyday());
      assert.equal(signIn.code, 0, signIn.stderr);
      const session = await store.load(profile);
      assert.ok(session?.refreshToken);
      // Ended elsewhere: the refresh token revoked (Glewlwyd takes only the access token as a credential).
      const metadata = await metadataOf(s());
      const revoke = (credential: Record<string, string>, headers: Record<string, string> = {}) =>
        fetch(String(metadata.revocation_endpoint), {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
          body: new URLSearchParams({ token: session.refreshToken as string, token_type_hint: 'refresh_token', ...credential }),
        });
      let revoked = await revoke({ client_id: s().clientId });
      if (revoked.status === 401) revoked = await revoke({}, { authorization: `Bearer ${session.accessToken}` });
      assert.equal(revoked.status, 200);
      const answer = await fetch(String(metadata.token_endpoint), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: session.refreshToken, client_id: s().clientId }),
      });
      const body = await answer.text();
      const error = body ? (JSON.parse(body) as { error?: string }).error : undefined;
      record('A refused refresh token: the answer', column, `${answer.status}${error ? ` ${error}` : ', empty'}`);
      await assert.rejects(getAccessToken(store, profile, { force: true }), (e: { code: string; message: string }) => {
        assert.equal(e.code, 'session_expired');
        assert.match(e.message, /you are signed out\. Please sign in again\./);
        return true;
      });
      assert.equal(jsonOf(await runCli(['status', '--profile', profile, '--json'])).status, 'signed_out', 'not left "signed in"');
    });

    test('the any-port loopback defaults: sign-in, and the post-logout redirect', async () => {
      const profile = profileFor('compat-any-port');
      const signIn = await runCli(login(profile, ['--timeout', '30', '--json']), await everyday());
      if (signIn.code === 0) record('Loopback redirect, any port (RFC 8252 §7.3)', column, 'yes');
      else {
        // What the user reads: the provider refused the redirect URI (before the browser opened, where
        // the request is pushed; else when the wait ends), and the CLI names the fix.
        const pushed = Boolean((await metadataOf(s())).pushed_authorization_request_endpoint);
        assert.equal(jsonOf(signIn).error, pushed ? 'invalid_request' : 'timeout', signIn.stdout);
        assert.match(String(jsonOf(signIn).error_description), /as Glewlwyd does \(RFC 8252 §7\.3 asks it not to\), refuses one with no port: register a fixed port/);
        record('Loopback redirect, any port (RFC 8252 §7.3)', column, 'no (exact match)');
        const again = await runCli(login(profile, ['--redirect-uri', s().redirectUri, '--json']), await everyday());
        assert.equal(again.code, 0, again.stderr);
      }
      const logout = await runCli(['logout', '--everywhere', '--timeout', '10', '--profile', profile, '--json'], await everyday());
      assert.equal(logout.code, 0, logout.stderr);
      const everywhere = jsonOf(logout).everywhere;
      if (everywhere === 'confirmed') record('Post-logout redirect, any port', column, 'yes');
      else {
        // The provider's page did not send the browser back to the any-port listener.
        assert.equal(everywhere, 'failed', logout.stdout);
        assert.match(String((jsonOf(logout).warnings as string[])[0]), /logout page did not come back within 10 seconds/);
        record('Post-logout redirect, any port', column, 'no (exact match)');
      }
      assert.equal(jsonOf(await runCli(['status', '--profile', profile, '--json'])).status, 'signed_out', 'signed out here either way');

      // A fixed one given to logout (not at login) is used that once, and the provider comes back.
      const again = await runCli(login(profile, ['--redirect-uri', s().redirectUri, '--json']), await everyday());
      assert.equal(again.code, 0, again.stderr);
      const fixed = await runCli(['logout', '--everywhere', '--post-logout-redirect-uri', s().postLogoutRedirectUri, '--profile', profile, '--json'], await everyday());
      assert.equal(jsonOf(fixed).everywhere, 'confirmed', fixed.stdout);
    });

    test('DPoP: login binds the tokens by default (auto); userinfo, fetch and a refresh carry proofs', async () => {
      const offered = (await metadataOf(s())).dpop_signing_alg_values_supported;
      if (!Array.isArray(offered) || !offered.length) {
        record('DPoP (RFC 9449)', column, 'no');
        return;
      }
      const profile = profileFor('compat-dpop');
      const signIn = await runCli(login(profile, ['--redirect-uri', s().redirectUri, '--json']), await everyday());
      assert.equal(signIn.code, 0, signIn.stderr);
      assert.equal(jsonOf(signIn).sender_constrained, true);
      const userinfo = await runCli(['userinfo', '--profile', profile, '--json']);
      assert.equal(userinfo.code, 0, userinfo.stderr);
      assert.equal((jsonOf(userinfo).claims as Record<string, unknown>).email, 'alice@example.com');
      // fetch, with a proof for this method and URL and the token's hash (ath), which both check at userinfo.
      const endpoint = String((await metadataOf(s())).userinfo_endpoint);
      const fetched = await runCli(['fetch', endpoint, '--profile', profile]);
      assert.equal(fetched.code, 0, fetched.stderr);
      assert.equal(JSON.parse(fetched.stdout).email, 'alice@example.com');
      const bare = await fetch(endpoint, { headers: { authorization: `Bearer ${(await store.load(profile))?.accessToken}` } });
      assert.equal(bare.status, 401, 'the same token without the key is refused');
      await getAccessToken(store, profile, { force: true });
      assert.equal((await store.load(profile))?.tokenType, 'dpop');
      assert.equal((await runCli(['userinfo', '--profile', profile, '--json'])).code, 0);
      record('DPoP (RFC 9449)', column, 'yes');
    });

    test('a custom URI scheme: the OS hands the redirect to "connect-login deliver"', async () => {
      const profile = profileFor('compat-scheme');
      // The OS's handler also keeps the URL it was given, to see what the authorization response holds.
      const seen = join(scratch, `redirect-${column.length}`);
      const handler = ['sh', '-c', 'printf %s "$4" > "$0.tmp" && mv "$0.tmp" "$0" && exec "$1" "$2" deliver --profile "$3" "$4"'];
      const os = browserUser({ password: s().password, schemeHandler: [...handler, seen, process.execPath, CLI, profile] });
      const signIn = await runCli(login(profile, ['--redirect-uri', SCHEME_URI, '--json']), { BROWSER: os.BROWSER });
      assert.equal(signIn.code, 0, signIn.stderr);
      record('Custom URI scheme redirect', column, 'yes');
      const sent = new URL(readFileSync(seen, 'utf8')).searchParams.get('iss');
      const advertised = (await metadataOf(s())).authorization_response_iss_parameter_supported === true;
      if (sent !== null) assert.equal(sent, s().issuer);
      record('`iss` in the authorization response (RFC 9207)', column, sent === null ? 'no' : advertised ? 'yes' : 'sent, not advertised');
    });

    test('oob: is there a page with the code to paste?', async () => {
      const profile = profileFor('compat-oob');
      const user = browserUser({ password: s().password });
      const cli = startCli(login(profile, ['--redirect-uri', OOB, '--timeout', '20', '--json']), { BROWSER: user.BROWSER });
      const page = await user.report();
      assert.ok(page.ok, page.error);
      if (page.shownCode) {
        cli.child.stdin.write(`${page.shownCode}\n`);
        const result = await cli.done;
        assert.equal(result.code, 0, result.stderr);
        record('oob: a page with the code to paste', column, 'yes');
      } else {
        cli.child.stdin.end();
        const result = await cli.done;
        assert.equal(result.code, 1);
        // The browser was sent to the URN itself (which it cannot open), not to a page of the provider's.
        assert.notEqual(page.heading, 'Copy this code into the application');
        record('oob: a page with the code to paste', column, 'no');
      }
    });

    test('the device grant: the code entered on another device', async () => {
      const metadata = await metadataOf(s());
      if (!metadata.device_authorization_endpoint) {
        record('Device grant (RFC 8628)', column, 'no');
        return;
      }
      const profile = profileFor('compat-device');
      const cli = startCli(['login', '--device', '--issuer', s().issuer, '--client-id', s().clientId, '--profile', profile, '--json'], {}, { stdin: 'ignore', timeoutMs: 60_000 });
      let stderr = '';
      cli.child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      for (let i = 0; i < 200 && !/Waiting for you/.test(stderr); i++) await new Promise((r) => setTimeout(r, 50));
      const page = /\(or open (\S+), which has the code filled in\)/.exec(stderr)?.[1] ?? /a phone will do\):\n {2}(\S+)/.exec(stderr)?.[1];
      assert.ok(page, stderr);
      await browser.opener({ password: s().password }).open(page);
      const result = await cli.done;
      assert.equal(result.code, 0, result.stderr);
      record('Device grant (RFC 8628)', column, 'yes');
    });

    test('dynamic registration, then a sign-in with the client it registered', async () => {
      const metadata = await metadataOf(s());
      if (!metadata.registration_endpoint) {
        record('Dynamic registration (RFC 7591)', column, 'no');
        return;
      }
      const profile = profileFor('compat-register');
      const details = join(scratch, `details-${column.length}.json`);
      writeFileSync(details, JSON.stringify({ displayName: 'Compatibility test', technology: 'linux-desktop', redirectUris: [s().redirectUri] }));
      const registered = await runCli(['register', '--issuer', s().issuer, '--details', details, '--profile', profile, '--json']);
      assert.equal(registered.code, 0, registered.stdout + registered.stderr);
      const signIn = await runCli(['login', '--profile', profile, '--json'], await everyday());
      assert.equal(signIn.code, 0, signIn.stderr);
      record('Dynamic registration (RFC 7591)', column, 'yes');
    });
  });
}

const DOCS = fileURLToPath(new URL('../../../docs/providers.md', import.meta.url));

/** The measured table as Markdown rows, in the docs' order. */
function measuredRows(): string[] {
  return ROWS.map((row) => `| ${row} | ${COLUMNS.map((c) => measured.get(row)?.[c] ?? '(not measured)').join(' | ')} |`);
}

test('docs/providers.md states exactly what was measured (every column measured here)', () => {
  const text = readFileSync(DOCS, 'utf8');
  const table = /<!-- measured -->\n([\s\S]*?)\n<!-- \/measured -->/.exec(text)?.[1];
  assert.ok(table, 'docs/providers.md has the measured table between <!-- measured --> and <!-- /measured -->');
  // The first three columns are measured; what follows them (what to configure) is prose.
  // A column whose provider could not run here (Glewlwyd not installed) is compared as documented.
  const columns = COLUMNS.map((c) => subjects.has(c));
  const rows = (lines: string[]) =>
    lines.map((line) => line.split('|').slice(1, 4).map((cell) => cell.trim()).filter((_, i) => i === 0 || columns[i - 1]));
  const documented = rows(table.split('\n').slice(2));
  const measuredHere = rows(measuredRows());
  assert.deepEqual(documented, measuredHere, `measured here:\n${measuredRows().join('\n')}`);
});
