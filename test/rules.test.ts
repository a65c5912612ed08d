// The pure pieces: redirect-URI rules, settings, response checks, shell words, the CLI's parser.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkAuthorizationResponse } from '../src/steps/authorization-response.js';
import { defaultBrowserCommand } from '../src/browser/opener.js';
import { shellWords } from '../src/browser/shell-words.js';
import { UsageError, parseCommandLine } from '../src/cli/args.js';
import { ConnectError, ProviderError, describeProviderError } from '../src/common/errors.js';
import { classifyRedirectUri, isLoopbackHost } from '../src/config/redirect-uri.js';
import { resolveSettings } from '../src/config/settings.js';
import { refreshMargin, needsRefresh } from '../src/steps/access-token.js';
import type { StoredSession } from '../src/session/session.js';
import { checkProfileName } from '../src/session/token-store.js';

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as ConnectError).code;
  }
  return 'no error';
}

describe('redirect URI rules (reference: "Choosing a redirect URI")', () => {
  test('each documented kind is recognised', () => {
    assert.deepEqual(classifyRedirectUri('http://127.0.0.1/connect/oauth2callback'), {
      kind: 'loopback',
      host: '127.0.0.1',
      port: null,
      path: '/connect/oauth2callback',
    });
    assert.deepEqual(classifyRedirectUri('http://localhost:8081/connect/oauth2callback'), {
      kind: 'loopback',
      host: 'localhost',
      port: 8081,
      path: '/connect/oauth2callback',
    });
    assert.equal(classifyRedirectUri('http://[::1]:5000/cb').kind, 'loopback');
    assert.deepEqual(classifyRedirectUri('com.example.app://connect/oauth2callback'), {
      kind: 'custom-scheme',
      scheme: 'com.example.app',
      path: 'connect/oauth2callback',
    });
    assert.deepEqual(classifyRedirectUri('urn:ietf:wg:oauth:2.0:oob:auto'), { kind: 'oob-auto' });
    assert.deepEqual(classifyRedirectUri('urn:ietf:wg:oauth:2.0:oob'), { kind: 'oob' });
  });

  test('URIs a desktop app cannot or must not use are refused with the reason', () => {
    for (const uri of [
      'https://app.example.com/cb',
      'http://app.example.com/cb',
      'http://127.0.0.1/cb#frag',
      'http://127.0.0.1/cb?x=1',
      'javascript://alert(1)',
      'urn:ietf:wg:oauth:2.0:oob:other',
      'not a uri',
    ]) {
      assert.equal(code(() => classifyRedirectUri(uri)), 'unsupported_redirect_uri', uri);
    }
    assert.match(
      (() => {
        try {
          classifyRedirectUri('http://app.example.com/cb');
        } catch (e) {
          return (e as Error).message;
        }
        return '';
      })(),
      /not loopback/,
    );
  });

  test('loopback hosts', () => {
    assert.ok(isLoopbackHost('127.0.0.1') && isLoopbackHost('127.1.2.3') && isLoopbackHost('localhost') && isLoopbackHost('[::1]'));
    assert.ok(!isLoopbackHost('128.0.0.1') && !isLoopbackHost('localhost.example.com') && !isLoopbackHost('10.0.0.1'));
  });
});

