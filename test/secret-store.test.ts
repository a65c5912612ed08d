// The keychain seam against the real Secret Service (a throwaway GNOME Keyring in the test session).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { ConnectError } from '../src/common/errors.js';
import { chunkedStore } from '../src/secret-store/chunked.js';
import { keychainEntries, keychainStore } from '../src/secret-store/keychain.js';
import { startFakeBus, workingService } from './support/fake-bus.js';

const SERVICE = 'connect-desktop-tests';
const account = () => `test-${randomBytes(4).toString('hex')}`;

describe('OS keychain', () => {
  test('write, read, overwrite and delete an entry', async () => {
    const store = keychainStore(SERVICE);
    const name = account();
    assert.equal(await store.get(name), null);
    await store.set(name, 'first');
    assert.equal(await store.get(name), 'first');
    await store.set(name, 'second');
    assert.equal(await store.get(name), 'second');
    assert.equal(await store.delete(name), true);
    assert.equal(await store.get(name), null);
    assert.equal(await store.delete(name), false);
  });
  test('a token set of several kilobytes is one entry here (the Secret Service has no small limit)', async () => {
    const store = keychainStore(SERVICE);
    const raw = keychainEntries(SERVICE);
    const name = account();
    const tokenSet = JSON.stringify({ idToken: 'i'.repeat(6000), accessToken: 'a'.repeat(3000) });
    await store.set(name, tokenSet);
    assert.equal(await raw.get(name), tokenSet, 'stored as is, in one step');
    assert.deepEqual((await raw.list()).filter((entry) => entry.startsWith(name)), [name]);
    await store.delete(name);
  });
  // An unreachable keychain is tested through the CLI, in a process of its own (cli-login.test.ts):
  // the library keeps one D-Bus connection per process.

  test('entries are the keyring crate\'s own items: either reads what the other wrote (earlier versions used it on Linux)', async () => {
    const { AsyncEntry } = await import('@napi-rs/keyring');
    const store = keychainEntries(SERVICE);
    const pinned = { linux: { store: 'secret-service' as const } };
    const older = account();
    await new AsyncEntry(SERVICE, older, pinned).setPassword('written by the crate, é');
    assert.equal(await store.get(older), 'written by the crate, é');
    assert.ok((await store.list()).includes(older));
    await store.set(older, 'overwritten here');
    assert.equal(await new AsyncEntry(SERVICE, older, pinned).getPassword(), 'overwritten here', 'the same item, not a second one');
    const newer = account();
    await store.set(newer, 'written here');
    assert.equal(await new AsyncEntry(SERVICE, newer, pinned).getPassword(), 'written here');
    assert.equal(await store.delete(older), true);
    assert.equal(await new AsyncEntry(SERVICE, older, pinned).getPassword(), null);
    assert.equal(await new AsyncEntry(SERVICE, newer, pinned).deleteCredential(), true);
    assert.equal(await store.get(newer), null);
  });
});

/**
 * Runs keychain calls in a process of its own against another bus (`store`: entries with a 1-second
 * timeout; `keychain`: the module): what the expression returned or threw, and how long the process ran.
 */
async function callIn(env: NodeJS.ProcessEnv, call: string): Promise<{ outcome: string; ms: number }> {
  const { execFile } = await import('node:child_process');
  const script = `
    const keychain = await import(${JSON.stringify(new URL('../src/secret-store/keychain.js', import.meta.url).href)});
    const store = keychain.keychainEntries(${JSON.stringify(SERVICE)}, { timeoutMs: 1000 });
    try { console.log(JSON.stringify(await ${call})); } catch (error) { console.log(error.code + ': ' + error.message); }`;
  const started = Date.now();
  const stdout = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, ...env }, timeout: 30_000 }, (error, out) => (error ? reject(error) : resolve(out))),
  );
  return { outcome: stdout.trim(), ms: Date.now() - started };
}

