// A lock per profile across processes (the app and the CLI may share a profile): a refresh with a
// rotating refresh token must happen once, or the second process would redeem a token the first has
// already spent, and the provider, seeing a spent token again, revokes the whole grant.
//
// The lock is a file naming its holder: process id, host, when the process started (so a PID that
// an unrelated process reuses after a crash is recognised), when it took the lock, when it last
// renewed it and until when it expects to hold it. Every write appears complete or not at all: the
// first is written aside and hard-linked into place (which fails if the lock exists); the holder's
// renewals are written aside and renamed over it. A waiter takes the lock over only from a holder
// that cannot be running any more: one whose process is gone or is another process with its PID, or,
// where that cannot be checked (another host sharing the folder, a start time the system does not
// give), one that stopped renewing for a whole lease. A holder that is running keeps the lock however
// long it takes; waiters wait as long as it said it would need (plus a grace), then give up with a
// timeout that says who holds it since when.
import { hostname } from 'node:os';
import { join } from 'node:path';
import { link, lstat, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { ConnectError } from '../common/errors.js';
import { processStart } from '../common/process-start.js';

/** A random id; node:crypto is loaded by the first lock, not by every start of the CLI. */
const randomId = async () => (await import('node:crypto')).randomUUID();
import { fileSystemCause, runtimeDir } from './runtime-dir.js';

export interface LockOptions {
  /** How long this holder's work may take (written into its record for waiters). Default 60 s; see also `expect()`. */
  holdMs?: number;
  /**
   * The most a waiter waits. Without it, a waiter waits as long as the holder runs and is within the
   * time it said it needs, plus 10 s.
   */
  timeoutMs?: number;
  /** How often a holder renews its record. Default 2 s. */
  renewMs?: number;
  /** A record this waiter sees unchanged this long is abandoned, when its process cannot be checked. Default 3 × renewMs + 4 s. */
  leaseMs?: number;
  /** How long past a holder's expected end this waiter still waits for it. Default 10 s (GRACE_MS). */
  graceMs?: number;
}

export interface ProfileLock {
  /** Let the next waiter in; stops the renewals. Safe to call twice. */
  release(): Promise<void>;
  /** The work goes on for about `ms` more from now: waiters wait that long (plus the grace) before giving up. */
  expect(ms: number): void;
}

interface Holder {
  /** Tells two holders in one process apart. */
  id: string;
  pid: number;
  host: string;
  /** The process's start id (process-start.ts); null when the system does not give it. */
  start: string | null;
  /** When it took the lock, ms since the epoch (for messages). */
  since: number;
  /** Its last renewal. */
  at: number;
  /** When it expects to be done. */
  until: number;
}

const DEFAULT_HOLD_MS = 60_000;
const DEFAULT_RENEW_MS = 2_000;
/** How long past a holder's `until` a waiter still waits for it. */
export const GRACE_MS = 10_000;
/** Drafts and moved-aside records older than this are left over from a crash. */
const LEFTOVER_MS = 60_000;
const MAX_POLL_MS = 200;

let ownStart: Promise<string | null> | undefined;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The record read as a holder; a record from before `start`/`since`/`until` existed gets their defaults. */
function parseHolder(text: string): Holder | null {
  let value: Partial<Holder>;
  try {
    value = JSON.parse(text) as Partial<Holder>;
  } catch {
    return null;
  }
  const { id, pid, host, at } = value ?? {};
  if (typeof id !== 'string' || typeof host !== 'string' || !Number.isInteger(pid) || typeof at !== 'number') return null;
  return {
    id,
    pid: pid as number,
    host,
    start: typeof value.start === 'string' ? value.start : null,
    since: typeof value.since === 'number' ? value.since : at,
    at,
    until: typeof value.until === 'number' ? value.until : at + DEFAULT_HOLD_MS,
  };
}

/**
 * The lock's holder; 'gone' if the file vanished meanwhile, 'garbled' if it is not a holder's record,
 * 'unreadable' if reading failed (on Windows, for a moment, while the holder renews it).
 */
async function readHolder(path: string): Promise<Holder | 'garbled' | 'unreadable' | 'gone'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : 'unreadable';
  }
  return parseHolder(text) ?? 'garbled';
}

