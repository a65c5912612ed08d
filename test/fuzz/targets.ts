// Fuzz targets: the parsers that read what an attacker or a broken provider controls. Each is a
// fast-check property with a generator that mixes structured near-misses (the shapes that matter)
// with raw noise, and a model of what must be accepted. test/fuzz.test.ts runs every target for a
// short while and replays the saved corpus (test/fuzz/corpus/<target>.json); `npm run fuzz` runs
// them for longer. A failure prints its seed and smallest input: add that input to the corpus.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ConnectError } from '../../src/common/errors.js';
import { readConfigFile, settingsFromConfig } from '../../src/config/config-file.js';
import { CustomSchemeReceiver, matchesRedirectUri } from '../../src/redirect-receiver/custom-scheme.js';
import { LoopbackReceiver } from '../../src/redirect-receiver/loopback.js';
import { parsePastedCode } from '../../src/redirect-receiver/oob-paste.js';
import { classifyRedirectUri } from '../../src/config/redirect-uri.js';
import { resolveSettings } from '../../src/config/settings.js';
import { MAX_TITLE_CHARS, parseResultTitle } from '../../src/window-titles/parse.js';
import { decodeMessage, encodeCall, messageLength } from '../../src/secret-store/dbus.js';

export interface FuzzTarget<T> {
  name: string;
  /** Inputs as the corpus stores them (JSON values). */
  arbitrary: fc.Arbitrary<T>;
  check(input: T): Promise<void> | void;
}

/** Anything thrown must be a ConnectError with a code and a sentence; nothing else may escape. */
function typedOnly(error: unknown): ConnectError {
  assert.ok(error instanceof ConnectError, `an untyped error escaped: ${String(error)}`);
  assert.match(error.code, /^[a-z_]+$/);
  assert.ok(error.message.length > 10);
  return error;
}

const noise = fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 40 }));
const tricky = fc.constantFrom('', '%', '%2F', '%00', '%zz', '&', '&amp;', '=', '#', '?', '/', '//', '\\', '..', ' ', '\t', '\u2026', '...', '\u200b', 'é', '\r\n');
const word = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{0,12}$/), tricky);
const fragment = fc.oneof(word, noise);

// --- the loopback listener's request parser ---------------------------------------------------------

export interface RawRequest {
  method: string;
  target: string;
  host: string | null;
  headers: string[];
}

const PATH = '/connect/oauth2callback';

