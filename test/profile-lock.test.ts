// The profile lock that keeps two processes from redeeming one rotating refresh token twice: at most
// one holder at a time (in one process and across processes); a running holder keeps it however long
// it takes and is waited for as long as it says it needs; a dead, garbled or impostor holder (its PID
// reused by another process) does not block anyone; a folder that cannot take the lock says why.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import { GRACE_MS, acquireProfileLock } from '../src/session/profile-lock.js';
import { processStart } from '../src/common/process-start.js';
import { runtimeDir } from '../src/session/runtime-dir.js';
import { ROOT, testProfile } from './support/cli.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const distUrl = (file: string) => JSON.stringify(pathToFileURL(join(ROOT, 'dist/src', file)).href);
const linuxOnly = { skip: process.platform !== 'linux' && 'needs Linux (mount namespaces, /proc)' };

async function until(what: string, check: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await pause(20);
  }
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.on('exit', resolve)));
}

/**
 * Another process that takes the lock, says so in `held`, keeps it `forMs`, notes the time in
 * `releasing` and releases. Files, not pipes: node.exe under Wine fails on a Unix pipe.
 */
async function otherHolder(profile: string, options: { holdMs?: number; expectMs?: number; forMs: number; renewMs?: number }) {
  const dir = mkdtempSync(join(tmpdir(), 'connect-holder-'));
  const script = `
    import { writeFileSync } from 'node:fs';
    import { acquireProfileLock } from ${distUrl('session/profile-lock.js')};
    const [profile, dir, options] = process.argv.slice(1);
    const { holdMs, expectMs, forMs, renewMs } = JSON.parse(options);
    const lock = await acquireProfileLock(profile, { holdMs, renewMs });
    if (expectMs) lock.expect(expectMs);
    writeFileSync(dir + '/held', String(Date.now()));
    await new Promise((resolve) => setTimeout(resolve, forMs));
    writeFileSync(dir + '/releasing', String(Date.now()));
    await lock.release();`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script, profile, dir, JSON.stringify(options)], { stdio: 'ignore' });
  const exited = exitOf(child);
  await until('the other process to hold the lock', () => existsSync(join(dir, 'held')) || child.exitCode !== null);
  assert.ok(existsSync(join(dir, 'held')), 'the other process took the lock');
  return {
    pid: child.pid as number,
    releasingAt: () => (existsSync(join(dir, 'releasing')) ? Number(readFileSync(join(dir, 'releasing'), 'utf8')) : null),
    exited,
    kill: () => child.kill('SIGKILL'),
  };
}

/** A process that just runs (for 30 s), as an unrelated program would. */
function bystander(): ChildProcess {
  return spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
}

function writeRecord(profile: string, record: Record<string, unknown>): void {
  const now = Date.now();
  writeFileSync(join(runtimeDir(), `${profile}.lock`), JSON.stringify({ id: randomUUID(), host: hostname(), since: now, at: now, until: now + 60_000, ...record }));
}

