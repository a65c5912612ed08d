// "Never lose a session" (issue #16), row by row, against the demo provider (which rotates refresh
// tokens and revokes the grant when a spent one is used again) behind the fault-injecting adversary,
// through connect-login and the library: a client killed once the provider answered, keys that are
// out of reach, a keychain that stops answering, a slow provider with several processes waiting, a
// keychain that is missing before the browser would open, and a clock that is hours off.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import { getAccessToken } from '../src/steps/access-token.js';
import { startSignIn } from '../src/steps/sign-in.js';
import { ConnectError } from '../src/common/errors.js';
import { reSignIdToken } from './support/adversary.js';
import { adversarialSession, LOOPBACK } from './support/adversarial-session.js';
import { CLI, ROOT, jsonOf, runCli, startCli, type CliResult } from './support/cli.js';
import { runtimeDir } from '../src/session/runtime-dir.js';

const fixture = adversarialSession();
const { store } = fixture;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, ready: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await pause(10);
  }
}

/** A profile signed in with a refresh token, its access token already expired. */
async function expiredSession(label: string): Promise<string> {
  fixture.adversary.reset();
  const profile = fixture.profileFor(label);
  const outcome = await fixture.signInCore(profile, { scope: 'openid offline_access' });
  assert.ok(outcome.sub, `signed in: ${JSON.stringify(outcome)}`);
  await expire(profile);
  fixture.adversary.reset();
  return profile;
}

async function expire(profile: string): Promise<void> {
  const session = await store.load(profile);
  assert.ok(session?.refreshToken, 'the session has a refresh token');
  await store.save(profile, { ...session, expiresAt: Math.floor(Date.now() / 1000) - 60 });
}

/** Refresh-token grants the provider received. */
const refreshes = () => fixture.adversary.seen.filter((r) => r.endpoint === 'token' && r.body.includes('grant_type=refresh_token')).length;

/** The same `token` call through the library, in a process of its own (so that it can be killed). */
const LIBRARY_SCRIPT = `
  import { createClient } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist/src/index.js')).href)};
  try {
    process.stdout.write(await createClient({ profile: process.argv[1] }).getAccessToken() + '\\n');
  } catch (error) {
    process.stderr.write('error: ' + error.code + ': ' + error.message + '\\n');
    process.exitCode = 1;
  }`;

type Face = 'CLI' | 'library';
function startToken(face: Face, profile: string, env: NodeJS.ProcessEnv = {}) {
  if (face === 'CLI') return startCli(['token', '--profile', profile], env, { stdin: 'ignore' });
  const child = spawn(process.execPath, ['--input-type=module', '-e', LIBRARY_SCRIPT, profile], { env: { ...process.env, ...env } });
  const done = new Promise<CliResult>((resolve) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, done };
}

const token = (face: Face, profile: string, env: NodeJS.ProcessEnv = {}) => startToken(face, profile, env).done;