export const loopbackRequest: FuzzTarget<RawRequest> = {
  name: 'loopback-request',
  arbitrary: fc.record({
    method: fc.oneof(fc.constantFrom('GET', 'POST', 'HEAD', 'OPTIONS', 'get', 'CONNECT'), fc.stringMatching(/^[A-Z]{1,8}$/)),
    target: fc.oneof(
      fc.tuple(fc.constantFrom(PATH, `${PATH}/`, '/connect/OAuth2callback', '/connect%2Foauth2callback', `//evil.example${PATH}`, `http://evil.example${PATH}`, `/..${PATH}`, '/', '*', ''), fc.array(fragment, { maxLength: 4 }))
        .map(([path, parts]) => (parts.length ? `${path}?${parts.join('&')}` : path)),
      fc.tuple(fc.constant(`${PATH}?state=`), word, fc.constant('&code='), word).map((p) => p.join('')),
      noise,
    ),
    host: fc.option(fc.constantFrom('127.0.0.1:PORT', 'localhost:PORT', '[::1]:PORT', 'LOCALHOST:PORT', 'evil.example', 'evil.example:PORT', '127.0.0.1', '127.0.0.1:1', ''), { nil: null }),
    headers: fc.array(fc.oneof(fc.constantFrom('Connection: close', 'Transfer-Encoding: chunked', 'Content-Length: 5', 'Expect: 100-continue'), fc.tuple(word, word).map(([k, v]) => `X-${k}: ${v}`)), { maxLength: 3 }),
  }),
  async check(input) {
    const receiver = new LoopbackReceiver({ kind: 'loopback', host: '127.0.0.1', port: null, path: PATH });
    const controller = new AbortController();
    const pending = await receiver.listen(controller.signal);
    const port = Number(new URL(pending.redirectUri).port);
    try {
      let taken: URLSearchParams | undefined;
      void pending.next().then(
        async (candidate) => {
          taken = candidate.params;
          await candidate.settle({ ok: false, code: 'state_mismatch', message: 'Not this attempt.' });
        },
        () => {},
      );
      const lines = [`${input.method} ${input.target} HTTP/1.1`];
      if (input.host !== null) lines.push(`Host: ${input.host.replace('PORT', String(port))}`);
      lines.push(...input.headers, 'Connection: close', '', '');
      // An interim "100 Continue" (Expect: 100-continue) comes before the real answer.
      const answer = (await rawExchange(port, lines.join('\r\n'))).replace(/^(HTTP\/1\.1 1\d\d [^\r]*\r\n\r\n)+/, '');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0);
      // Never a redirect from the callback listener (no open redirect), whatever was asked.
      assert.ok(!(status >= 300 && status < 400), `a ${status} answer`);
      assert.doesNotMatch(answer.split('\r\n\r\n')[0] ?? '', /^location:/im);
      const q = input.target.indexOf('?');
      const hostOk = input.host !== null && ['127.0.0.1:PORT', 'localhost:PORT', '[::1]:PORT', 'LOCALHOST:PORT'].includes(input.host);
      const expected = input.method === 'GET' && (q === -1 ? input.target : input.target.slice(0, q)) === PATH && hostOk;
      if (status === 200) {
        assert.ok(expected, 'only a GET of the exact path from a loopback Host is taken');
        // (A target with white space is not valid HTTP; the parser keeps only its first word.)
        // eslint-disable-next-line no-control-regex -- control characters are exactly what is looked for
        if (!/[\s\u0000-\u001f\u007f]/.test(input.target)) {
          assert.equal(taken?.toString(), new URLSearchParams(q === -1 ? '' : input.target.slice(q + 1)).toString());
        }
        assert.match(answer, /Content-Security-Policy: default-src 'none'/i);
      } else {
        assert.ok(status === 404 || status === 400 || status === 0 || (!expected && status >= 400), `status ${status}`);
        assert.equal(taken, undefined, 'a refused request is not handed to the sign-in');
      }
    } finally {
      controller.abort();
      await pending.close();
    }
  },
};

/** Send raw bytes, read everything until the server closes (or 2 s pass). */
function rawExchange(port: number, request: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(data);
    };
    const timer = setTimeout(done, 2000);
    socket.on('data', (d) => (data += d.toString('latin1')));
    socket.on('end', done);
    socket.on('error', done);
    socket.on('close', done);
    socket.end(Buffer.from(request, 'utf8'));
  });
}

// --- the window-title parser ---------------------------------------------------------------------------

export const title: FuzzTarget<string> = {
  name: 'title',
  arbitrary: fc.oneof(
    fc
      .tuple(
        fc.constantFrom('', 'Success ', 'Denied ', 'Success  ', 'success ', 'Re: Success '),
        fc.array(fc.tuple(fc.constantFrom('state', 'code', 'iss', 'error', 'amp;code', 'STATE'), fc.oneof(fc.constant('S'), word)), { maxLength: 5 }),
        fc.constantFrom('&', '&amp;', '&amp;amp;'),
        fc.constantFrom('', ' - Chromium', ' \u2014 Mozilla Firefox', '\u2026', '...', ' - Profile 1 - Microsoft\u200b Edge'),
      )
      .map(([head, params, separator, tail]) => head + params.map(([k, v]) => `${k}=${v}`).join(separator) + tail),
    noise,
    fc.string({ minLength: MAX_TITLE_CHARS - 5, maxLength: MAX_TITLE_CHARS + 50 }).map((s) => `Success state=S&code=${s}`),
  ),
  check(input) {
    const result = parseResultTitle(input, 'S');
    if (result === null) return;
    assert.ok(input.length <= MAX_TITLE_CHARS);
    assert.match(input, /^(Success|Denied) /);
    if (result === 'truncated') return;
    assert.equal(result.getAll('state').length, 1);
    assert.equal(result.get('state'), 'S', 'only this attempt\'s state');
    if (input.startsWith('Success')) assert.ok(result.get('code'), 'a Success title has a code');
    else assert.ok(result.get('error'), 'a Denied title has an error');
  },
};

// --- redirect URIs and the URLs handed to the app -------------------------------------------------------