describe('provider settings', () => {
  test('defaults: openid profile email offline_access, loopback redirect', () => {
    const s = resolveSettings({ issuer: 'https://connect.example.com', clientId: 'app' });
    assert.equal(s.scope, 'openid profile email offline_access');
    assert.equal(s.redirectUri, 'http://127.0.0.1/connect/oauth2callback');
    assert.equal(s.insecureLoopback, false);
    assert.equal(s.clientSecret, undefined);
  });

  test('plain http only for a loopback issuer', () => {
    assert.equal(resolveSettings({ issuer: 'http://127.0.0.1:9090', clientId: 'a' }).insecureLoopback, true);
    assert.equal(code(() => resolveSettings({ issuer: 'http://connect.example.com', clientId: 'a' })), 'insecure_issuer');
    assert.equal(
      code(() =>
        resolveSettings({
          issuer: 'https://connect.example.com',
          clientId: 'a',
          endpoints: { authorization: 'http://evil.example/auth', token: 'https://x/t', jwks: 'https://x/j' },
        }),
      ),
      'insecure_url',
      'an endpoint is not the issuer: its own code',
    );
    assert.equal(code(() => resolveSettings({ issuer: 'https://x', clientId: 'a', resourceOrigins: ['http://api.example.com'] })), 'insecure_url');
  });

  test('missing or malformed values are invalid_settings', () => {
    assert.equal(code(() => resolveSettings({ issuer: '', clientId: 'a' })), 'invalid_settings');
    assert.equal(code(() => resolveSettings({ issuer: 'https://x', clientId: ' ' })), 'invalid_settings');
    assert.equal(code(() => resolveSettings({ issuer: 'https://x', clientId: 'a', scope: 'profile' })), 'invalid_settings');
    assert.equal(code(() => resolveSettings({ issuer: 'ftp://x', clientId: 'a' })), 'invalid_settings');
    assert.equal(
      code(() => resolveSettings({ issuer: 'https://x', clientId: 'a', endpoints: { authorization: 'https://x/a' } as never })),
      'invalid_settings',
    );
    for (const requestTimeoutSeconds of [0, 301, Number.NaN]) {
      assert.equal(code(() => resolveSettings({ issuer: 'https://x', clientId: 'a', requestTimeoutSeconds })), 'invalid_settings');
    }
    assert.equal(resolveSettings({ issuer: 'https://x', clientId: 'a' }).requestTimeoutSeconds, 30);
  });

  test('profile names cannot escape their keychain entry', () => {
    assert.equal(checkProfileName('work.account-2'), 'work.account-2');
    for (const bad of ['', '../x', 'a:b', 'a b', '-x', 'x'.repeat(65)]) assert.equal(code(() => checkProfileName(bad)), 'invalid_settings');
  });
});

describe('authorization response checks: state, then iss, then error', () => {
  const expected = { state: 'S', issuer: 'https://idp.example', issRequired: true };
  const check = (query: string) => code(() => checkAuthorizationResponse(new URLSearchParams(query), expected));

  test('a good response passes', () => {
    assert.equal(check('code=C&state=S&iss=https%3A%2F%2Fidp.example'), 'no error');
  });
  test('state is checked first, even before an error', () => {
    assert.equal(check('error=access_denied&iss=https%3A%2F%2Fidp.example'), 'state_mismatch');
    assert.equal(check('code=C&state=T&iss=https%3A%2F%2Fidp.example'), 'state_mismatch');
    assert.equal(check('code=C&state=SS&iss=https%3A%2F%2Fidp.example'), 'state_mismatch');
  });
  test('a parameter given twice is refused (RFC 6749 §3.1), whichever copy is right; two states are not this attempt\'s', () => {
    // state_mismatch: the sign-in sets the response aside and waits on (it cannot be this attempt's own).
    assert.equal(check('code=C&state=S&state=S&iss=https%3A%2F%2Fidp.example'), 'state_mismatch');
    assert.equal(check('code=C&code=D&state=S&iss=https%3A%2F%2Fidp.example'), 'invalid_response');
    assert.equal(check('code=C&state=S&iss=https%3A%2F%2Fidp.example&iss=https%3A%2F%2Fevil.example'), 'invalid_response');
  });
  test('iss is required when advertised and must match', () => {
    assert.equal(check('code=C&state=S'), 'issuer_mismatch');
    assert.equal(check('code=C&state=S&iss=https%3A%2F%2Fevil.example'), 'issuer_mismatch');
    assert.equal(
      code(() => checkAuthorizationResponse(new URLSearchParams('code=C&state=S'), { ...expected, issRequired: false })),
      'no error',
    );
  });
  test('provider errors keep their registered OAuth code, an unregistered one is provider_error; each gets a sentence', () => {
    assert.equal(check('error=access_denied&state=S&iss=https%3A%2F%2Fidp.example'), 'access_denied');
    assert.equal(check('error=weird_thing&state=S&iss=https%3A%2F%2Fidp.example'), 'provider_error');
    const weird = new ProviderError('weird_thing', describeProviderError('weird_thing'));
    assert.deepEqual([weird.code, weird.providerCode], ['provider_error', 'weird_thing']);
    assert.equal(new ProviderError('use_dpop_nonce', 'x').code, 'use_dpop_nonce');
    assert.equal(check('state=S&iss=https%3A%2F%2Fidp.example'), 'invalid_response');
    assert.equal(describeProviderError('weird_thing'), 'The provider answered with the error "weird_thing".');
    assert.match(describeProviderError('access_denied', 'User\u0000 said\nno'), /\(User said no\)$/);
  });
});

