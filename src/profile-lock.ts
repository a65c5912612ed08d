// A lock per profile across processes (the app and the CLI may share a profile): a refresh with a
// rotating refresh token must happen once, or the second process would redeem a token the first has
// already spent and lock the user out. The lock is a file created exclusively; a holder that died
// (its pid is gone) or that has held it far too long is taken over.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { ConnectError } from './errors.js';
import { runtimeDir } from './runtime-dir.js';

export interface LockOptions {
  /** How long to wait for another holder. Default 15 s. */
  timeoutMs?: number;
  /** A lock older than this is taken over even if its holder still runs. Default 60 s. */
  staleMs?: number;
}

interface Holder {
  pid: number;
  host: string;
  at: number;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readHolder(path: string): Promise<Holder | null> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Holder;
  } catch {
    return null;
  }
}

/**
 * Remove a stale lock file, and only that one: move it aside atomically, check it is the stale holder
 * that was read, and put it back if another waiter had meanwhile taken the lock.
 */
async function takeOver(path: string, stale: Holder | null): Promise<void> {
  const aside = `${path}.${process.pid}.${Date.now()}`;
  try {
    await rename(path, aside);
  } catch {
    return; // someone else moved it first
  }
  const moved = await readHolder(aside);
  if (stale && moved && (moved.pid !== stale.pid || moved.at !== stale.at)) {
    await link(aside, path).catch(() => {});
  }
  await unlink(aside).catch(() => {});
}

/** Take the profile's lock; resolves with its release. Throws `timeout` if another holder keeps it. */
export async function acquireProfileLock(profile: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  const path = join(runtimeDir(), `${profile}.lock`);
  const timeoutMs = options.timeoutMs ?? 15_000;
  const staleMs = options.staleMs ?? 60_000;
  const me: Holder = { pid: process.pid, host: hostname(), at: Date.now() };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const file = await open(path, 'wx', 0o600);
      await file.writeFile(JSON.stringify(me));
      await file.close();
      return async () => {
        const holder = await readHolder(path);
        if (holder?.pid === me.pid && holder.at === me.at) await unlink(path).catch(() => {});
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readHolder(path);
    // A holder that died (kill -9 mid-refresh) or hung for too long does not block anyone for good.
    const abandoned = !holder || (holder.host === me.host && !alive(holder.pid)) || Date.now() - holder.at > staleMs;
    if (abandoned) {
      await takeOver(path, holder);
      continue;
    }
    if (Date.now() > deadline) {
      throw new ConnectError(
        'timeout',
        `Another program (process ${holder.pid}) is renewing the tokens of profile "${profile}" and did not finish in time; try again.`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
