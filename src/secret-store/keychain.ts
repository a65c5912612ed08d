// The OS keychain: the Secret Service on Linux, spoken over D-Bus by secret-service.ts (never the
// kernel keyring, which loses everything at logout), each call to it bounded by 5 seconds; Credential
// Manager on Windows and Keychain on macOS through @napi-rs/keyring (native-keychain.ts), off this
// process's main thread. A call may be waiting for the user: macOS asks whether the app may use its
// keychain items (first use, unsigned builds, after an update), and a locked Linux keyring shows its
// unlock prompt. Those waits get a long bound (2 minutes), and after 2 seconds listeners hear that
// the keychain is waiting (the app shows "waiting for keychain permission"). A call that runs out
// fails with `keychain_unavailable`.
import { ConnectError } from '../common/errors.js';
import { IDENTITY } from '../config/identity.js';
import { chunkedStore, maxEntryChars } from './chunked.js';
import { waited } from './dbus.js';
import { connectSecretService, secretServiceEntries } from './secret-service.js';
import type { SecretStore } from './store.js';

/** The keychain service the tokens are kept under (identity.json). */
export const DEFAULT_SERVICE = IDENTITY.keychainService;
/** One call to the Secret Service (Linux): it answers at once or is stuck. */
export const KEYCHAIN_TIMEOUT_MS = 5000;
/** A call that may be waiting for the user to answer a prompt (macOS, Windows; Linux's unlock prompt). */
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

type Op = 'get' | 'set' | 'delete' | 'list';

function storeName(platform: NodeJS.Platform): string {
  if (platform === 'win32') return 'Windows Credential Manager';
  if (platform === 'darwin') return 'macOS Keychain';
  return 'Secret Service keyring (GNOME Keyring, KWallet)';
}

const ACTIONS: Record<Op, string> = { get: 'read from', set: 'write to', delete: 'delete from', list: 'list the entries of' };

function unavailable(op: Op, reason: string, cause?: unknown): ConnectError {
  return new ConnectError(
    'keychain_unavailable',
    `Could not ${ACTIONS[op]} the ${storeName(process.platform)}: ${reason}. Tokens are kept only in the system keychain, ` +
      'never in a plain file; unlock or start the keychain and try again.',
    { cause },
  );
}

// One keychain request at a time: keychain daemons are not built for bursts (a hundred parallel
// lookups have been seen to crash GNOME Keyring), and the requests are quick one by one.
let queue: Promise<unknown> = Promise.resolve();
/** The last call that got no answer in time, and when. */
let stuck: { at: number; error: unknown } | undefined;
function oneAtATime<T>(work: () => Promise<T>): Promise<T> {
  const run = queue.then(work, work);
  queue = run.catch(() => undefined);
  return run;
}

/** A keychain call that got no answer in time. */
class KeychainTimeout extends Error {
  readonly timedOut = true;
}

/** Bounds a call in this process (macOS, Windows): the library's own calls have no timeout. */
async function bounded<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new KeychainTimeout(`it did not answer within ${waited(timeoutMs)}`)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const useSecretService = () => process.platform === 'linux';

/**
 * Connect to the keychain ahead of the first call (Linux: the session bus and the Secret Service), so
 * that connecting overlaps the caller's own start-up. Harmless if no call follows.
 */
export function warmUpKeychain(): void {
  if (useSecretService()) connectSecretService({ callTimeoutMs: KEYCHAIN_TIMEOUT_MS, promptTimeoutMs: KEYCHAIN_PROMPT_TIMEOUT_MS });
}

export interface KeychainOptions {
  /** Per-call timeout. Default: 5 s for a call to the Secret Service (Linux), 2 minutes for a native call (macOS, Windows). */
  timeoutMs?: number;
  /** When a call is reported as waiting (onKeychainWaiting). Default 2 s. */
  waitingAfterMs?: number;
}

/** One keychain entry per account, as the OS stores it. */
export function keychainEntries(service: string = DEFAULT_SERVICE, options: KeychainOptions = {}): SecretStore {
  const waitingAfterMs = options.waitingAfterMs ?? KEYCHAIN_WAITING_AFTER_MS;
  let entries: SecretStore;
  if (useSecretService()) {
    entries = secretServiceEntries(service, { callTimeoutMs: options.timeoutMs ?? KEYCHAIN_TIMEOUT_MS, promptTimeoutMs: KEYCHAIN_PROMPT_TIMEOUT_MS });
  } else {
    const timeoutMs = options.timeoutMs ?? KEYCHAIN_PROMPT_TIMEOUT_MS;
    // Loaded on first use: Linux never loads the native library.
    const native = async () => (await import('./native-keychain.js')).nativeEntries(service);
    entries = {
      get: async (account) => bounded((await native()).get(account), timeoutMs),
      set: async (account, value) => bounded((await native()).set(account, value), timeoutMs),
      delete: async (account) => bounded((await native()).delete(account), timeoutMs),
      list: async () => bounded((await native()).list(), timeoutMs),
    };
  }
  const call = async <T>(op: Op, work: () => Promise<T>): Promise<T> => {
    const asked = performance.now();
    try {
      return await reportWaiting(
        oneAtATime(async () => {
          // A call that waited in line behind one that got no answer shares that outcome: a keychain
          // that does not answer costs one timeout, not one per call. Calls made after it try again.
          if (stuck && stuck.at >= asked) throw stuck.error;
          try {
            return await work();
          } catch (error) {
            if ((error as { timedOut?: unknown }).timedOut === true) stuck = { at: performance.now(), error };
            throw error;
          }
        }),
        waitingAfterMs,
      );
    } catch (error) {
      throw unavailable(op, error instanceof Error ? error.message : String(error), error);
    }
  };
  return {
    get: (account) => call('get', () => entries.get(account)),
    set: (account, value) => call('set', () => entries.set(account, value)),
    delete: (account) => call('delete', () => entries.delete(account)),
    list: () => call('list', () => entries.list()),
  };
}

/** The OS keychain, with values too large for one entry (Windows) split across several. */
export function keychainStore(service: string = DEFAULT_SERVICE, options: KeychainOptions = {}): SecretStore {
  return chunkedStore(keychainEntries(service, options), maxEntryChars());
}
