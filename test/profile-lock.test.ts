// The profile lock that keeps two processes from redeeming one rotating refresh token twice: at most
// one holder at a time (in one process and across processes), and a dead or garbled holder does not
// block anyone for good.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import { acquireProfileLock } from '../src/profile-lock.js';
import { runtimeDir } from '../src/runtime-dir.js';
import { ROOT, testProfile } from './support/cli.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('profile lock', () => {
  test('twenty callers in one process: never two holders at once', async () => {
    const profile = testProfile('lock-one-process');
    let holding = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        const release = await acquireProfileLock(profile);
        most = Math.max(most, ++holding);
        await pause(3);
        holding--;
        await release();
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
      import { acquireProfileLock } from ${JSON.stringify(pathToFileURL(join(ROOT, 'dist/src/profile-lock.js')).href)};
      const [profile, log] = process.argv.slice(1);
      for (let turn = 0; turn < 3; turn++) {
        const release = await acquireProfileLock(profile);
        appendFileSync(log, 'in ' + process.pid + '\\n');
        await new Promise((resolve) => setTimeout(resolve, 5));
        appendFileSync(log, 'out ' + process.pid + '\\n');
        await release();
      }`;
    const exits = Array.from({ length: 6 }, () => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script, profile, log], { stdio: 'ignore' });
      return new Promise<number | null>((resolve) => child.on('exit', resolve));
    });
    assert.deepEqual(await Promise.all(exits), [0, 0, 0, 0, 0, 0]);
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    assert.equal(lines.length, 36);
    for (let i = 0; i < lines.length; i += 2) {
      const pid = lines[i]?.split(' ')[1];
      assert.deepEqual([lines[i], lines[i + 1]], [`in ${pid}`, `out ${pid}`], `turn ${i / 2} was not alone`);
    }
  });

  test('a lock left by a process that died is taken over at once', async () => {
    const profile = testProfile('lock-dead');
    const dead = spawn(process.execPath, ['-e', '']);
    const pid = await new Promise<number>((resolve) => dead.on('exit', () => resolve(dead.pid as number)));
    const { hostname } = await import('node:os');
    writeFileSync(join(runtimeDir(), `${profile}.lock`), JSON.stringify({ id: 'gone', pid, host: hostname(), at: Date.now() }));
    const release = await acquireProfileLock(profile, { timeoutMs: 1000 });
    await release();
  });

  test('a live holder keeps the lock: the waiter gets a clear timeout, then its turn once released', async () => {
    const profile = testProfile('lock-busy');
    const release = await acquireProfileLock(profile);
    await assert.rejects(acquireProfileLock(profile, { timeoutMs: 200 }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'timeout');
      assert.match(error.message, new RegExp(`Another program \\(process ${process.pid}\\) is renewing the tokens of profile "${profile}"`));
      return true;
    });
    const waiting = acquireProfileLock(profile, { timeoutMs: 5000 });
    await pause(50);
    await release();
    await (await waiting)();
  });

  test('a garbled lock file does not block anyone', async () => {
    const profile = testProfile('lock-garbled');
    writeFileSync(join(runtimeDir(), `${profile}.lock`), 'not json');
    const release = await acquireProfileLock(profile, { timeoutMs: 1000 });
    await release();
  });
});