for (const face of ['CLI', 'library'] as const) {
  describe(`the renewed tokens are stored before anything else (${face})`, () => {
    test('killed (kill -9) after the provider answered, while the renewed ID token is being checked: the next use finishes the renewal, nothing is sent twice', async () => {
      const profile = await expiredSession(`kill-${face}`);
      const { adversary } = fixture;
      // The keys are fetched after the answer (to check the renewed ID token): hold them and kill there.
      adversary.tamper = { fault: (endpoint) => (endpoint === 'jwks' ? 'hang' : undefined) };
      const run = startToken(face, profile);
      let ended: CliResult | undefined;
      void run.done.then((result) => (ended = result));
      await until('the client to ask for the keys', () => adversary.count('jwks') > 0 || ended !== undefined);
      assert.equal(ended, undefined, 'the client was still at work when it asked for the keys');
      run.child.kill('SIGKILL');
      await run.done;
      assert.equal(refreshes(), 1, 'the provider renewed (and rotated) once');
      adversary.reset();

      const next = await token(face, profile);
      assert.equal(next.code, 0, next.stderr);
      const accessToken = next.stdout.trim();
      assert.ok(accessToken.length > 10, 'a token was printed');
      assert.equal(refreshes(), 0, 'the stored answer was checked; nothing was redeemed again');
      assert.equal((await store.load(profile))?.pendingRefresh, undefined, 'the renewal is finished');
      assert.equal((await token(face, profile)).stdout.trim(), accessToken, 'the same token, fresh, without a refresh');

      // The grant is alive: the rotated refresh token works (a spent one would revoke the grant).
      await expire(profile);
      const after = await token(face, profile);
      assert.equal(after.code, 0, after.stderr);
      assert.notEqual(after.stdout.trim(), accessToken);
      assert.equal(refreshes(), 1);
    });

    test('the provider\'s keys answer 503 after the renewal: a clear error, and the next use works', async () => {
      const profile = await expiredSession(`jwks-503-${face}`);
      const { adversary } = fixture;
      adversary.tamper = {
        fault: (endpoint) => (endpoint === 'jwks' ? { status: 503, headers: { 'Content-Type': 'text/html' }, body: '<h1>Busy</h1>' } : undefined),
      };
      const failed = await token(face, profile);
      assert.equal(failed.code, 1);
      assert.match(failed.stderr, /error: invalid_response: .*HTTP 503.*The renewed tokens are saved, .*nothing is lost/);
      assert.equal(failed.stdout, '', 'no token before its renewal was checked');
      adversary.tamper = {};
      const next = await token(face, profile);
      assert.equal(next.code, 0, next.stderr);
      assert.equal(refreshes(), 1, 'one renewal in all');
    });
  });
}

describe('renewals that are unusual but valid', () => {
  test('a token endpoint written unnormalised and expires_in sent as a string: stored ahead, checked, and expiring', async () => {
    const profile = await expiredSession('unnormalised');
    const { adversary } = fixture;
    adversary.tamper = {
      discovery: (document) => ({ ...document, token_endpoint: `${adversary.issuer}/oauth/./token` }),
      token: (body, grant) => (grant === 'refresh_token' ? { ...body, expires_in: String(body.expires_in) } : body),
    };
    const fresh = await getAccessToken(store, profile);
    const stored = await store.load(profile);
    assert.equal(stored?.accessToken, fresh);
    assert.equal(stored?.pendingRefresh, undefined);
    assert.equal(typeof stored?.expiresAt, 'number', 'the renewed token expires (and is renewed again) like any other');
    assert.equal(refreshes(), 1);
  });

  test('a renewal left unchecked until its token expired: finished, then renewed again', async () => {
    const profile = await expiredSession('unchecked-expired');
    const { adversary } = fixture;
    adversary.tamper = { fault: (endpoint) => (endpoint === 'jwks' ? { status: 503, body: 'busy' } : undefined) };
    await assert.rejects(getAccessToken(store, profile), /nothing is lost/);
    // Two hours pass before the next use.
    const pending = (await store.load(profile)) as NonNullable<Awaited<ReturnType<typeof store.load>>>;
    const earlier = Math.floor(Date.now() / 1000) - 7200;
    await store.save(profile, {
      ...pending,
      obtainedAt: earlier,
      expiresAt: earlier + 3600,
      pendingRefresh: { ...(pending.pendingRefresh as NonNullable<typeof pending.pendingRefresh>), receivedAt: earlier },
    });
    adversary.tamper = {};
    const fresh = await getAccessToken(store, profile);
    assert.notEqual(fresh, pending.accessToken, 'not the token that expired meanwhile');
    assert.equal(refreshes(), 2);
  });
});

