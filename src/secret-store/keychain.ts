// The OS keychain through @napi-rs/keyring's keytar-compatible entry API: Credential Manager on
// Windows, Keychain on macOS, Secret Service on Linux. On Linux the store is pinned to Secret Service
// (the library's default silently falls back to the kernel keyring, which loses everything at logout)
// and the calls run in a helper process (keychain-helper.ts), because a hanging Secret Service would
// otherwise freeze this process; a helper call has a 5-second timeout. On macOS and Windows the calls
// run in this process, off its main thread, and a call may be waiting for the user: macOS asks
// whether the app may use its keychain items (first use, unsigned builds, after an update). Those
// calls get a long bound (2 minutes), and after 2 seconds listeners hear that the keychain is
// waiting (the app shows "waiting for keychain permission"). A call that runs out fails with
// `keychain_unavailable`.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ConnectError } from '../common/errors.js';
import { IDENTITY } from '../config/identity.js';
import { chunkedStore, maxEntryChars } from './chunked.js';
import type { HelperRequest, HelperResponse } from './keychain-helper.js';
import type { SecretStore } from './store.js';

/** The keychain service the tokens are kept under (identity.json). */
export const DEFAULT_SERVICE = IDENTITY.keychainService;
/** A call through the helper process (Linux): the Secret Service answers at once or is stuck. */
export const KEYCHAIN_TIMEOUT_MS = 5000;
/** A call in this process (macOS, Windows), which may be waiting for the user to answer a prompt. */
export const KEYCHAIN_PROMPT_TIMEOUT_MS = 120_000;
/** After this long a call is reported as waiting (for the user, or for a slow keychain). */
export const KEYCHAIN_WAITING_AFTER_MS = 2000;

type WaitListener = (waiting: boolean) => void;
const waitListeners = new Set<WaitListener>();

/**
 * Hear when a keychain call has been waiting for a while (true) and when none is waiting any more
 * (false): macOS may be showing its keychain prompt. Returns a function that stops listening.
 */
export function onKeychainWaiting(listener: WaitListener): () => void {
  waitListeners.add(listener);
  return () => waitListeners.delete(listener);
}

/** Calls waiting longer than the threshold: listeners hear true when the first starts, false when the last ends. */
let waitingCalls = 0;

function tell(waiting: boolean): void {
  for (const listener of waitListeners) {
    try {
      listener(waiting);
    } catch {
      // a listener's failure is its own; the keychain call goes on
    }
  }
}

/** Runs `work`, telling the listeners if it takes longer than `afterMs`. */
async function reportWaiting<T>(work: Promise<T>, afterMs: number): Promise<T> {
  let waiting = false;
  const timer = setTimeout(() => {
    waiting = true;
    if (waitingCalls++ === 0) tell(true);
  }, afterMs);
  timer.unref();
  try {
    return await work;
  } finally {
    clearTimeout(timer);
    if (waiting && --waitingCalls === 0) tell(false);
  }
}

type Op = Omit<HelperRequest, 'id'>;
type Value = string | boolean | string[] | null;

function storeName(platform: NodeJS.Platform): string {
  if (platform === 'win32') return 'Windows Credential Manager';
  if (platform === 'darwin') return 'macOS Keychain';
  return 'Secret Service keyring (GNOME Keyring, KWallet)';
}

const ACTIONS: Record<Op['op'], string> = { get: 'read from', set: 'write to', delete: 'delete from', list: 'list the entries of' };

function unavailable(op: Op['op'], reason: string, cause?: unknown): ConnectError {
  return new ConnectError(
    'keychain_unavailable',
    `Could not ${ACTIONS[op]} the ${storeName(process.platform)}: ${reason}. Tokens are kept only in the system keychain, ` +
      'never in a plain file; unlock or start the keychain and try again.',
    { cause },
  );
}

/** A running helper, however it was started. */
export interface HelperChannel {
  send(request: HelperRequest): void;
  onMessage(listener: (response: HelperResponse) => void): void;
  onExit(listener: () => void): void;
  kill(): void;
  /** Whether the helper may keep this process alive (only while a call waits for it). */
  setBusy(busy: boolean): void;
}

/** Starts the helper script. The default forks Node; Electron's main process supplies a utility process. */
export type HelperLauncher = (script: string, args: string[]) => HelperChannel;

export const forkHelper: HelperLauncher = (script, args) => {
  // No execArgv of ours: a program started as `node -e …` or `node --input-type=module` would
  // hand those to the helper, which would run that program again instead of itself.
  const child: ChildProcess = fork(script, args, { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], serialization: 'json', execArgv: [] });
  child.on('error', () => child.kill('SIGKILL'));
  // The helper never keeps this process alive: its process is unreferenced, and its channel is
  // referenced only while a call waits for an answer.
  child.unref();
  child.channel?.unref();
  return {
    send: (request) => child.send(request),
    onMessage: (listener) => child.on('message', listener),
    onExit: (listener) => child.on('exit', listener),
    kill: () => child.kill('SIGKILL'),
    setBusy: (busy) => (busy ? child.channel?.ref() : child.channel?.unref()),
  };
};

let launcher: HelperLauncher = forkHelper;

/** Use another way to start the keychain helper (Electron: utilityProcess.fork, since runAsNode is off). */
export function setKeychainHelperLauncher(launch: HelperLauncher): void {
  launcher = launch;
}

