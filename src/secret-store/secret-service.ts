// The Secret Service (GNOME Keyring, KWallet, KeePassXC) over D-Bus, spoken directly (dbus.ts): the
// Linux keychain. Entries are items with the attributes `service` and `username` in the default
// collection, labelled `keyring:<username>@<service>`: the same items the keyring crate
// (@napi-rs/keyring) reads and writes, so either can read what the other wrote.
//
// Every call has a timeout and nothing here blocks the event loop: a bus or keyring that never answers
// fails the call ("did not answer within 5 seconds") and the process goes on, and ends, as usual. A
// locked keyring is unlocked the way other programs do it, through the keyring's own prompt; the
// wait for the user is bounded separately (2 minutes). Secrets cross the bus with the spec's "plain"
// algorithm: the bus is this user's own socket, the one the secret is read from anyway.
import { BusConnection, BusError, BusTimeout, sessionBusPath, waited, type Call, type Message, type Variant } from './dbus.js';

const BUS_NAME = 'org.freedesktop.secrets';
const SERVICE_PATH = '/org/freedesktop/secrets';
const SERVICE = 'org.freedesktop.Secret.Service';
const ITEM = 'org.freedesktop.Secret.Item';
const PROMPT = 'org.freedesktop.Secret.Prompt';
const NO_PROMPT = '/';
/** The largest value one entry takes: what is written can always be read back (dbus.ts reads up to 16 MB). */
const MAX_SECRET_BYTES = 8 * 2 ** 20;

export interface SecretServiceOptions {
  /** How long one call to the bus may take. */
  callTimeoutMs: number;
  /** How long the keyring's own unlock prompt may wait for the user. */
  promptTimeoutMs: number;
}

/** The reason a call failed, in words for the user (the caller adds which keychain and what it tried). */
function reasonOf(error: unknown): string {
  if (error instanceof BusError) {
    if (error.busName === 'org.freedesktop.DBus.Error.ServiceUnknown' || error.busName === 'org.freedesktop.DBus.Error.NameHasNoOwner') {
      return 'no Secret Service runs on the session bus (GNOME Keyring, KWallet or KeePassXC provide one)';
    }
    if (error.busName === 'org.freedesktop.Secret.Error.IsLocked') return 'the keyring is locked';
    return `${error.busName}: ${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

class Session {
  constructor(
    readonly bus: BusConnection,
    readonly path: string,
    readonly options: SecretServiceOptions,
  ) {}

  call(path: string, iface: string, member: string, signature = '', body: unknown[] = [], reply?: string): Promise<unknown[]> {
    const call: Call = { destination: BUS_NAME, path, interface: iface, member, signature, body, ...(reply === undefined ? {} : { reply }) };
    return this.bus.call(call, this.options.callTimeoutMs);
  }

  /** The items with all these attributes: unlocked first, then locked. */
  async search(attributes: Record<string, string>): Promise<{ unlocked: string[]; locked: string[] }> {
    const [unlocked, locked] = (await this.call(SERVICE_PATH, SERVICE, 'SearchItems', 'a{ss}', [attributes], 'aoao')) as [string[], string[]];
    return { unlocked, locked };
  }

  /** Unlocks these objects (items or collections), asking the user through the keyring's prompt if it needs one. */
  async unlock(paths: string[]): Promise<void> {
    if (paths.length === 0) return;
    const [, prompt] = (await this.call(SERVICE_PATH, SERVICE, 'Unlock', 'ao', [paths], 'aoo')) as [string[], string];
    if (prompt === NO_PROMPT) return;
    const dismissed = await this.prompt(prompt);
    if (dismissed) throw new Error('the keyring is locked, and its unlock prompt was dismissed');
  }

  /**
   * Shows a prompt the keyring asked for and waits for the user: true if they dismissed it. The wait
   * ends early, as a failure, if the connection closes or the keyring leaves the bus (it died or
   * restarted: its prompt will never complete).
   */
  async prompt(path: string): Promise<boolean> {
    const rules = [
      `type='signal',interface='${PROMPT}',member='Completed',path='${path}'`,
      `type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='${BUS_NAME}'`,
    ];
    const dbus = (member: string, rule: string) => ({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member, signature: 's', body: [rule] });
    for (const rule of rules) await this.bus.call(dbus('AddMatch', rule), this.options.callTimeoutMs);
    const release = this.bus.hold();
    const stops: Array<() => void> = [];
    try {
      const completed = new Promise<boolean>((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(new Error(`nobody answered the keyring's unlock prompt within ${waited(this.options.promptTimeoutMs)}`));
        }, this.options.promptTimeoutMs);
        stops.push(() => clearTimeout(timer));
        stops.push(
          this.bus.onSignal((message: Message) => {
            if (message.path === path && message.interface === PROMPT && message.member === 'Completed') resolve(Boolean(message.body[0]));
            else if (message.member === 'NameOwnerChanged' && message.body[0] === BUS_NAME) reject(new Error('the keyring left the bus while its prompt was showing'));
          }),
        );
        stops.push(this.bus.onClose((reason) => reject(reason)));
      });
      // Settled before the Prompt call below may fail: never an unhandled rejection.
      completed.catch(() => undefined);
      // The window to attach the prompt to: none (a terminal, or a window on another toolkit).
      await this.call(path, PROMPT, 'Prompt', 's', ['']);
      return await completed;
    } catch (error) {
      this.call(path, PROMPT, 'Dismiss').catch(() => undefined);
      throw error;
    } finally {
      for (const stop of stops) stop();
      release();
      for (const rule of rules) this.bus.call(dbus('RemoveMatch', rule), this.options.callTimeoutMs).catch(() => undefined);
    }
  }

  /** The one item for this service and username (unlocked), or undefined; refuses several. */
  async item(service: string, username: string): Promise<string | undefined> {
    const { unlocked, locked } = await this.search({ service, username });
    const all = [...unlocked, ...locked];
    if (all.length > 1) {
      throw new Error(`the keyring holds ${all.length} items for "${username}" of ${service}, where one is expected; remove the extra ones in the keyring's manager (Seahorse, KWalletManager)`);
    }
    await this.unlock(locked);
    return all[0];
  }

  secret(value: string): unknown[] {
    return [this.path, Buffer.alloc(0), Buffer.from(value, 'utf8'), 'text/plain; charset=utf8'];
  }
}