describe('a renewal that fails its checks', () => {
  test('keys out of reach and a renewed ID token about another user: kept unchecked and unused, then signed out once the keys answer', async () => {
    const profile = await expiredSession('other-user-later');
    const { adversary } = fixture;
    adversary.tamper = {
      token: (body, grant) => (grant === 'refresh_token' ? reSignIdToken(adversary.keys.provider, ({ payload }) => (payload.sub = 'mallory'))(body) : body),
      fault: (endpoint) => (endpoint === 'jwks' ? 'drop' : undefined),
    };
    await assert.rejects(getAccessToken(store, profile), (error: ConnectError) => error.code === 'network_error' && /nothing is lost/.test(error.message));
    adversary.tamper = {};
    await assert.rejects(getAccessToken(store, profile), (error: ConnectError) => {
      assert.equal(error.code, 'id_token_invalid');
      assert.match(error.message, /about another user.*signed out for safety/);
      return true;
    });
    assert.equal(await store.load(profile), null);
    assert.equal(adversary.count('revocation'), 2, 'the untrusted tokens were revoked at the provider');
  });

  test('a renewed ID token signed with a key the provider does not publish: signed out, with a sentence that says why', async () => {
    const profile = await expiredSession('bad-signature');
    const { adversary } = fixture;
    adversary.tamper = { token: (body, grant) => (grant === 'refresh_token' ? reSignIdToken(adversary.keys.otherRsa)(body) : body) };
    await assert.rejects(getAccessToken(store, profile), (error: ConnectError) => {
      assert.equal(error.code, 'id_token_invalid');
      assert.match(error.message, /signed out for safety; please sign in again/);
      return true;
    });
    assert.equal(await store.load(profile), null, 'no half-renewed session is left');
  });
});

/** The process that owns the Secret Service on this test session's bus (GNOME Keyring). */
function keyringPid(): number {
  const reply = execFileSync(
    'dbus-send',
    ['--session', '--print-reply', '--dest=org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus.GetConnectionUnixProcessID', 'string:org.freedesktop.secrets'],
    { encoding: 'utf8' },
  );
  const pid = Number(/uint32 (\d+)/.exec(reply)?.[1]);
  assert.ok(pid > 0, `the keyring's process id: ${reply}`);
  return pid;
}

describe('a keychain that stops answering', () => {
  test('stopped (SIGSTOP) right after the provider answered: the renewal waits, says so, and is saved when it answers again', async () => {
    const profile = await expiredSession('keyring-stop');
    const { adversary } = fixture;
    const pid = keyringPid();
    let resume: NodeJS.Timeout | undefined;
    adversary.tamper = {
      answered: (endpoint, grant) => {
        if (endpoint !== 'token' || grant !== 'refresh_token') return;
        process.kill(pid, 'SIGSTOP');
        resume = setTimeout(() => process.kill(pid, 'SIGCONT'), 9000);
      },
    };
    try {
      const result = await runCli(['token', '--profile', profile], {}, { timeoutMs: 120_000 });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /The system keychain does not answer; the renewed sign-in of profile ".*" is kept in memory/);
      assert.match(result.stderr, /The system keychain answered; the renewed sign-in of profile ".*" is saved\./);
      adversary.reset();
      const next = await runCli(['token', '--profile', profile]);
      assert.equal(next.stdout, result.stdout, 'the saved token is the renewed one');
      assert.equal(refreshes(), 0);
    } finally {
      clearTimeout(resume);
      process.kill(pid, 'SIGCONT');
    }
  });
});

describe('the profile lock under a slow provider', () => {
  test('the provider answers the renewal after 17 s and five processes want a token: one renewal, five tokens', async () => {
    const profile = await expiredSession('slow-five');
    const { adversary } = fixture;
    adversary.tamper = { delayMs: (endpoint, grant) => (endpoint === 'token' && grant === 'refresh_token' ? 17_000 : undefined) };
    const results = await Promise.all(Array.from({ length: 5 }, () => runCli(['token', '--profile', profile], {}, { timeoutMs: 120_000 })));
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    assert.equal(new Set(results.map((r) => r.stdout)).size, 1, 'every process got the one renewed token');
    assert.equal(refreshes(), 1);
  });
});