function unwritable(profile: string, dir: string, error: unknown): unknown {
  if (typeof (error as NodeJS.ErrnoException)?.code !== 'string') return error;
  return new ConnectError(
    'runtime_dir_unavailable',
    `The lock of profile "${profile}" cannot be written in the folder ${dir}: ${fileSystemCause(error)}.`,
    { cause: error },
  );
}

/** Writes `holder` to a new draft beside the lock and returns its path; on any failure no draft is left. */
async function writeDraft(path: string, holder: Holder): Promise<string> {
  const draft = `${path}.${await randomId()}.draft`;
  const file = await open(draft, 'wx', 0o600);
  try {
    try {
      await file.writeFile(JSON.stringify(holder));
    } finally {
      await file.close();
    }
  } catch (error) {
    // A full disk fails the write after the open: an empty draft must not stay behind.
    await unlink(draft).catch(() => {});
    throw error;
  }
  return draft;
}

/** Create the lock file with its holder in one step: the file never exists half-written. */
async function tryCreate(path: string, me: Holder): Promise<boolean> {
  const draft = await writeDraft(path, me);
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
 * Remove an abandoned lock file, and only that one: move it aside atomically, check it is the record
 * that was judged, and put it back if it is not (another waiter took the lock meanwhile, or the
 * holder renewed after all). False when it could not be moved.
 */
async function takeOver(path: string, judged: Holder | null): Promise<boolean> {
  const aside = `${path}.${await randomId()}.aside`;
  try {
    await rename(path, aside);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT'; // someone else moved it first
  }
  const moved = await readHolder(aside);
  if (typeof moved === 'object' && (!judged || moved.id !== judged.id || moved.at !== judged.at)) {
    await link(aside, path).catch(() => {});
  }
  await unlink(aside).catch(() => {});
  return true;
}

/** Drafts and moved-aside records of this profile's lock that a crash left behind. */
async function removeLeftovers(dir: string, profile: string): Promise<void> {
  const leftover = new RegExp(`^${profile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.lock\\.[0-9a-f-]{36}\\.(draft|aside)$`);
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names.filter((n) => leftover.test(n))) {
    const stat = await lstat(join(dir, name)).catch(() => null);
    // By mtime: a record moved aside a moment ago may be old, but only if it was abandoned anyway.
    if (stat && Date.now() - stat.mtimeMs > LEFTOVER_MS) await unlink(join(dir, name)).catch(() => {});
  }
}

/**
 * Whether `holder` cannot be running any more. On this host its process is checked: gone, or its PID
 * now belongs to a process that started at another time. Where that cannot be told (another host, or
 * a start time unknown on either side), only its renewals count: `unchangedMs` is how long this waiter
 * has seen the same record, on its own clock (so other hosts' clocks and a suspended machine do not
 * shorten the lease).
 */
async function abandoned(holder: Holder, unchangedMs: number, leaseMs: number): Promise<boolean> {
  if (holder.host === hostname()) {
    if (!alive(holder.pid)) return true;
    const start = await processStart(holder.pid);
    if (start !== null && holder.start !== null) return start !== holder.start;
  }
  return unchangedMs >= leaseMs;
}

function clockTime(ms: number): string {
  const date = new Date(ms);
  const time = date.toTimeString().slice(0, 8);
  return date.toDateString() === new Date().toDateString() ? time : `${date.toDateString()} ${time}`;
}

function duration(ms: number): string {
  return ms < 10_000 ? `${Math.round(ms / 100) / 10} s` : `${Math.round(ms / 1000)} s`;
}

function busy(profile: string, holder: Holder, why: string): ConnectError {
  const where = holder.host === hostname() ? '' : ` on ${holder.host}`;
  return new ConnectError(
    'timeout',
    `Another program (process ${holder.pid}${where}) has been renewing the tokens of profile "${profile}" since ${clockTime(holder.since)}; ${why}`,
  );
}