describe('BROWSER command lines are split as a shell would', () => {
  test('quotes and escapes', () => {
    assert.deepEqual(shellWords(`firefox --new-window`), ['firefox', '--new-window']);
    assert.deepEqual(shellWords(`"/opt/My Browser/bin" --profile 'a b' c\\ d ""`), ['/opt/My Browser/bin', '--profile', 'a b', 'c d', '']);
    assert.deepEqual(shellWords(`a "x\\"y" 'it'\\''s'`), ['a', 'x"y', "it's"]);
    assert.equal(code(() => shellWords(`open "unclosed`)), 'invalid_settings');
  });
  test('the OS default per platform', () => {
    assert.deepEqual(defaultBrowserCommand('darwin'), ['open']);
    assert.deepEqual(defaultBrowserCommand('linux'), ['xdg-open']);
    assert.deepEqual(defaultBrowserCommand('win32'), ['rundll32.exe', 'url.dll,FileProtocolHandler']);
  });
});

describe('refresh margin scales with the token lifetime', () => {
  const session = (lifetime: number, obtainedAt = 1000) =>
    ({ obtainedAt, expiresAt: obtainedAt + lifetime }) as StoredSession;
  test('the smaller of 60 s and a tenth of the lifetime', () => {
    assert.equal(refreshMargin(session(3600)), 60);
    assert.equal(refreshMargin(session(5)), 0.5);
    assert.equal(needsRefresh(session(5), 1003), false, 'a 5-second token is not refreshed on every call');
    assert.equal(needsRefresh(session(5), 1005), true);
    assert.equal(needsRefresh(session(3600), 1000 + 3540), true);
  });
});

describe('connect-login arguments', () => {
  const parse = (args: string[], env: NodeJS.ProcessEnv = {}) => parseCommandLine(args, env);
  test('profile: flag, then CONNECT_PROFILE, then default', () => {
    const run = (args: string[], env = {}) => {
      const r = parse(args, env);
      assert.equal(r.kind, 'run');
      return r.kind === 'run' ? r.run : undefined;
    };
    assert.equal(run(['status'])?.profile, 'default');
    assert.equal(run(['status'], { CONNECT_PROFILE: 'ci' })?.profile, 'ci');
    assert.equal(run(['status', '--profile', 'x'], { CONNECT_PROFILE: 'ci' })?.profile, 'x');
  });
  test('mistakes are usage errors that name the flag', () => {
    const usage = (args: string[], env = {}) => {
      try {
        parse(args, env);
      } catch (e) {
        assert.ok(e instanceof UsageError || e instanceof ConnectError);
        return e.message;
      }
      return 'no error';
    };
    assert.match(usage([]), /a command is required/);
    assert.match(usage(['fly']), /unknown command "fly"/);
    assert.match(usage(['status', '--issuer', 'x']), /--issuer is an option of login and register, not of status/);
    assert.match(usage(['token', '--json']), /--json is not an option of token/);
    assert.match(usage(['login', '--issuer', 'https://x', '--client-id', 'a', '--client-secret-env', 'NOPE']), /NOPE/);
    assert.match(usage(['login', '--issuer', 'https://x', '--client-id', 'a', '--timeout', '0']), /--timeout/);
    assert.match(usage(['login', '--issuer', 'https://x', '--client-id', 'a', '--request-timeout', '301']), /--request-timeout must be a number of seconds between 1 and 300, not "301"/);
    assert.match(usage(['status', '--request-timeout', '5']), /--request-timeout is an option of login/);
    assert.match(usage(['login', '--config', '/nonexistent.json']), /settings file "\/nonexistent.json" cannot be read \(ENOENT\)/);
  });
});