/** The connection attempt in use: calls made while it is under way share its outcome, failure included. */
let shared: { session: Promise<Session>; failed: boolean; opened?: Session } | undefined;

/** The process's Secret Service session: one bus connection, opened on first use, opened again after a failure. */
function session(options: SecretServiceOptions): Promise<Session> {
  if (!shared || shared.failed || shared.opened?.bus.closed) {
    const attempt: NonNullable<typeof shared> = { session: open(options), failed: false };
    attempt.session.then(
      (s) => (attempt.opened = s),
      () => (attempt.failed = true),
    );
    shared = attempt;
  }
  return shared.session;
}

/** Connects and opens a session, all within one call's time. */
async function open(options: SecretServiceOptions): Promise<Session> {
  const deadline = performance.now() + options.callTimeoutMs;
  const bus = await BusConnection.open(sessionBusPath(), options.callTimeoutMs);
  try {
    const plain: Variant = { type: 's', value: '' };
    const [, path] = (await bus.call(
      { destination: BUS_NAME, path: SERVICE_PATH, interface: SERVICE, member: 'OpenSession', signature: 'sv', body: ['plain', plain], reply: 'vo' },
      Math.max(1, deadline - performance.now()),
      false,
    )) as [Variant, string];
    return new Session(bus, path, options);
  } catch (error) {
    bus.close();
    throw error;
  }
}

/** Starts connecting now (the connection is made once per process), so that it overlaps other work. */
export function connectSecretService(options: SecretServiceOptions): void {
  session(options).catch(() => undefined);
}

/** The keyring restarted (KeePassXC's comes and goes with the app): the session is gone, the call may be made again. */
const GONE = new Set(['org.freedesktop.Secret.Error.NoSession', 'org.freedesktop.DBus.Error.UnknownObject']);