describe('a keychain that cannot serve: a clear error, and the process ends as usual', () => {
  test('a bus that never answers: the call fails after its timeout, and the process exits at once', async () => {
    const { createServer } = await import('node:net');
    const dir = mkdtempSync(join(tmpdir(), 'connect-silent-bus-'));
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(join(dir, 'bus'), resolve));
    try {
      const { outcome, ms } = await callIn({ DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(dir, 'bus')}` }, 'store.get("x")');
      assert.match(outcome, /^keychain_unavailable: Could not read from the Secret Service keyring .*: it did not answer within 1 second\. Tokens are kept only in the system keychain/);
      // Node alone starts in well under a second: the process did not wait on the silent bus.
      assert.ok(ms < 3500, `the process ran ${ms} ms`);
    } finally {
      silent.close();
    }
  });

  test('a bus without a Secret Service: said in words', async () => {
    const { spawn } = await import('node:child_process');
    const dir = mkdtempSync(join(tmpdir(), 'connect-bare-bus-'));
    // A session bus of its own, with no service it could start on demand.
    writeFileSync(
      join(dir, 'bus.conf'),
      `<busconfig><type>session</type><listen>unix:path=${join(dir, 'bus')}</listen><auth>EXTERNAL</auth>` +
        '<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>',
    );
    const daemon = spawn('dbus-daemon', [`--config-file=${join(dir, 'bus.conf')}`, '--nofork', '--print-address'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      await new Promise((resolve) => daemon.stdout.once('data', resolve));
      const { outcome } = await callIn({ DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(dir, 'bus')}` }, 'store.set("x", "y")');
      assert.match(outcome, /^keychain_unavailable: Could not write to the Secret Service keyring .*: no Secret Service runs on the session bus \(GNOME Keyring, KWallet or KeePassXC provide one\)\./);
    } finally {
      daemon.kill();
    }
  });

  test('the keyring dies while its unlock prompt shows: the call fails then, not after the prompt\'s 2 minutes', async () => {
    const bus = await startFakeBus((call, reply) => {
      if (call.member === 'SearchItems') reply.ok('aoao', [[], ['/org/freedesktop/secrets/collection/login/1']]);
      else if (call.member === 'Unlock') reply.ok('aoo', [[], '/org/freedesktop/secrets/prompt/p1']);
      else if (call.member === 'Prompt') {
        reply.ok('', []);
        // The prompt is up; then the keyring (and with it this connection) goes away.
        setTimeout(() => reply.socket.destroy(), 300);
      } else return workingService()(call, reply);
      return true;
    });
    try {
      const { outcome, ms } = await callIn({ DBUS_SESSION_BUS_ADDRESS: bus.address }, 'store.get("x")');
      assert.match(outcome, /^keychain_unavailable: Could not read from .*: the session bus closed the connection\./);
      assert.ok(ms < 3500, `the process ran ${ms} ms`);
    } finally {
      bus.close();
    }
  });

  test('the keyring leaves the bus while its unlock prompt shows (the connection stays): the call fails then', async () => {
    const bus = await startFakeBus((call, reply) => {
      if (call.member === 'SearchItems') reply.ok('aoao', [[], ['/org/freedesktop/secrets/collection/login/1']]);
      else if (call.member === 'Unlock') reply.ok('aoo', [[], '/org/freedesktop/secrets/prompt/p1']);
      else if (call.member === 'Prompt') {
        reply.ok('', []);
        // The bus says the keyring's name has lost its owner: it died, and its prompt with it.
        const gone = ['org.freedesktop.secrets', ':1.99', ''];
        setTimeout(() => reply.signal('/org/freedesktop/DBus', 'org.freedesktop.DBus', 'NameOwnerChanged', 'sss', gone), 300);
      } else return workingService()(call, reply);
      return true;
    });
    try {
      const { outcome, ms } = await callIn({ DBUS_SESSION_BUS_ADDRESS: bus.address }, 'store.get("x")');
      assert.match(outcome, /^keychain_unavailable: Could not read from .*: the keyring left the bus while its prompt was showing\./);
      assert.ok(ms < 3500, `the process ran ${ms} ms`);
    } finally {
      bus.close();
    }
  });

  test('the keyring restarted since the last call: its session is gone, and the call is made once more on a new one', async () => {
    const bus = await startFakeBus((call, reply) => {
      // The first connection's session is gone by the time the secret is asked for.
      if (call.member === 'GetSecret' && reply.connection === 1) reply.fail('org.freedesktop.Secret.Error.NoSession', 'The session does not exist');
      else return workingService(new Map([['x', 'still here']]))(call, reply);
      return true;
    });
    try {
      const { outcome } = await callIn({ DBUS_SESSION_BUS_ADDRESS: bus.address }, 'store.get("x")');
      assert.equal(outcome, '"still here"');
      assert.equal(bus.connections, 2);
    } finally {
      bus.close();
    }
  });

  test('calls waiting behind one that gets no answer share its failure: one timeout, not one per call', async () => {
    const bus = await startFakeBus((call) => call.member === 'OpenSession');
    try {
      const { outcome, ms } = await callIn(
        { DBUS_SESSION_BUS_ADDRESS: bus.address },
        '(await Promise.allSettled(["a", "b", "c", "d"].map((name) => store.get(name)))).map((r) => r.reason?.code)',
      );
      assert.deepEqual(JSON.parse(outcome), ['keychain_unavailable', 'keychain_unavailable', 'keychain_unavailable', 'keychain_unavailable']);
      // One second for the first; one each would be four.
      assert.ok(ms < 3000, `the process ran ${ms} ms`);
      // A call made after that tries again.
      const later = await callIn({ DBUS_SESSION_BUS_ADDRESS: bus.address }, 'store.get("a").catch(() => store.get("b")).catch((e) => e.code)');
      assert.equal(later.outcome, '"keychain_unavailable"');
      assert.ok(later.ms >= 2000, `two calls, one after the other, each waited (${later.ms} ms)`);
    } finally {
      bus.close();
    }
  });

  test('a bus that never answers Hello: each connection is closed after its timeout, not kept', async () => {
    const bus = await startFakeBus((call) => call.member === 'Hello');
    // The process's open sockets, before and after three calls made one after the other.
    try {
      const { outcome } = await callIn(
        { DBUS_SESSION_BUS_ADDRESS: bus.address },
        `(async () => {
          const { readdirSync, readlinkSync } = await import('node:fs');
          const count = () => readdirSync('/proc/self/fd').filter((fd) => { try { return readlinkSync('/proc/self/fd/' + fd).startsWith('socket:'); } catch { return false; } }).length;
          const before = count();
          for (const name of ['a', 'b', 'c']) await store.get(name).catch(() => undefined);
          return count() - before;
        })()`,
      );
      assert.equal(outcome, '0', 'no socket is left open');
      assert.equal(bus.connections, 3);
    } finally {
      bus.close();
    }
  });

  test('connecting ahead of time (the CLI does it at start) never keeps a process alive by itself', async () => {
    const bus = await startFakeBus(() => true);
    try {
      const { outcome, ms } = await callIn({ DBUS_SESSION_BUS_ADDRESS: bus.address }, '(keychain.warmUpKeychain(), "warming up")');
      assert.equal(outcome, '"warming up"');
      assert.ok(ms < 1500, `the process ran ${ms} ms (a call's timeout is 5 s)`);
    } finally {
      bus.close();
    }
  });

  test('a reply of the wrong type, a NUL in a name, a value too large to read back: refused in words, nothing sent or kept', async () => {
    const bus = await startFakeBus((call, reply) => {
      if (call.member !== 'OpenSession') return false;
      reply.ok('s', ['not a session']);
      return true;
    });
    try {
      const { outcome } = await callIn({ DBUS_SESSION_BUS_ADDRESS: bus.address }, 'store.get("x")');
      assert.match(outcome, /^keychain_unavailable: .*: the bus answered OpenSession with values of type "s", not "vo"\./);
    } finally {
      bus.close();
    }
    const store = keychainEntries(SERVICE);
    await assert.rejects(store.get('a\0b'), (e: ConnectError) => e.code === 'keychain_unavailable' && /holds a NUL character/.test(e.message));
    const name = account();
    await assert.rejects(store.set(name, 'x'.repeat(9 * 2 ** 20)), (e: ConnectError) => /larger than the 8 MB this client keeps in one entry/.test(e.message));
    assert.equal(await store.get(name), null, 'nothing was written');
  });

  test('two items for one account (another program made them): get and set refuse, list names it once, delete removes both', async () => {
    const { execFileSync } = await import('node:child_process');
    const name = account();
    for (const extra of ['1', '2']) {
      execFileSync('secret-tool', ['store', '--label', 'made elsewhere', 'service', SERVICE, 'username', name, 'extra', extra], { input: `secret ${extra}` });
    }
    const store = keychainEntries(SERVICE);
    await assert.rejects(store.get(name), (e: ConnectError) => /holds 2 items for ".*" of connect-desktop-tests, where one is expected/.test(e.message));
    await assert.rejects(store.set(name, 'new'), (e: ConnectError) => e.code === 'keychain_unavailable');
    assert.deepEqual((await store.list()).filter((n) => n === name), [name]);
    assert.equal(await store.delete(name), true);
    assert.equal(await store.get(name), null);
  });

  test('a bus that announces an answer of 20 MB: refused before reading it (16 MB at most), in words', async () => {
    const bus = await startFakeBus((call, reply) => {
      if (call.member !== 'Hello') return false;
      const head = Buffer.alloc(16);
      head.write('l\x02\x01\x01', 0, 'latin1');
      head.writeUInt32LE(20 * 2 ** 20, 4);
      head.writeUInt32LE(1, 8);
      reply.socket.write(head);
      return true;
    });
    try {
      const { outcome, ms } = await callIn({ DBUS_SESSION_BUS_ADDRESS: bus.address }, 'store.get("x")');
      assert.match(outcome, /^keychain_unavailable: .*: the bus sent a message of 20971536 bytes, more than this client accepts\./);
      assert.ok(ms < 3500, `the process ran ${ms} ms`);
    } finally {
      bus.close();
    }
  });

  test('no session bus at all, or a bus that talks nonsense: said in words', async () => {
    const none = await callIn({ DBUS_SESSION_BUS_ADDRESS: '', XDG_RUNTIME_DIR: '/nonexistent' }, 'store.list()');
    assert.match(none.outcome, /^keychain_unavailable: Could not list the entries of the Secret Service keyring .*: there is no D-Bus session bus \(DBUS_SESSION_BUS_ADDRESS is not set\)\./);
    const tcp = await callIn({ DBUS_SESSION_BUS_ADDRESS: 'tcp:host=127.0.0.1,port=9' }, 'store.list()');
    assert.match(tcp.outcome, /names no Unix socket this client can use/);

    const { createServer } = await import('node:net');
    const dir = mkdtempSync(join(tmpdir(), 'connect-noise-bus-'));
    // It accepts the user, then answers Hello with bytes that are no D-Bus message.
    const noisy = createServer((socket) => {
      socket.once('data', () => {
        socket.write('OK 0123456789abcdef0123456789abcdef\r\n');
        socket.once('data', () => socket.write(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')));
      });
    });
    await new Promise<void>((resolve) => noisy.listen(join(dir, 'bus'), resolve));
    try {
      const { outcome, ms } = await callIn({ DBUS_SESSION_BUS_ADDRESS: `unix:path=${join(dir, 'bus')}` }, 'store.get("x")');
      assert.match(outcome, /^keychain_unavailable: .*: the bus sent something that is not a D-Bus message\./);
      assert.ok(ms < 3500, `the process ran ${ms} ms`);
    } finally {
      noisy.close();
    }
  });
});

