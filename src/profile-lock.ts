// A lock per profile across processes (the app and the CLI may share a profile): a refresh with a
// rotating refresh token must happen once, or the second process would redeem a token the first has
// already spent and lock the user out. The lock is a file that appears complete or not at all (written
// aside, then hard-linked into place, which fails if it exists); a holder that died (its pid is gone)
// or that has held it far too long is taken over.
import { randomUUID } from 'node:crypto';
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
  /** Tells two holders in one process apart. */
  id: string;
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

/** The lock's holder; 'gone' if the file vanished meanwhile, null if it cannot be read as a holder. */
async function readHolder(path: string): Promise<Holder | null | 'gone'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : null;
  }
  try {
    return JSON.parse(text) as Holder;
  } catch {
    return null;
  }
}

/** Create the lock file with its holder in one step: the file never exists half-written. */
async function tryCreate(path: string, me: Holder): Promise<boolean> {
  const draft = `${path}.${me.id}.draft`;
  const file = await open(draft, 'w', 0o600);
  try {
    await file.writeFile(JSON.stringify(me));
  } finally {
    await file.close();
  }
  try {
    await link(draft, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(draft).catch(() => {});
  }
}

/**
 * Remove a stale lock file, and only that one: move it aside atomically, check it is the stale holder
 * that was read, and put it back if another waiter had meanwhile taken the lock.
 */
async function takeOver(path: string, stale: Holder | null): Promise<void> {
  const aside = `${path}.${randomUUID()}.aside`;
  try {
    await rename(path, aside);
  } catch {
    return; // someone else moved it first
  }
  const moved = await readHolder(aside);
  if (stale && moved && moved !== 'gone' && moved.id !== stale.id) {
    await link(aside, path).catch(() => {});
  }
  await unlink(aside).catch(() => {});
}

/** Take the profile's lock; resolves with its release. Throws `timeout` if another holder keeps it. */
export async function acquireProfileLock(profile: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  const path = join(runtimeDir(), `${profile}.lock`);
  const timeoutMs = options.timeoutMs ?? 15_000;
  const staleMs = options.staleMs ?? 60_000;
  const me: Holder = { id: randomUUID(), pid: process.pid, host: hostname(), at: Date.now() };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await tryCreate(path, me)) {
      return async () => {
        const holder = await readHolder(path);
        if (holder && holder !== 'gone' && holder.id === me.id) await unlink(path).catch(() => {});
      };
    }
    const holder = await readHolder(path);
    if (holder === 'gone') continue; // released meanwhile
    // A holder that died (kill -9 mid-refresh) or hung for too long does not block anyone for good.
    const abandoned = holder === null || (holder.host === me.host && !alive(holder.pid)) || Date.now() - holder.at > staleMs;
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