/** A failure said in words; `timedOut` when nothing answered in time. */
class SecretServiceError extends Error {
  constructor(
    message: string,
    readonly timedOut: boolean,
    options: { cause: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Runs `work` on the session. A failure closes the connection, so that the next call opens a new one
 * (a timeout leaves it in an unknown state; an error may mean the keyring restarted), and is said in
 * words. Work that failed because the keyring's session was gone is run once more on a new one.
 */
async function run<T>(options: SecretServiceOptions, work: (s: Session) => Promise<T>, again = true): Promise<T> {
  let s: Session | undefined;
  // Waiting for the connection keeps the process alive (a warm-up alone does not).
  const alive = setInterval(() => undefined, 60_000);
  try {
    s = await session(options).finally(() => clearInterval(alive));
    return await work(s);
  } catch (error) {
    if (s && !(error instanceof BusError && error.busName === 'org.freedesktop.Secret.Error.IsLocked')) s.bus.close();
    if (again && s && error instanceof BusError && GONE.has(error.busName)) return run(options, work, false);
    throw new SecretServiceError(reasonOf(error), error instanceof BusTimeout, { cause: error });
  }
}

/** The Secret Service's entries for one service name, one per username. */
export function secretServiceEntries(service: string, options: SecretServiceOptions) {
  return {
    get: (username: string): Promise<string | null> =>
      run(options, async (s) => {
        const item = await s.item(service, username);
        if (item === undefined) return null;
        const [secret] = (await s.call(item, ITEM, 'GetSecret', 'o', [s.path], '(oayays)')) as [[string, Buffer, Buffer, string]];
        try {
          return new TextDecoder('utf-8', { fatal: true }).decode(secret[2]);
        } catch {
          throw new Error(`the keyring's item for "${username}" is not text`);
        }
      }),

    set: (username: string, value: string): Promise<void> =>
      run(options, async (s) => {
        if (Buffer.byteLength(value) > MAX_SECRET_BYTES) throw new Error(`the value is larger than the ${MAX_SECRET_BYTES / 2 ** 20} MB this client keeps in one entry`);
        const item = await s.item(service, username);
        if (item !== undefined) {
          await s.call(item, ITEM, 'SetSecret', '(oayays)', [s.secret(value)]);
          return;
        }
        const [collection] = (await s.call(SERVICE_PATH, SERVICE, 'ReadAlias', 's', ['default'], 'o')) as [string];
        if (collection === NO_PROMPT) throw new Error('the keyring has no default collection to keep the entry in; create one in the keyring\'s manager');
        const properties = {
          'org.freedesktop.Secret.Item.Label': { type: 's', value: `keyring:${username}@${service}` },
          'org.freedesktop.Secret.Item.Attributes': { type: 'a{ss}', value: { service, username } },
        };
        const create = () => s.call(collection, 'org.freedesktop.Secret.Collection', 'CreateItem', 'a{sv}(oayays)b', [properties, s.secret(value), true], 'oo');
        let created: unknown[];
        try {
          created = await create();
        } catch (error) {
          if (!(error instanceof BusError && error.busName === 'org.freedesktop.Secret.Error.IsLocked')) throw error;
          await s.unlock([collection]);
          created = await create();
        }
        const [, prompt] = created as [string, string];
        if (prompt !== NO_PROMPT && (await s.prompt(prompt))) throw new Error('the keyring\'s prompt was dismissed; nothing was stored');
      }),

    delete: (username: string): Promise<boolean> =>
      run(options, async (s) => {
        const { unlocked, locked } = await s.search({ service, username });
        await s.unlock(locked);
        for (const item of [...unlocked, ...locked]) {
          const [prompt] = (await s.call(item, ITEM, 'Delete', '', [], 'o')) as [string];
          if (prompt !== NO_PROMPT && (await s.prompt(prompt))) throw new Error('the keyring\'s prompt was dismissed; nothing was deleted');
        }
        return unlocked.length + locked.length > 0;
      }),

    list: (): Promise<string[]> =>
      run(options, async (s) => {
        const { unlocked, locked } = await s.search({ service });
        const names: string[] = [];
        // Attributes are readable on locked items too: listing needs no unlock.
        for (const item of [...unlocked, ...locked]) {
          const [attributes] = (await s.call(item, 'org.freedesktop.DBus.Properties', 'Get', 'ss', [ITEM, 'Attributes'], 'v')) as [Variant];
          if (attributes.type !== 'a{ss}') continue;
          const username = (attributes.value as [string, string][]).find(([key]) => key === 'username')?.[1];
          // Two items for one name (made by another program) are listed once; get and set refuse them.
          if (username !== undefined && !names.includes(username)) names.push(username);
        }
        return names;
      }),
  };
}