describe('the profile lock left by a crash', () => {
  test('a lock naming a live, unrelated process (its PID reused): taken over at once, and the renewal goes on', async () => {
    const profile = await expiredSession('pid-reused');
    const stranger = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      const now = Date.now();
      const record = { id: 'crashed-holder', pid: stranger.pid, host: hostname(), start: 'linux:not-this-process', since: now, at: now, until: now + 600_000 };
      writeFileSync(join(runtimeDir(), `${profile}.lock`), JSON.stringify(record), { mode: 0o600 });
      const started = Date.now();
      const result = await runCli(['token', '--profile', profile]);
      assert.equal(result.code, 0, result.stderr);
      assert.ok(Date.now() - started < 5000, `not blocked by the stranger (${Date.now() - started} ms)`);
      assert.equal(refreshes(), 1);
    } finally {
      stranger.kill();
    }
  });

  test('the runtime folder is full: a clear error naming the folder, nothing sent, no draft left', async () => {
    const profile = await expiredSession('runtime-full');
    // A tiny private tmpfs holds every folder the runtime folder may be made in, then is filled up.
    const script = `
      set -e
      mount -t tmpfs -o size=64k,mode=700 tmpfs "$DIR"
      mkdir -m 700 "$DIR/run" "$DIR/tmp" "$DIR/cache"
      dd if=/dev/zero of="$DIR/fill" bs=4k count=100 2>/dev/null || true
      XDG_RUNTIME_DIR="$DIR/run" TMPDIR="$DIR/tmp" XDG_CACHE_HOME="$DIR/cache" "$NODE" "$CLI" token --profile "$PROFILE" 2>&1 || echo "exit $?"
      find "$DIR" -name '*.draft' -o -name '*.aside' | sed 's/^/left: /'`;
    const dir = mkdtempSync(join(tmpdir(), 'connect-full-'));
    const out = execFileSync('unshare', ['--mount', 'sh', '-c', script], {
      env: { ...process.env, DIR: dir, NODE: process.execPath, CLI, PROFILE: profile },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    assert.match(out, /^exit 1$/m, out);
    assert.match(out, /error: runtime_dir_unavailable: The lock of profile ".*" cannot be written in the folder .*: the disk is full/);
    assert.doesNotMatch(out, /^left: /m, 'no draft or aside file is left');
    assert.equal(refreshes(), 0, 'nothing was sent to the provider');
    const next = await runCli(['token', '--profile', profile]);
    assert.equal(next.code, 0, next.stderr);
  });
});

/** A D-Bus session bus with no Secret Service on it and none to start. */
function busWithoutKeychain(): { address: string; stop(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'connect-bus-'));
  const config = join(dir, 'bus.conf');
  writeFileSync(
    config,
    `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:dir=${dir}</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*"/><allow own="*"/></policy></busconfig>`,
  );
  const out = execFileSync('dbus-daemon', [`--config-file=${config}`, '--fork', '--print-address=1', '--print-pid=1'], { encoding: 'utf8' });
  const [address, pid] = out.trim().split('\n');
  return { address: address as string, stop: () => process.kill(Number(pid), 'SIGTERM') };
}

/**
 * Run `work` while GNOME Keyring cannot write its keyring file (as on a full or read-only disk): it
 * still answers reads from memory, and every write fails. `chattr +i` holds even for root.
 */
async function withKeyringReadOnly<T>(work: (readOnly: () => void) => Promise<T>, from: 'now' | 'when asked' = 'now'): Promise<T> {
  const dir = join(process.env.XDG_DATA_HOME as string, 'keyrings');
  const paths = [dir, ...readdirSync(dir).map((name) => join(dir, name))];
  const readOnly = () => execFileSync('chattr', ['+i', ...paths]);
  if (from === 'now') readOnly();
  try {
    return await work(readOnly);
  } finally {
    execFileSync('chattr', ['-i', ...paths]);
  }
}