/** The held lock: renews its record every `renewMs` until released. */
function hold(path: string, me: Holder, renewMs: number): ProfileLock {
  let released = false;
  let writing = Promise.resolve();
  const rewrite = () => {
    writing = writing
      .then(async () => {
        if (released) return;
        const current = await readHolder(path);
        // Moved aside for a moment by a waiter that will put it back: renew next time.
        if (current === 'gone' || current === 'unreadable') return;
        // Taken over (this process stalled for a whole lease): never write over the new holder. (The
        // moment between this read and the rename is the one gap left, and only after such a stall.)
        if (current === 'garbled' || current.id !== me.id) return clearInterval(timer);
        me.at = Date.now();
        const draft = await writeDraft(path, me);
        await rename(draft, path).catch(async () => unlink(draft).catch(() => {}));
      })
      // A renewal that fails (the disk filled up meanwhile) is tried again at the next tick.
      .catch(() => {});
  };
  const timer = setInterval(rewrite, renewMs);
  timer.unref(); // a held lock does not keep the process alive
  let releasing: Promise<void> | undefined;
  const release = () =>
    (releasing ??= (async () => {
      released = true;
      clearInterval(timer);
      await writing;
      const holder = await readHolder(path);
      if (typeof holder === 'object' && holder.id === me.id) await unlink(path).catch(() => {});
    })());
  const expect = (ms: number) => {
    me.until = Date.now() + ms;
    rewrite();
  };
  return { release, expect };
}

/**
 * Take the profile's lock. Throws `timeout` if a running holder keeps it past its stated time (or
 * past `timeoutMs`), `runtime_dir_unavailable` if the lock cannot be written (read-only, full).
 */
export async function acquireProfileLock(profile: string, options: LockOptions = {}): Promise<ProfileLock> {
  const dir = runtimeDir();
  const path = join(dir, `${profile}.lock`);
  const holdMs = options.holdMs ?? DEFAULT_HOLD_MS;
  const renewMs = options.renewMs ?? DEFAULT_RENEW_MS;
  const leaseMs = options.leaseMs ?? 3 * renewMs + 4_000;
  const began = performance.now();
  await removeLeftovers(dir, profile);
  const start = await (ownStart ??= processStart(process.pid));
  const me: Holder = { id: await randomId(), pid: process.pid, host: hostname(), start, since: 0, at: 0, until: 0 };
  let seen = { record: '', from: began };
  let pollMs = 25;
  for (;;) {
    const now = Date.now();
    Object.assign(me, { since: now, at: now, until: now + holdMs });
    try {
      if (await tryCreate(path, me)) return hold(path, me, renewMs);
    } catch (error) {
      throw unwritable(profile, dir, error);
    }
    const read = await readHolder(path);
    if (read === 'gone') continue; // released meanwhile
    const holder = typeof read === 'object' ? read : null;
    const record = typeof read === 'object' ? `${read.id}@${read.at}` : read;
    if (record !== seen.record) seen = { record, from: performance.now() };
    const unchangedMs = performance.now() - seen.from;
    const waited = performance.now() - began;
    // A garbled record, or a holder that died (kill -9 mid-refresh), does not block anyone for good;
    // nor does a file that stays unreadable for a whole lease.
    const takeable = holder ? await abandoned(holder, unchangedMs, leaseMs) : read === 'garbled' || unchangedMs >= leaseMs;
    if (takeable) {
      if (await takeOver(path, holder)) continue;
    } else if (holder && options.timeoutMs !== undefined && waited >= options.timeoutMs) {
      throw busy(profile, holder, `this program stopped waiting after ${duration(options.timeoutMs)}. Try again once it has finished.`);
    } else if (holder && Date.now() >= holder.until + (options.graceMs ?? GRACE_MS) && waited >= leaseMs) {
      // Past its own estimate: a hang is likelier than a slow provider. (Not before a whole lease,
      // so that a holder judged by its renewals alone gets the chance to be found abandoned.)
      throw busy(
        profile,
        holder,
        `it expected to be done by ${clockTime(holder.until)} and is still running. Try again once it has finished, or end it if it hangs.`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    pollMs = Math.min(pollMs * 1.5, MAX_POLL_MS);
  }
}