describe('redirect defaults by technology (reference: "If a redirect URI is not chosen")', () => {
  test('each technology gets the documented default', async () => {
    const { defaultRedirectUris, desktopDefaultRedirectUri } = await import('../src/config/redirect-defaults.js');
    assert.deepEqual(defaultRedirectUris('mac', 'com.Example.App'), ['com.example.app://connect/oauth2callback']);
    for (const t of ['ios', 'android', 'windows-phone'] as const) {
      assert.deepEqual(defaultRedirectUris(t, 'abc'), ['abc://connect/oauth2callback']);
    }
    assert.deepEqual(defaultRedirectUris('web', 'abc'), ['http://localhost:8081/connect/oauth2callback']);
    assert.deepEqual(defaultRedirectUris('windows-desktop', 'abc'), ['urn:ietf:wg:oauth:2.0:oob', 'urn:ietf:wg:oauth:2.0:oob:auto']);
    assert.deepEqual(defaultRedirectUris('linux-desktop', 'abc'), ['http://127.0.0.1/connect/oauth2callback']);
    assert.equal(desktopDefaultRedirectUri('win32', 'abc'), 'urn:ietf:wg:oauth:2.0:oob:auto');
    assert.equal(desktopDefaultRedirectUri('darwin', 'abc'), 'abc://connect/oauth2callback');
    assert.equal(desktopDefaultRedirectUri('linux', 'abc'), 'http://127.0.0.1/connect/oauth2callback');
    assert.equal(code(() => defaultRedirectUris('mac', 'my_client')), 'unsupported_redirect_uri');
  });

  test('registration rules: native URLs are http on localhost, web URLs https, URNs only the two', async () => {
    const { checkRegisteredRedirectUri: check } = await import('../src/config/redirect-defaults.js');
    const ok = (uri: string, type: 'native' | 'web') => assert.equal(code(() => check(uri, type)), 'no error', uri);
    const bad = (uri: string, type: 'native' | 'web') => assert.equal(code(() => check(uri, type)), 'unsupported_redirect_uri', uri);
    ok('http://localhost:8081/connect/oauth2callback', 'native');
    ok('http://127.0.0.1/cb', 'native');
    ok('com.example.app://connect/oauth2callback', 'native');
    ok('urn:ietf:wg:oauth:2.0:oob', 'native');
    ok('urn:ietf:wg:oauth:2.0:oob:auto', 'native');
    ok('https://app.example.com/connect/oauth2callback', 'web');
    ok('http://localhost:8081/connect/oauth2callback', 'web');
    bad('https://app.example.com/cb', 'native');
    bad('http://app.example.com/cb', 'web');
    bad('urn:ietf:wg:oauth:2.0:oob:manual', 'native');
    bad('urn:ietf:wg:oauth:2.0:oob', 'web');
    bad('com.example.app://cb', 'web');
    bad('javascript://x', 'native');
    bad('http://localhost/cb#x', 'native');
  });
});

describe('pasted codes (oob)', () => {
  test('a bare code, code=…, a query, the page line or the whole URI; state checked when given', async () => {
    const { parsePastedCode } = await import('../src/redirect-receiver/oob-paste.js');
    const ctx = { state: 'S1', issuer: 'https://idp.example' };
    const parse = (input: string) => Object.fromEntries(parsePastedCode(input, ctx));
    const expected = { code: 'abc', state: 'S1', iss: 'https://idp.example' };
    assert.deepEqual(parse('  abc \n'), expected);
    assert.deepEqual(parse('code=abc'), expected);
    assert.deepEqual(parse('?code=abc&state=S1'), expected);
    assert.deepEqual(parse('Success state=S1&code=abc'), expected);
    assert.deepEqual(parse('urn:ietf:wg:oauth:2.0:oob?code=abc&state=S1'), expected);
    assert.equal(code(() => parsePastedCode('code=abc&state=OTHER', ctx)), 'state_mismatch');
    assert.equal(code(() => parsePastedCode('   ', ctx)), 'invalid_code');
    assert.equal(code(() => parsePastedCode('two words', ctx)), 'invalid_code');
    assert.equal(code(() => parsePastedCode('state=S1', ctx)), 'invalid_code');
  });
});