describe('profile lock', () => {
  test('twenty callers in one process: never two holders at once', async () => {
    const profile = testProfile('lock-one-process');
    let holding = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        const lock = await acquireProfileLock(profile);
        most = Math.max(most, ++holding);
        await pause(3);
        holding--;
        await lock.release();
      }),
    );
    assert.equal(most, 1);
  });

  test('six processes at once: their turns never overlap', async () => {
    const profile = testProfile('lock-processes');
    const log = join(mkdtempSync(join(tmpdir(), 'connect-lock-')), 'turns');
    writeFileSync(log, '');
    const script = `
      import { appendFileSync } from 'node:fs';
      import { acquireProfileLock } from ${distUrl('session/profile-lock.js')};
      const [profile, log] = process.argv.slice(1);
      for (let turn = 0; turn < 3; turn++) {
        const lock = await acquireProfileLock(profile, { renewMs: 5 });
        appendFileSync(log, 'in ' + process.pid + '\\n');
        await new Promise((resolve) => setTimeout(resolve, 15));
        appendFileSync(log, 'out ' + process.pid + '\\n');
        await lock.release();
      }`;
    const exits = Array.from({ length: 6 }, () => exitOf(spawn(process.execPath, ['--input-type=module', '-e', script, profile, log], { stdio: 'ignore' })));
    assert.deepEqual(await Promise.all(exits), [0, 0, 0, 0, 0, 0]);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    assert.equal(lines.length, 36);
    for (let i = 0; i < lines.length; i += 2) {
      const pid = lines[i]?.split(' ')[1];
      assert.deepEqual([lines[i], lines[i + 1]], [`in ${pid}`, `out ${pid}`], `turn ${i / 2} was not alone`);
    }
    assert.deepEqual(readdirSync(runtimeDir()).filter((name) => name.startsWith(`${profile}.`)), [], 'no lock, draft or aside is left');
  });

  test('a lock left by a process that died is taken over at once', async () => {
    const profile = testProfile('lock-dead');
    const dead = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await exitOf(dead);
    writeRecord(profile, { pid: dead.pid, start: null });
    const began = Date.now();
    const lock = await acquireProfileLock(profile, { timeoutMs: 1000 });
    assert.ok(Date.now() - began < 1000);
    await lock.release();
  });

  test('a lock naming a running, unrelated process (its PID reused after a crash) is taken over at once; its own start is respected', async () => {
    const profile = testProfile('lock-reused-pid');
    const other = bystander();
    try {
      const realStart = await processStart(other.pid as number);
      assert.ok(realStart, 'the start of a running process is known');
      // Recorded with the right start, it is a holder that runs: not taken over, even with a short lease.
      writeRecord(profile, { pid: other.pid, start: realStart });
      await assert.rejects(acquireProfileLock(profile, { timeoutMs: 1500, leaseMs: 300 }), { code: 'timeout' });
      // Recorded with another start, the PID now belongs to someone else.
      writeRecord(profile, { pid: other.pid, start: `${realStart}0` });
      const began = Date.now();
      const lock = await acquireProfileLock(profile);
      assert.ok(Date.now() - began < 1000, `took ${Date.now() - began} ms`);
      await lock.release();
    } finally {
      other.kill('SIGKILL');
    }
  });

  test('a running holder that never renews keeps the lock past any lease, and the waiter gets it right after', async () => {
    const profile = testProfile('lock-long-hold');
    // renewMs of a minute: its record goes stale at once; only its running process keeps the lock.
    const holder = await otherHolder(profile, { forMs: 3000, renewMs: 60_000 });
    const lock = await acquireProfileLock(profile, { renewMs: 50, leaseMs: 200 });
    const got = Date.now();
    const releasing = holder.releasingAt();
    assert.ok(releasing !== null, 'the lock was taken before its holder let it go');
    assert.ok(got - releasing < 1000, `got it ${got - releasing} ms after the release`);
    await lock.release();
    assert.equal(await holder.exited, 0);
  });

  test('a waiter waits as long as the holder says it needs (here: extended with expect) and gets the lock right after', async () => {
    const profile = testProfile('lock-expect');
    // It first says 1 s, then expects 30 s more: longer than the 15 s waiters used to allow, and
    // than 1 s plus the grace.
    const holder = await otherHolder(profile, { holdMs: 1000, expectMs: 30_000, forMs: 16_000 });
    const lock = await acquireProfileLock(profile);
    const releasing = holder.releasingAt();
    assert.ok(releasing !== null, 'the lock was taken before its holder let it go');
    assert.ok(Date.now() - releasing < 1000, `got it ${Date.now() - releasing} ms after the release`);
    await lock.release();
    assert.equal(await holder.exited, 0);
  });

  test('a holder still running well past the time it said it needed: the waiter gives up with a timeout that says so', async () => {
    const profile = testProfile('lock-overrun');
    const holder = await otherHolder(profile, { holdMs: 500, forMs: 30_000 });
    try {
      const began = Date.now();
      // A grace of 2 s instead of the default 10 s (asserted below), to keep the suite quick.
      await assert.rejects(acquireProfileLock(profile, { leaseMs: 1000, graceMs: 2000 }), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'timeout');
        // A time not of today has its date before it (clockTime): a run across midnight gets one.
        const at = '(?:[A-Z][a-z]{2} [A-Z][a-z]{2} \\d\\d \\d{4} )?\\d\\d:\\d\\d:\\d\\d';
        assert.match(
          error.message,
          new RegExp(
            `^Another program \\(process ${holder.pid}\\) has been renewing the tokens of profile "${profile}" since ${at}; ` +
              `it expected to be done by ${at} and is still running\\.`,
          ),
        );
        return true;
      });
      const waited = Date.now() - began;
      assert.ok(waited > 2000 && waited < 6000, `gave up after ${waited} ms (0.5 s + 2 s grace)`);
      assert.equal(GRACE_MS, 10_000, 'by default a waiter gives a holder 10 s past its expected end');
    } finally {
      holder.kill();
    }
  });

  test('a holder on another host (a shared folder) is judged by its renewals: kept while it renews, taken over a lease after it stops', async () => {
    const profile = testProfile('lock-other-host');
    const path = join(runtimeDir(), `${profile}.lock`);
    const record = { id: randomUUID(), pid: 4242, host: `not-${hostname()}`, start: 'elsewhere', since: Date.now(), until: Date.now() + 60_000 };
    // Renewed as that host's holder would: a new record renamed over the lock every 100 ms.
    const renew = () => {
      writeFileSync(`${path}.new`, JSON.stringify({ ...record, at: Date.now() }));
      renameSync(`${path}.new`, path);
    };
    renew();
    const renewals = setInterval(renew, 100);
    let stopped = Infinity;
    setTimeout(() => {
      clearInterval(renewals);
      stopped = Date.now();
    }, 1500);
    const lock = await acquireProfileLock(profile, { leaseMs: 500 });
    const got = Date.now();
    assert.ok(got > stopped, 'taken over while its holder still renewed');
    assert.ok(got - stopped >= 450 && got - stopped < 2000, `taken over ${got - stopped} ms after the last renewal`);
    await lock.release();
  });

  test('a live holder in this process: a waiter with its own cap gets a clear timeout, then its turn once released', async () => {
    const profile = testProfile('lock-busy');
    const lock = await acquireProfileLock(profile);
    await assert.rejects(acquireProfileLock(profile, { timeoutMs: 200 }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'timeout');
      assert.match(
        error.message,
        new RegExp(
          `^Another program \\(process ${process.pid}\\) has been renewing the tokens of profile "${profile}" since \\d\\d:\\d\\d:\\d\\d; ` +
            'this program stopped waiting after 0\\.2 s\\.',
        ),
      );
      return true;
    });
    const waiting = acquireProfileLock(profile, { timeoutMs: 5000 });
    await pause(50);
    await lock.release();
    await (await waiting).release();
  });

  test('a garbled lock file does not block anyone', async () => {
    const profile = testProfile('lock-garbled');
    writeFileSync(join(runtimeDir(), `${profile}.lock`), 'not json');
    const lock = await acquireProfileLock(profile, { timeoutMs: 1000 });
    await lock.release();
  });

  test('drafts and moved-aside records a crash left are removed once a minute old; a fresh one (another taker\'s) is not', async () => {
    const profile = testProfile('lock-leftovers');
    const dir = runtimeDir();
    const old = [`${profile}.lock.${randomUUID()}.draft`, `${profile}.lock.${randomUUID()}.aside`];
    const fresh = `${profile}.lock.${randomUUID()}.draft`;
    for (const name of [...old, fresh]) writeFileSync(join(dir, name), '');
    const minutesAgo = new Date(Date.now() - 120_000);
    for (const name of old) utimesSync(join(dir, name), minutesAgo, minutesAgo);
    const lock = await acquireProfileLock(profile);
    await lock.release();
    assert.deepEqual(readdirSync(dir).filter((name) => name.startsWith(`${profile}.`)), [fresh]);
  });
});

