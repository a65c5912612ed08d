// The Windows process start id (kernel32 GetProcessTimes through koffi), which the profile lock uses
// to tell its holder from another process that got the holder's PID: node.exe under Wine.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test } from 'node:test';
import { processStart } from '../../src/common/process-start.js';

/** A FILETIME (100 ns units since 1601) as ms since 1970. */
const filetimeMs = (id: string) => Number(BigInt(id.slice('win32:'.length)) / 10_000n) - 11_644_473_600_000;

describe('process start ids on Windows', () => {
  test('this process: its creation time, the same at every read', async () => {
    const mine = await processStart(process.pid);
    assert.match(mine ?? '', /^win32:\d+$/);
    assert.equal(await processStart(process.pid), mine);
    const uptime = process.uptime() * 1000;
    const created = filetimeMs(mine as string);
    assert.ok(Math.abs(Date.now() - uptime - created) < 5000, `created ${new Date(created).toISOString()}, up ${uptime} ms`);
  });

  test('another process: another id, its own creation time; none once it has ended', async () => {
    const spawned = Date.now();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    try {
      const theirs = await processStart(child.pid as number);
      assert.match(theirs ?? '', /^win32:\d+$/);
      assert.notEqual(theirs, await processStart(process.pid));
      assert.ok(Math.abs(filetimeMs(theirs as string) - spawned) < 5000);
    } finally {
      child.kill();
    }
    await exited;
    assert.equal(await processStart(child.pid as number), null);
  });
});