const SCHEME_URI = 'com.example.app://connect/oauth2callback';

export const redirectUrl: FuzzTarget<string> = {
  name: 'redirect-url',
  arbitrary: fc.oneof(
    fc
      .tuple(
        fc.constantFrom('http://', 'https://', 'com.example.app://', 'COM.EXAMPLE.APP://', 'evil://', 'urn:ietf:wg:oauth:2.0:', 'http:/', ''),
        fc.constantFrom('127.0.0.1', 'localhost', '[::1]', 'connect', 'evil.example', '127.0.0.1.evil.example', 'user@127.0.0.1', '127.1', '0x7f.0.0.1', ''),
        fc.constantFrom('', ':8081', ':0', ':65536', ':-1'),
        fc.constantFrom('/connect/oauth2callback', '/connect/oauth2callback/', '/', '', '/%2e%2e/connect/oauth2callback'),
        fc.oneof(fc.constant(''), fc.array(fragment, { maxLength: 3 }).map((p) => `?${p.join('&')}`), fc.constant('#frag'), fc.constant('?state=S&code=C')),
      )
      .map((parts) => parts.join('')),
    fc.constantFrom('urn:ietf:wg:oauth:2.0:oob', 'urn:ietf:wg:oauth:2.0:oob:auto', 'urn:ietf:wg:oauth:2.0:oob:autox'),
    noise,
  ),
  async check(input) {
    // As a registered redirect URI: a kind, or unsupported_redirect_uri with the rule.
    try {
      const kind = classifyRedirectUri(input);
      if (kind.kind === 'loopback') {
        const url = new URL(input);
        assert.equal(url.protocol, 'http:');
        assert.ok(['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname));
        assert.equal(url.search + url.hash, '');
      } else if (kind.kind === 'custom-scheme') {
        assert.doesNotMatch(input, /^https?:/i);
      } else {
        assert.ok(input === 'urn:ietf:wg:oauth:2.0:oob' || input === 'urn:ietf:wg:oauth:2.0:oob:auto');
      }
    } catch (error) {
      assert.equal(typedOnly(error).code, 'unsupported_redirect_uri');
    }
    // As a URL the OS hands to the app for SCHEME_URI: refused, typed, unless it is that URI with this state.
    let url: URL | undefined;
    try {
      url = new URL(input);
    } catch {
      url = undefined;
    }
    const matches = url !== undefined && matchesRedirectUri(url, SCHEME_URI);
    if (matches) assert.equal(`${url?.protocol}//${url?.host}${url?.pathname}`.toLowerCase(), SCHEME_URI);
    if (matches && url?.searchParams.get('state') === 'S') return; // would sign in: not a refusal case
    const controller = new AbortController();
    const pending = await new CustomSchemeReceiver(SCHEME_URI).listen(controller.signal, { state: 'S', issuer: 'https://idp.example' });
    try {
      await assert.rejects(pending.deliverRedirect?.(input) ?? Promise.reject(new Error('no deliverRedirect')), (error) => {
        const code = typedOnly(error).code;
        assert.ok(['invalid_response', 'state_mismatch'].includes(code), code);
        if (url?.search) assert.ok(!(error as Error).message.includes(url.search), 'the query (which may hold a code) is not echoed');
        return true;
      });
    } finally {
      controller.abort();
      await pending.close();
    }
  },
};

// --- pasted codes -------------------------------------------------------------------------------------

export const pastedCode: FuzzTarget<string> = {
  name: 'pasted-code',
  arbitrary: fc.oneof(
    fc.tuple(fc.constantFrom('', 'Success ', 'urn:ietf:wg:oauth:2.0:oob?', 'code=', ' '), fc.array(fragment, { maxLength: 4 })).map(([h, p]) => h + p.join('&')),
    noise,
  ),
  check(input) {
    try {
      const params = parsePastedCode(input, { state: 'S', issuer: 'https://idp.example' });
      assert.equal(params.get('state'), 'S');
      assert.ok(params.get('code') || params.get('error'));
    } catch (error) {
      assert.ok(['invalid_code', 'state_mismatch'].includes(typedOnly(error).code));
    }
  },
};

// --- the settings file -------------------------------------------------------------------------------------

const KEYS = ['issuer', 'clientId', 'clientSecretEnv', 'redirectUri', 'scope', 'profile', 'timeout', 'endpoints', 'logoutMethod', 'postLogoutRedirectUri', 'requestTimeout', 'unknown', '__proto__', 'constructor'];

export const configFile: FuzzTarget<string> = {
  name: 'config-file',
  arbitrary: fc.oneof(
    fc
      .dictionary(fc.constantFrom(...KEYS), fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('http://127.0.0.1:9', 'https://idp.example', 'openid', 'app', 30, 0, -1, 1e9)), { maxKeys: 6 })
      .map((o) => JSON.stringify(o)),
    fc.json({ maxDepth: 3 }),
    fc.constantFrom('\uFEFF{}', '{"issuer":', '{"__proto__":{"issuer":"x"}}', '[]', 'null', '{"a":1,"a":2}'),
    noise,
  ),
  check(input) {
    const dir = mkdtempSync(join(tmpdir(), 'connect-fuzz-'));
    const path = join(dir, 'settings.json');
    writeFileSync(path, input);
    try {
      const config = readConfigFile(path);
      assert.equal(Object.getPrototypeOf({}), Object.prototype, 'the prototype is untouched');
      assert.equal(({} as Record<string, unknown>).issuer, undefined);
      const settings = resolveSettings(settingsFromConfig(config, { CONNECT_SECRET: 'x' }));
      assert.match(settings.issuer, /^(https:|http:\/\/(127\.0\.0\.1|localhost|\[::1\]))/);
      assert.ok(settings.scope.split(' ').includes('openid'));
    } catch (error) {
      assert.ok(['invalid_settings', 'insecure_issuer', 'insecure_url', 'unsupported_redirect_uri'].includes(typedOnly(error).code));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

// --- what the session bus sends (the keychain's D-Bus client) -------------------------------------------

/** A reply as a bus sends one: a method call's encoding with the type byte set to METHOD_RETURN. */
function reply(serial: number, signature: string, body: unknown[]): number[] {
  const bytes = encodeCall(serial, { destination: ':1.7', path: '/org/freedesktop/secrets', interface: 'org.freedesktop.Secret.Service', member: 'X', signature, body });
  bytes[1] = 2;
  return [...bytes];
}

const busValues = fc.oneof(
  fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 })).map(([a, b]) => reply(2, 'ao', [[`/${a.replace(/[^A-Za-z0-9_]/g, '')}`, `/${b.replace(/[^A-Za-z0-9_]/g, '')}`]])),
  fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), { maxKeys: 4 }).map((d) => reply(3, 'a{ss}', [d])),
  fc.uint8Array({ maxLength: 40 }).map((b) => reply(4, '(oayays)', [['/s', Buffer.alloc(0), Buffer.from(b), 'text/plain']])),
  fc.string({ maxLength: 30 }).map((t) => reply(5, 'v', [{ type: 's', value: t }])),
);