/**
 * Runs `steps` (an ES module body, with `mnt`, `runtimeDir`, `acquireProfileLock` and `out(value)`)
 * in a mount namespace of its own, where `mnt` is a fresh tmpfs mounted with `mountOptions`, and
 * every candidate runtime folder lies inside it. Resolves with what it gave to out().
 */
async function inTinyFileSystem(mountOptions: string, steps: string): Promise<Record<string, unknown>> {
  const mnt = mkdtempSync(join(tmpdir(), 'connect-tmpfs-'));
  const script = join(mkdtempSync(join(tmpdir(), 'connect-tmpfs-script-')), 'steps.mjs');
  writeFileSync(
    script,
    `import * as fs from 'node:fs';
    import { execFileSync } from 'node:child_process';
    import { join } from 'node:path';
    import { acquireProfileLock } from ${distUrl('session/profile-lock.js')};
    import { runtimeDir, runtimeDirCandidates, ownPrivateFolder } from ${distUrl('session/runtime-dir.js')};
    const mnt = process.argv[2];
    const out = (value) => process.stdout.write(JSON.stringify(value));
    ${steps}`,
  );
  const env = { ...process.env, XDG_RUNTIME_DIR: join(mnt, 'run'), TMPDIR: join(mnt, 'tmp'), HOME: join(mnt, 'home'), XDG_CACHE_HOME: '' };
  const stdout = execFileSync(
    'unshare',
    ['--mount', 'sh', '-c', 'mount -t tmpfs -o "$1" tmpfs "$2" && exec "$3" "$4" "$2"', 'sh', mountOptions, mnt, process.execPath, script],
    { env, encoding: 'utf8', timeout: 30_000 },
  );
  return JSON.parse(stdout) as Record<string, unknown>;
}