describe('the keychain is checked before anything irreversible', () => {
  test('login with no keychain: refused before the browser opens; the provider saw no sign-in', async () => {
    const bus = busWithoutKeychain();
    const marker = join(mkdtempSync(join(tmpdir(), 'connect-browser-')), 'opened');
    try {
      const { adversary } = fixture;
      adversary.reset();
      const result = await runCli(
        ['login', '--issuer', adversary.issuer, '--client-id', adversary.provider.publicClientId, '--redirect-uri', LOOPBACK, '--profile', fixture.profileFor('no-keychain'), '--json'],
        { DBUS_SESSION_BUS_ADDRESS: bus.address, BROWSER: `touch ${marker}` },
        { timeoutMs: 60_000 },
      );
      assert.equal(result.code, 1, result.stderr);
      const out = jsonOf(result);
      assert.equal(out.error, 'keychain_unavailable');
      assert.match(String(out.error_description), /Could not (read from|write to) the Secret Service keyring/);
      assert.equal(existsSync(marker), false, 'the browser was never opened');
      assert.equal(adversary.count('authorization'), 0);
      assert.equal(adversary.count('token'), 0);
    } finally {
      bus.stop();
    }
  });

  test('a keychain that can be read but not written (its disk is read-only): login refused before the browser opens', async () => {
    const marker = join(mkdtempSync(join(tmpdir(), 'connect-browser-')), 'opened');
    const { adversary } = fixture;
    adversary.reset();
    const result = await withKeyringReadOnly(() =>
      runCli(
        ['login', '--issuer', adversary.issuer, '--client-id', adversary.provider.publicClientId, '--redirect-uri', LOOPBACK, '--profile', fixture.profileFor('ro-login'), '--json'],
        { BROWSER: `touch ${marker}` },
        { timeoutMs: 60_000 },
      ),
    );
    assert.equal(result.code, 1, result.stderr);
    assert.equal(jsonOf(result).error, 'keychain_unavailable');
    assert.match(String(jsonOf(result).error_description), /Could not write to the Secret Service keyring/);
    assert.equal(existsSync(marker), false, 'the browser was never opened');
    assert.equal(adversary.count('authorization'), 0);
  });

  test('the keychain breaks while the user is at the browser: the tokens just issued are revoked, nothing is stored', async () => {
    const { adversary, browser } = fixture;
    adversary.reset();
    const profile = fixture.profileFor('breaks-meanwhile');
    const user = browser.opener();
    await withKeyringReadOnly(async (readOnly) => {
      const attempt = startSignIn({
        settings: { issuer: adversary.issuer, clientId: adversary.provider.publicClientId, redirectUri: LOOPBACK, scope: 'openid offline_access' },
        profile,
        store,
        timeoutMs: 60_000,
        browser: {
          open: async (url) => {
            readOnly(); // after the check before the browser, before the tokens are stored
            await user.open(url);
          },
        },
      });
      await assert.rejects(attempt.result, (error: ConnectError) => {
        assert.equal(error.code, 'keychain_unavailable');
        assert.match(error.message, /The sign-in could not be kept, and the tokens the provider issued were revoked; nothing was stored\./);
        return true;
      });
    }, 'when asked');
    assert.equal(adversary.count('revocation'), 2, 'the refresh token and the access token were revoked');
    assert.equal(await store.load(profile), null);
  });

  test('a keychain that can be read but not written: the refresh token is not spent, and the next use after that is fixed works', async () => {
    const profile = await expiredSession('ro-refresh');
    const result = await withKeyringReadOnly(() => runCli(['token', '--profile', profile]));
    assert.equal(result.code, 1);
    assert.match(result.stderr, /error: keychain_unavailable: Could not write to the Secret Service keyring/);
    assert.equal(result.stdout, '');
    assert.equal(refreshes(), 0, 'nothing was redeemed');
    const next = await runCli(['token', '--profile', profile]);
    assert.equal(next.code, 0, next.stderr);
    assert.equal(refreshes(), 1);
  });
});

describe('a clock that is hours off', () => {
  test('this computer two hours ahead: sign-in and renewal check token times against the provider\'s clock, and CONNECT_DEBUG says so', async () => {
    const { adversary, browser } = fixture;
    const profile = fixture.profileFor('clock-ahead');
    const faked = { FAKETIME: '+2h', LD_PRELOAD: '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', CONNECT_DEBUG: '1' };
    const login = await runCli(
      ['login', '--issuer', adversary.issuer, '--client-id', adversary.provider.publicClientId, '--redirect-uri', LOOPBACK, '--scope', 'openid offline_access', '--profile', profile, '--json'],
      { ...faked, BROWSER: await browser.command() },
      { timeoutMs: 60_000 },
    );
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stderr, /debug: clock: this computer's clock is 7\d\d\d s ahead of the provider's/);
    await expire(profile);
    fixture.adversary.reset();
    const renewed = await runCli(['token', '--profile', profile], faked);
    assert.equal(renewed.code, 0, renewed.stderr);
    assert.equal(refreshes(), 1);
  });
});
