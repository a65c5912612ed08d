// The loopback receiver over real sockets: what a browser (or another local program) meets.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { describe, test } from 'node:test';
import { attemptSignal } from '../src/common/abort.js';
import { ConnectError } from '../src/common/errors.js';
import { LoopbackReceiver } from '../src/redirect-receiver/loopback.js';
import { classifyRedirectUri, type RedirectKind } from '../src/config/redirect-uri.js';


function receiverFor(uri: string): LoopbackReceiver {
  return new LoopbackReceiver(classifyRedirectUri(uri) as Extract<RedirectKind, { kind: 'loopback' }>);
}

function get(
  url: string,
  family?: 4 | 6,
  extra: { path?: string; host?: string } = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const options = { family, ...(extra.path ? { path: extra.path } : {}), ...(extra.host ? { headers: { Host: extra.host } } : {}) };
    const req = request(u, options, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('loopback receiver', () => {
  test('listens on 127.0.0.1 at a free port when the URI names none, and closes after one response', async () => {
    const pending = await receiverFor('http://127.0.0.1/connect/oauth2callback').listen(new AbortController().signal);
    const match = /^http:\/\/127\.0\.0\.1:(\d+)\/connect\/oauth2callback$/.exec(pending.redirectUri);
    assert.ok(match, pending.redirectUri);

    // Other paths get a 404 and do not spend the attempt.
    const other = await get(`http://127.0.0.1:${match[1]}/favicon.ico`);
    assert.equal(other.status, 404);
    const prefix = await get(`http://127.0.0.1:${match[1]}/connect/oauth2callback/extra?code=x&state=y`);
    assert.equal(prefix.status, 404);

    const page = get(`${pending.redirectUri}?code=the-code&state=the-state`);
    const candidate = await pending.next();
    assert.equal(candidate.params.get('state'), 'the-state');
    assert.equal(pending.retryable, false, 'a loopback attempt answers one request');
    await candidate.settle({ ok: true, displayName: 'Alice <script>' });
    const result = await page;
    assert.equal(result.status, 200);
    assert.equal(result.headers['referrer-policy'], 'no-referrer');
    assert.equal(result.headers['cache-control'], 'no-store');
    assert.match(String(result.headers['content-security-policy']), /default-src 'none'/);
    assert.match(result.body, /Signed in as Alice &#60;script&#62;/);
    assert.doesNotMatch(result.body, /<script|<link|src=|https?:\/\//, 'self-contained: no script, no outside resource');
    await assert.rejects(get(`${pending.redirectUri}?code=again&state=the-state`), /ECONNREFUSED/);
  });

  test('only the exact path from a loopback Host is taken; nothing ever redirects (RFC 8252 §8.3, DNS rebinding)', async () => {
    const pending = await receiverFor('http://127.0.0.1/connect/oauth2callback').listen(new AbortController().signal);
    const base = pending.redirectUri;
    let taken = false;
    const next = pending.next();
    void next.then(() => (taken = true), () => {});
    const refused = [
      { path: '//evil.example/connect/oauth2callback?code=c&state=s' },
      { path: 'http://evil.example/connect/oauth2callback?code=c&state=s' },
      { path: '/connect/oauth2callback?code=c&state=s', host: 'rebound.evil.example' },
      { path: '/connect/oauth2callback?code=c&state=s', host: `rebound.evil.example:${new URL(base).port}` },
      { path: '/connect%2Foauth2callback?code=c&state=s' },
    ];
    for (const extra of refused) {
      const answer = await get(base, 4, extra);
      assert.equal(answer.status, 404, JSON.stringify(extra));
      assert.equal(answer.headers.location, undefined);
    }
    assert.equal(taken, false, 'none of them reached the sign-in');
    const page = get(`${base}?code=c&state=s&redirect_uri=https%3A%2F%2Fevil.example%2F&next=%2F%2Fevil.example`);
    const candidate = await next;
    await candidate.settle({ ok: false, code: 'invalid_grant', message: 'Not this attempt.' });
    const answer = await page;
    assert.equal(answer.status, 200);
    assert.equal(answer.headers.location, undefined);
    assert.doesNotMatch(answer.body, /evil\.example/, 'the result page links nowhere the request named');
    await pending.close();
  });

  test('a fixed port is used as given, and a taken one is port_in_use', async () => {
    const first = await receiverFor('http://127.0.0.1/cb').listen(new AbortController().signal);
    const port = Number(new URL(first.redirectUri).port);
    try {
      await assert.rejects(
        receiverFor(`http://127.0.0.1:${port}/cb`).listen(new AbortController().signal),
        (error: ConnectError) => error.code === 'port_in_use' && error.message.includes(`Port ${port} on 127.0.0.1`),
      );
    } finally {
      await first.close();
    }
    const fixed = await receiverFor(`http://127.0.0.1:${port}/cb`).listen(new AbortController().signal);
    assert.equal(fixed.redirectUri, `http://127.0.0.1:${port}/cb`);
    await fixed.close();
  });

  test('localhost URIs listen on 127.0.0.1 and on ::1 where the machine has IPv6', async (t) => {
    const pending = await receiverFor('http://localhost/connect/oauth2callback').listen(new AbortController().signal);
    const port = new URL(pending.redirectUri).port;
    assert.match(pending.redirectUri, /^http:\/\/localhost:\d+\/connect\/oauth2callback$/);
    assert.equal((await get(`http://127.0.0.1:${port}/nope`)).status, 404);
    const v6 = await get(`http://[::1]:${port}/nope`, 6).catch((error: NodeJS.ErrnoException) => error);
    if (v6 instanceof Error && (v6.code === 'EADDRNOTAVAIL' || v6.code === 'EAFNOSUPPORT')) {
      t.diagnostic('this machine has no IPv6 loopback; only 127.0.0.1 was checked');
    } else {
      assert.equal((v6 as { status: number }).status, 404);
    }
    await pending.close();
  });

  test('not reachable from a non-loopback address', async () => {
    const { networkInterfaces } = await import('node:os');
    const external = Object.values(networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal);
    const pending = await receiverFor('http://127.0.0.1/cb').listen(new AbortController().signal);
    try {
      if (external) {
        await assert.rejects(get(`http://${external.address}:${new URL(pending.redirectUri).port}/cb`), /ECONNREFUSED/);
      }
    } finally {
      await pending.close();
    }
  });

  test('cancel rejects with cancelled, timeout with timeout; both close the listener', async () => {
    const controller = new AbortController();
    const pending = await receiverFor('http://127.0.0.1/cb').listen(controller.signal);
    controller.abort(new ConnectError('cancelled', 'Sign-in was cancelled.'));
    await assert.rejects(pending.next(), (e: ConnectError) => e.code === 'cancelled');
    await assert.rejects(get(`${pending.redirectUri}?state=x`), /ECONNREFUSED/);

    const attempt = attemptSignal(undefined, 50, 'took too long');
    const timed = await receiverFor('http://127.0.0.1/cb').listen(attempt.signal);
    await assert.rejects(timed.next(), (e: ConnectError) => e.code === 'timeout' && e.message === 'took too long');
    attempt.dispose();
  });

  test('a request waiting for the outcome gets a neutral page if the app stops waiting', async () => {
    const pending = await receiverFor('http://127.0.0.1/cb').listen(new AbortController().signal);
    const page = get(`${pending.redirectUri}?code=c&state=s`);
    await pending.next();
    await pending.close();
    const result = await page;
    assert.equal(result.status, 200);
    assert.match(result.body, /The app stopped waiting for this sign-in/);
  });

  test('a response that is not the attempt\'s gets a neutral page and the listener goes on; the attempt\'s own ends it', async () => {
    const pending = await receiverFor('http://127.0.0.1/cb').listen(new AbortController().signal);
    const stray = get(`${pending.redirectUri}?code=c&state=someone-else`);
    const first = await pending.next();
    await first.settle({ ok: false, code: 'state_mismatch', message: 'not this attempt' });
    const page = await stray;
    assert.match(page.body, /Nothing to do here/);
    assert.doesNotMatch(page.body, /Error code|failed/i);
    const own = get(`${pending.redirectUri}?code=c&state=ours`);
    const second = await pending.next();
    assert.equal(second.params.get('state'), 'ours');
    await second.settle({ ok: true });
    assert.match((await own).body, /You are signed in/);
    await assert.rejects(get(`${pending.redirectUri}?code=c&state=ours`), /ECONNREFUSED/);
  });

  test('silent, half-sent and trickling connections never keep the listener open or the attempt from ending', async () => {
    const { createConnection } = await import('node:net');
    for (const ending of ['signed in', 'cancelled'] as const) {
      const controller = new AbortController();
      const pending = await receiverFor('http://127.0.0.1/cb').listen(controller.signal);
      const port = Number(new URL(pending.redirectUri).port);
      const closed: Promise<void>[] = [];
      const open = () => {
        const socket = createConnection(port, '127.0.0.1');
        socket.on('error', () => {});
        closed.push(new Promise((resolve) => socket.on('close', () => resolve())));
        return socket;
      };
      open(); // silent
      open().write(`GET /cb?code=c&state=s HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`); // half a request
      const trickle = open();
      const timer = setInterval(() => trickle.writable && trickle.write('G'), 200);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const started = Date.now();
      if (ending === 'signed in') {
        const page = get(`${pending.redirectUri}?code=c&state=s`);
        await (await pending.next()).settle({ ok: true });
        assert.match((await page).body, /You are signed in/);
      } else {
        controller.abort(new ConnectError('cancelled', 'Sign-in was cancelled.'));
        await pending.close();
      }
      await Promise.all(closed);
      clearInterval(timer);
      assert.ok(Date.now() - started < 2000, `${ending}: every connection was dropped at once (${Date.now() - started} ms)`);
      await assert.rejects(get(`${pending.redirectUri}?code=c&state=s`), /ECONNREFUSED/);
    }
  });
});