describe('values larger than one entry holds (Windows Credential Manager: 2,560 bytes)', () => {
  const raw = keychainEntries(SERVICE);

  test('are split across entries, read back whole, and the parts go with the value', async () => {
    const store = chunkedStore(raw, 50);
    const name = account();
    const big = 'x'.repeat(120) + '€'.repeat(30);
    await store.set(name, big);
    assert.equal(await store.get(name), big);
    const head = (await raw.get(name)) ?? '';
    assert.match(head, /^connect-chunks:v1:[0-9a-f]{12}:3:/, 'the entry itself is a small head');
    const generation = head.split(':')[2];
    assert.equal((await raw.get(`${name}~${generation}~2`))?.length, 50);

    // Overwriting with a small value removes the old parts.
    await store.set(name, 'small');
    assert.equal(await store.get(name), 'small');
    assert.equal(await raw.get(`${name}~${generation}~0`), null);

    // Overwriting large with large switches generations and leaves no stray parts behind.
    await store.set(name, big);
    const second = (await raw.get(name))?.split(':')[2];
    await store.set(name, `${big}!`);
    assert.equal(await store.get(name), `${big}!`);
    assert.equal(await raw.get(`${name}~${second}~0`), null);

    assert.equal(await store.delete(name), true);
    assert.equal(await raw.get(name), null);
  });

  test('a missing or altered part is reported as damaged, never returned', async () => {
    const store = chunkedStore(raw, 10);
    const name = account();
    await store.set(name, 'abcdefghijklmnopqrstuvwxyz');
    const generation = (await raw.get(name))?.split(':')[2];
    await raw.set(`${name}~${generation}~1`, 'tampered!!');
    await assert.rejects(store.get(name), (e: ConnectError) => e.code === 'stored_session_invalid');
    await raw.delete(`${name}~${generation}~1`);
    await assert.rejects(store.get(name), (e: ConnectError) => e.code === 'stored_session_invalid');
    await store.delete(name);
  });
});