export const busMessage: FuzzTarget<number[]> = {
  name: 'bus-message',
  arbitrary: fc.oneof(
    // Real replies, then damaged: bytes changed, cut short, or lengths rewritten.
    fc.tuple(busValues, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.option(fc.nat())).map(([bytes, changes, cut]) => {
      const out = [...bytes];
      for (const [at, value] of changes) out[at % out.length] = value;
      return cut === null ? out : out.slice(0, cut % (out.length + 1));
    }),
    fc.uint8Array({ maxLength: 200 }).map((b) => [0x6c, ...b]),
    fc.uint8Array({ maxLength: 200 }).map((b) => [...b]),
  ),
  check(input) {
    const bytes = Buffer.from(input);
    try {
      const length = messageLength(bytes);
      if (length === undefined || length > bytes.length) return;
      const message = decodeMessage(bytes.subarray(0, length));
      assert.equal(typeof message.type, 'number');
      assert.ok(Array.isArray(message.body));
    } catch (error) {
      // A damaged message is refused with a plain Error in words, never a crash of another kind.
      assert.ok(error instanceof Error && error.constructor === Error, `not a plain Error: ${String(error)}`);
      assert.ok(error.message.length > 10);
    }
  },
};

export const TARGETS = [loopbackRequest, title, redirectUrl, pastedCode, configFile, busMessage] as Array<FuzzTarget<unknown>>;