describe('profile lock: a runtime folder that cannot take it', linuxOnly, () => {
  const attempt = `
    try {
      await acquireProfileLock('work');
      out({ ok: true });
    } catch (error) {
      out({ code: error.code, message: error.message, left: fs.readdirSync(dir) });
    }`;

  test('the disk is full (no room for the record): runtime_dir_unavailable in words, no empty draft left', async () => {
    const result = await inTinyFileSystem(
      'size=64k',
      `const dir = runtimeDir();
      try { for (;;) fs.appendFileSync(join(mnt, 'filler'), Buffer.alloc(4096)); } catch (error) { if (error.code !== 'ENOSPC') throw error; }
      ${attempt}`,
    );
    assert.equal(result.code, 'runtime_dir_unavailable', JSON.stringify(result));
    assert.match(result.message as string, /^The lock of profile "work" cannot be written in the folder \/.*connect-tmpfs-.*: the disk is full\.$/);
    assert.deepEqual(result.left, [], 'no draft, no lock');
  });

  test('the disk is full (no room for another file): the same', async () => {
    const result = await inTinyFileSystem(
      'nr_inodes=16',
      `const dir = runtimeDir();
      try { for (let i = 0; ; i++) fs.writeFileSync(join(mnt, 'f' + i), ''); } catch (error) { if (error.code !== 'ENOSPC') throw error; }
      ${attempt}`,
    );
    assert.equal(result.code, 'runtime_dir_unavailable', JSON.stringify(result));
    assert.match(result.message as string, /: the disk is full\.$/);
    assert.deepEqual(result.left, []);
  });

  test('the folders became read-only: runtime_dir_unavailable naming each folder and why', async () => {
    const result = await inTinyFileSystem(
      'size=64k',
      `for (const candidate of runtimeDirCandidates()) ownPrivateFolder(candidate);
      const dir = runtimeDir();
      execFileSync('mount', ['-o', 'remount,ro', mnt]);
      ${attempt}`,
    );
    assert.equal(result.code, 'runtime_dir_unavailable', JSON.stringify(result));
    const message = result.message as string;
    assert.match(message, /^None of the folders .* can be this user's private folder/);
    assert.equal(message.match(/cannot be made private \(the folder is read-only\)/g)?.length, 3, message);
    assert.deepEqual(result.left, []);
  });
});

describe('process start ids', () => {
  test('the same for one process, another for another', async () => {
    const mine = await processStart(process.pid);
    assert.ok(mine);
    assert.equal(await processStart(process.pid), mine);
    const other = bystander();
    try {
      const theirs = await processStart(other.pid as number);
      assert.ok(theirs && theirs !== mine, `${theirs} vs ${mine}`);
    } finally {
      other.kill('SIGKILL');
      await exitOf(other);
    }
    assert.equal(await processStart(other.pid as number), null, 'unknown once it has ended');
  });

  test('Linux: read after the name, which may hold spaces and parentheses: the start time is right', linuxOnly, async () => {
    // A program named "a) b (c" (the name /proc shows is the file's), started now.
    const dir = mkdtempSync(join(tmpdir(), 'connect-comm-'));
    symlinkSync('/bin/sleep', join(dir, 'a) b (c'));
    const spawned = Date.now();
    const child = spawn(join(dir, 'a) b (c'), ['30'], { stdio: 'ignore' });
    try {
      await pause(100);
      assert.match(readFileSync(`/proc/${child.pid}/stat`, 'utf8'), /^\d+ \(a\) b \(c\) /);
      const start = await processStart(child.pid as number);
      const ticks = Number(start?.split(':').pop());
      const bootSeconds = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
      const hz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
      const started = (bootSeconds + ticks / hz) * 1000;
      assert.ok(Math.abs(started - spawned) < 2000, `${start}: started ${new Date(started).toISOString()}, spawned ${new Date(spawned).toISOString()}`);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