describe('a keychain waiting for the user', () => {
  test('a call the user is asked about is reported as waiting, then completes', async () => {
    const { startSlowBus } = await import('./support/slow-bus.js');
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    // The Linux library gives up on a D-Bus reply after 2 seconds, which bounds how long this model
    // can hold an answer: 1.5 s here, and "waiting" after 0.5 s instead of 2.
    const bus = await startSlowBus(1500);
    const name = account();
    const script = `
      const { keychainEntries, onKeychainWaiting } = await import(${JSON.stringify(new URL('../src/secret-store/keychain.js', import.meta.url).href)});
      const started = Date.now();
      const seen = [];
      onKeychainWaiting((waiting) => seen.push([waiting, Date.now() - started]));
      const store = keychainEntries(${JSON.stringify(SERVICE)}, { waitingAfterMs: 500 });
      let outcome;
      try {
        await store.set(${JSON.stringify(name)}, 'written while the user was asked');
        outcome = 'stored';
      } catch (error) {
        outcome = error.code + ' after ' + (Date.now() - started) + ' ms';
      }
      console.log(JSON.stringify({ outcome, seen, ms: Date.now() - started }));`;
    try {
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
        env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: bus.address },
        timeout: 60_000,
      });
      const result = JSON.parse(stdout) as { outcome: string; seen: [boolean, number][]; ms: number };
      assert.equal(result.outcome, 'stored');
      // The bus holds answers until 1.5 s after it started, which was before this process started.
      assert.ok(result.ms >= 900, `it did wait (${result.ms} ms)`);
      assert.deepEqual(result.seen.map(([waiting]) => waiting), [true, false], 'waiting, then not');
      const [[, waitingAt], [, doneAt]] = result.seen as [[boolean, number], [boolean, number]];
      assert.ok(waitingAt >= 450 && waitingAt < 1200, `"waiting" was said while the call waited (${waitingAt} ms), not after it ended (${doneAt} ms)`);
    } finally {
      bus.close();
    }
    const store = keychainEntries(SERVICE);
    assert.equal(await store.get(name), 'written while the user was asked');
    await store.delete(name);
  });

  test('a wait for the user is bounded by 2 minutes; a call to the Secret Service by 5 seconds', async () => {
    const keychain = await import('../src/secret-store/keychain.js');
    assert.equal(keychain.KEYCHAIN_PROMPT_TIMEOUT_MS, 120_000);
    assert.equal(keychain.KEYCHAIN_TIMEOUT_MS, 5000);
    assert.equal(keychain.KEYCHAIN_WAITING_AFTER_MS, 2000);
  });
});