describe('client secret expiry', () => {
  test('warned a week ahead, and after it passed; never for secrets that do not expire', async () => {
    const { secretExpiryWarning } = await import('../src/registration/dynamic.js');
    const base = { version: 1 as const, issuer: 'https://idp', clientId: 'c', metadata: {}, registeredAt: 0, clientSecret: 's' };
    const now = 1_800_000_000;
    assert.equal(secretExpiryWarning({ ...base, clientSecretExpiresAt: 0 }, undefined, now), null);
    assert.equal(secretExpiryWarning({ ...base, clientSecretExpiresAt: now + 30 * 86400 }, undefined, now), null);
    assert.match(secretExpiryWarning({ ...base, clientSecretExpiresAt: now + 86400 }, undefined, now) ?? '', /expires at .* register the client again before then/);
    assert.match(secretExpiryWarning({ ...base, clientSecretExpiresAt: now - 1 }, undefined, now) ?? '', /expired at/);
    const { clientSecret: _secret, ...publicClient } = base;
    assert.equal(secretExpiryWarning({ ...publicClient, clientSecretExpiresAt: now - 1 }, undefined, now), null);
  });
});

describe('identity.json rules (src/identity-rules.ts)', () => {
  const base = { productName: 'Acme', appId: 'com.acme.app', scheme: 'com.acme.app', folderName: 'acme', keychainService: 'acme', cliName: 'acme-login', icon: 'build/icon.png', defaultProvider: null };
  const refused = async (change: Record<string, unknown>, field: RegExp) => {
    const { checkIdentity } = await import('../src/config/identity-rules.js');
    assert.throws(() => checkIdentity({ ...base, ...change }), field, JSON.stringify(change));
  };
  test('what the installer, the registry and the file system cannot take is refused, naming the field', async () => {
    const { checkIdentity } = await import('../src/config/identity-rules.js');
    assert.equal(checkIdentity(base).productName, 'Acme');
    assert.equal(checkIdentity({ ...base, productName: 'Ünïcode Näme' }).productName, 'Ünïcode Näme');
    for (const productName of ['Acme "Pro"', 'A$B', 'a/b', 'tab\there', ' padded', 'x'.repeat(65)]) await refused({ productName }, /"productName"/);
    for (const folderName of ['con', 'NUL.txt', 'lpt1', 'trailing.', '..', '.hidden', 'a/b', '']) await refused({ folderName }, /"folderName"/);
    for (const scheme of ['HTTP', 'https', 'file', '1abc', 'a b']) await refused({ scheme }, /"scheme"/);
    await refused({ appId: 'nodots' }, /"appId"/);
    await refused({ defaultProvider: { issuer: 'not a url', clientId: 'x' } }, /defaultProvider.issuer/);
    await refused({ defaultProvider: { issuer: 'https://id.example', clientId: 'other', redirectKind: 'custom-scheme' } }, /"clientId" must be the "scheme"/);
    assert.ok(checkIdentity({ ...base, defaultProvider: { issuer: 'https://id.example', clientId: 'COM.acme.app', redirectKind: 'custom-scheme' } }));
  });
});

describe('the launch page: where the browser can read it', () => {
  test('a snap or Flatpak browser gets it in its own folder; an ordinary one, the private runtime folder', async () => {
    const { mkdtempSync, mkdirSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { sandboxFolderFor, needsLaunchPage } = await import('../src/browser/launch-page.js');
    const { IDENTITY } = await import('../src/config/identity.js');
    const home = mkdtempSync(join(tmpdir(), 'connect-home-'));
    mkdirSync(join(home, 'snap', 'firefox'), { recursive: true });
    mkdirSync(join(home, '.var', 'app', 'org.mozilla.firefox'), { recursive: true });
    assert.equal(sandboxFolderFor('firefox_firefox.desktop', home), join(home, 'snap', 'firefox', 'common', `${IDENTITY.folderName}-launch`));
    assert.equal(sandboxFolderFor('/snap/bin/firefox', home), join(home, 'snap', 'firefox', 'common', `${IDENTITY.folderName}-launch`));
    assert.equal(sandboxFolderFor('org.mozilla.firefox.desktop', home), join(home, '.var', 'app', 'org.mozilla.firefox', 'cache', `${IDENTITY.folderName}-launch`));
    for (const ordinary of ['firefox.desktop', 'chromium.desktop', 'chromium_chromium.desktop', 'org.chromium.Chromium.desktop', undefined]) {
      assert.equal(sandboxFolderFor(ordinary, home), undefined, String(ordinary));
    }
    // Windows: no launch page (other users cannot read a command line there; %TEMP% is not a Unix folder).
    assert.deepEqual(['linux', 'darwin', 'freebsd', 'win32'].map((p) => needsLaunchPage(p as NodeJS.Platform)), [true, true, true, false]);
  });
});