/** The helper script's path. */
export const KEYCHAIN_HELPER_SCRIPT = fileURLToPath(new URL('./keychain-helper.js', import.meta.url));

/** One helper process, started on first use, replaced when it had to be killed. */
class HelperProcess {
  #child: HelperChannel | undefined;
  #next = 1;
  readonly #waiting = new Map<number, { resolve: (v: Value) => void; reject: (e: Error) => void }>();

  #start(): HelperChannel {
    const child = launcher(KEYCHAIN_HELPER_SCRIPT, ['--connect-keychain-helper']);
    child.onMessage((response: HelperResponse) => {
      const waiter = this.#waiting.get(response.id);
      if (!waiter) return;
      this.#waiting.delete(response.id);
      if (response.ok) waiter.resolve(response.value);
      else waiter.reject(new Error(response.message));
    });
    child.onExit(() => {
      if (this.#child === child) this.#child = undefined;
      for (const [id, waiter] of this.#waiting) {
        this.#waiting.delete(id);
        waiter.reject(new Error('the keychain helper stopped'));
      }
    });
    return child;
  }

  #idle(child: HelperChannel): void {
    if (this.#waiting.size === 0) child.setBusy(false);
  }

  /** Start the helper now, so that its start-up overlaps other work. */
  start(): void {
    this.#child ??= this.#start();
  }

  call(op: Op, timeoutMs: number): Promise<Value> {
    const child = (this.#child ??= this.#start());
    const id = this.#next++;
    child.setBusy(true);
    return new Promise<Value>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        this.#idle(child);
        // A helper stuck on the bus is of no more use: kill it; the next call starts a fresh one.
        child.kill();
        reject(new Error(`it did not answer within ${Math.round(timeoutMs / 1000)} seconds (it may be starting, or waiting to be unlocked)`));
      }, timeoutMs);
      this.#waiting.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          this.#idle(child);
          resolve(v);
        },
        reject: (e) => {
          clearTimeout(timer);
          this.#idle(child);
          reject(e);
        },
      });
      child.send({ ...op, id });
    });
  }
}

let helper: HelperProcess | undefined;

// One keychain request at a time: keychain daemons are not built for bursts (a hundred parallel
// lookups have been seen to crash GNOME Keyring), and the requests are quick one by one.
let queue: Promise<unknown> = Promise.resolve();
function oneAtATime<T>(work: () => Promise<T>): Promise<T> {
  const run = queue.then(work, work);
  queue = run.catch(() => undefined);
  return run;
}

async function inProcess(op: Op, timeoutMs: number): Promise<Value> {
  // Loaded on first use: where calls go through the helper, this process never loads the library.
  const { runKeychainOp } = await import('./keychain-helper.js');
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`it did not answer within ${Math.round(timeoutMs / 1000)} seconds`)), timeoutMs);
  });
  try {
    return await Promise.race([runKeychainOp({ ...op, id: 0 }), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const isolatedByDefault = () => process.platform === 'linux';

/**
 * Start the keychain helper process ahead of the first call (where calls go through one), so that
 * its start-up overlaps the caller's own. Harmless if no call follows: the helper never keeps this
 * process alive, and ends when it does.
 */
export function warmUpKeychain(): void {
  if (isolatedByDefault()) (helper ??= new HelperProcess()).start();
}

export interface KeychainOptions {
  /** Per-call timeout. Default 5 s through the helper process, 2 minutes in this process. */
  timeoutMs?: number;
  /** When a call is reported as waiting (onKeychainWaiting). Default 2 s. */
  waitingAfterMs?: number;
  /** Run calls in a helper process. Default: on Linux (Secret Service over D-Bus). */
  isolate?: boolean;
}

/** One keychain entry per account, as the OS stores it. */
export function keychainEntries(service: string = DEFAULT_SERVICE, options: KeychainOptions = {}): SecretStore {
  const isolate = options.isolate ?? isolatedByDefault();
  const timeoutMs = options.timeoutMs ?? (isolate ? KEYCHAIN_TIMEOUT_MS : KEYCHAIN_PROMPT_TIMEOUT_MS);
  const waitingAfterMs = options.waitingAfterMs ?? KEYCHAIN_WAITING_AFTER_MS;
  const run = (op: Op) => (isolate ? (helper ??= new HelperProcess()).call(op, timeoutMs) : inProcess(op, timeoutMs));
  const call = async (op: Op): Promise<Value> => {
    try {
      return await reportWaiting(oneAtATime(() => run(op)), waitingAfterMs);
    } catch (error) {
      throw unavailable(op.op, error instanceof Error ? error.message : String(error), error);
    }
  };
  return {
    get: async (account) => (await call({ op: 'get', service, account })) as string | null,
    set: async (account, value) => {
      await call({ op: 'set', service, account, value });
    },
    delete: async (account) => (await call({ op: 'delete', service, account })) as boolean,
    list: async () => (await call({ op: 'list', service })) as string[],
  };
}

/** The OS keychain, with values too large for one entry (Windows) split across several. */
export function keychainStore(service: string = DEFAULT_SERVICE, options: KeychainOptions = {}): SecretStore {
  return chunkedStore(keychainEntries(service, options), maxEntryChars());
}
