// The one client behind every face: `createClient(options)` owns one profile's sign-in attempt (in
// the browser or on another device), its session, the session's renewal (on demand, and on a
// schedule with `keepFresh`), sign-out, and the events a UI follows. The CLI (cli/main.ts), the app's
// window (desktop-client.ts) and library users are adapters over it; the steps it runs are the
// core's (sign-in.ts, device-sign-in.ts, access-token.ts, sign-out.ts, userinfo.ts).
import { freshSession, refreshDueAt } from './steps/access-token.js';
import type { BrowserOpener } from './browser/opener.js';
import type { DeviceCode } from './steps/device-sign-in.js';
import { ConnectError, noPendingAttempt } from './common/errors.js';
import { keychainStore } from './secret-store/keychain.js';
import { summarize, type SessionSummary, type StoredSession } from './session/session.js';
import type { ProviderSettings } from './config/settings.js';
import type { SignInAttempt, SignInEvent } from './steps/sign-in.js';
import type { SignOutResult } from './steps/sign-out.js';
import { DEFAULT_PROFILE, TokenStore, checkProfileName } from './session/token-store.js';

// The protocol steps load when a command needs them (below), so that reading the session (status, a
// fresh token) starts as fast as Node itself.
const steps = {
  signIn: () => import('./steps/sign-in.js'),
  deviceSignIn: () => import('./steps/device-sign-in.js'),
  signOut: () => import('./steps/sign-out.js'),
  userinfo: () => import('./steps/userinfo.js'),
  fetch: () => import('./steps/authorized-fetch.js'),
};

export interface ClientOptions {
  /**
   * The provider: issuer (or explicit endpoints), client id, optional secret, scope, redirect URI,
   * DPoP. A function is asked at each sign-in (an app whose settings screen can change them).
   * Without settings, a sign-in uses the ones the profile last signed in with.
   */
  settings?: ProviderSettings | (() => Promise<ProviderSettings>);
  /** The keychain profile this client's session lives in. Default "default". */
  profile?: string;
  /** Where tokens are kept. Default: the OS keychain (never a plain file). */
  store?: TokenStore;
  /** How URLs are opened in the system browser. Default: `$BROWSER`, else the OS default. */
  browser?: BrowserOpener;
  /** How long a sign-in waits for the browser, in milliseconds. Default 5 minutes. */
  timeoutMs?: number;
  /** Your app's name, on the browser page after a loopback sign-in. Default: identity.json's productName. */
  appName?: string;
  /**
   * The keychain service your app's tokens are kept under (ignored when `store` is given). Default:
   * identity.json's keychainService. Give each app its own, so apps built from this template never
   * share tokens.
   */
  keychainService?: string;
  /**
   * Renew the access token in the background shortly before it expires, while this client runs (an
   * app does; a script asks with getAccessToken). A renewal the provider refuses signs the profile
   * out and says so with a `signed-out` event. Stop it with dispose().
   */
  keepFresh?: boolean;
  /** Runs before a browser sign-in with its settings; throw to refuse it (the app checks the OS routes its scheme). */
  beforeSignIn?: (settings: ProviderSettings) => Promise<void>;
}

export interface SignInCall {
  /** Overrides the settings' redirect URI for this sign-in. */
  redirectUri?: string;
  /** Cancels the sign-in: it rejects with the `cancelled` error code. */
  signal?: AbortSignal;
  /** Extra authorization parameters (login_hint, ui_locales, …). */
  extraParameters?: Record<string, string>;
}

export interface DeviceSignInCall {
  /** The page and the short code to show the user (and the page with the code filled in). */
  onCode: (code: DeviceCode) => void;
  /** Cancels the sign-in: it rejects with the `cancelled` error code. */
  signal?: AbortSignal;
}

export interface SignOutCall {
  /** Also end the provider's single sign-on session (its logout page in the browser, or token logout). */
  everywhere?: boolean;
  /** Stops waiting for the logout page. */
  signal?: AbortSignal;
  /** Where the logout page comes back to this once, instead of the one the profile signed in with. */
  postLogoutRedirectUri?: string;
  /** How long to wait for the browser to come back from the logout page. Default 2 minutes. */
  timeoutMs?: number;
}

/** The sign-in in progress, if any: in the system browser, or on another device (RFC 8628). */
export type AttemptKind = 'browser' | 'device';

/** What happened, for a UI that follows along. Never carries a token or a code. */
export type ClientEvent =
  | { type: 'sign-in'; event: SignInEvent }
  | { type: 'attempt-changed'; attempt: AttemptKind | null }
  | { type: 'signed-in'; session: SessionSummary }
  | { type: 'refreshed'; session: SessionSummary }
  /** `result` for a sign-out asked for; null when a renewal found the session ended (refused, or gone from the keychain). */
  | { type: 'signed-out'; result: SignOutResult | null }
  /** A background renewal (keepFresh) failed; the session is kept unless a `signed-out` event follows. */
  | { type: 'error'; error: ConnectError };

export interface ConnectClient {
  /**
   * Sign in through the system browser. Resolves with the session (claims, expiry; no tokens).
   * While it waits: `submitCode` (oob) and `deliverRedirect` (custom scheme) feed it.
   * Rejects with a ConnectError: `timeout`, `cancelled`, `access_denied`, `state_mismatch`,
   * `sign_in_in_progress`, …
   */
  signIn(call?: SignInCall): Promise<SessionSummary>;
  /** Sign in on another device (RFC 8628), where no browser can run here. */
  signInOnAnotherDevice(call: DeviceSignInCall): Promise<SessionSummary>;
  /** The sign-in in progress, if any. */
  readonly attempt: AttemptKind | null;
  /** urn:ietf:wg:oauth:2.0:oob: the code the user pasted. Resolves once it signed the user in. */
  submitCode(input: string): Promise<void>;
  /** Custom URI scheme: the URL the OS handed to the app. Resolves once it signed the user in. */
  deliverRedirect(url: string): Promise<void>;
  /** Open the sign-in page in the browser again (the user closed the tab). */
  reopenBrowser(): Promise<void>;
  /** Cancel the sign-in in progress (it rejects with `reason`, default `cancelled`); nothing when none is. */
  cancelSignIn(reason?: ConnectError): Promise<void>;
  /** A valid access token, renewed shortly before it expires (once, across callers and processes). */
  getAccessToken(options?: { force?: boolean }): Promise<string>;
  /** Renew the tokens now ("Refresh now"). */
  refresh(): Promise<SessionSummary>;
  /** What the userinfo endpoint answers now (`sub` checked); its claims are kept with the session. */
  userInfo(): Promise<Record<string, unknown>>;
  /**
   * `fetch` with the access token in the Authorization header (as Bearer, or as DPoP with a proof
   * when the tokens are bound); one retry after `invalid_token`.
   */
  fetch(input: string | URL, init?: RequestInit, options?: { allowOrigins?: string[] }): Promise<Response>;
  /** Forget the tokens here, revoke them, and with `everywhere` end the provider's single sign-on session. */
  signOut(options?: SignOutCall): Promise<SignOutResult>;
  /**
   * The session (claims, expiry; no tokens), or null when signed out: as this client last read or
   * wrote it, or read from the keychain again with `reload`.
   */
  status(options?: { reload?: boolean }): Promise<SessionSummary | null>;
  /** Follow state changes; returns the function that stops following. */
  on(listener: (event: ClientEvent) => void): () => void;
  /** Stop the background renewal (keepFresh). */
  dispose(): void;
}

/** The longest a Node timer waits (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** A background renewal that failed without signing out (network, keychain) is tried again after this. */
const RETRY_AFTER_FAILURE_MS = 60_000;
/** Failures of a renewal after which the session is certainly still there: no need to read the keychain again. */
const NEVER_SIGNS_OUT = new Set<string>(['keychain_unavailable', 'stored_session_invalid', 'network_error', 'timeout', 'cancelled']);

/** What any sign-in in progress takes: the browser's adds the code, the URL and the reopening. */
type Attempt = Pick<SignInAttempt, 'result' | 'submitCode' | 'deliverRedirect' | 'reopenBrowser' | 'cancel'>;

/** A client for one profile (and one provider at a time). */
export function createClient(options: ClientOptions = {}): ConnectClient {
  const profile = checkProfileName(options.profile ?? DEFAULT_PROFILE);
  const store = options.store ?? new TokenStore(keychainStore(options.keychainService));
  const listeners = new Set<(event: ClientEvent) => void>();
  const emit = (event: ClientEvent) => {
    for (const listener of listeners) {
      try {
        listener(event);
      } catch {
        // a listener's failure is its own: the client's state goes on
      }
    }
  };
  // The attempt in progress: set at once (before its settings are read), so Cancel works right away.
  let pending: { kind: AttemptKind; attempt: Promise<Attempt> } | undefined;
  // The session as last read or written (undefined: not read yet).
  let known: StoredSession | null | undefined;
  let timer: NodeJS.Timeout | undefined;

  const settingsFor = async (): Promise<ProviderSettings> => {
    if (typeof options.settings === 'function') return options.settings();
    if (options.settings) return options.settings;
    const stored = await store.load(profile);
    if (stored) return stored.settings;
    throw new ConnectError('invalid_settings', `No provider settings were given, and profile "${profile}" was never signed in.`);
  };

  /** Keep the session, and with keepFresh schedule its renewal shortly before the access token expires. */
  const remember = (session: StoredSession | null) => {
    known = session;
    const due = options.keepFresh && session?.refreshToken ? refreshDueAt(session) : null;
    schedule(due === null ? null : due * 1000 - Date.now());
  };

  /** The next background renewal in `ms` (null: none). Timers take at most 2^31-1 ms; later is re-armed then. */
  const schedule = (ms: number | null) => {
    clearTimeout(timer);
    if (ms === null) return;
    const wait = Math.min(Math.max(1000, ms), MAX_TIMER_MS);
    timer = setTimeout(() => {
      if (wait < ms) return schedule(ms - wait);
      // A renewal that failed without signing out (the network, the keychain) is tried again later.
      void renew(false, true).catch(() => {
        if (known) schedule(RETRY_AFTER_FAILURE_MS);
      });
    }, wait);
    timer.unref();
  };

  // Sessions announced by onRenewed, so that renew() does not announce them again.
  const renewedHere = new WeakSet<StoredSession>();
  const onRenewed = (session: StoredSession) => {
    renewedHere.add(session);
    remember(session);
    emit({ type: 'refreshed', session: summarize(session) });
  };

  /** A renewal when due (or now, with force); `background`: nobody waits for it, so a failure is an `error` event. */
  const renew = async (force: boolean, background = false): Promise<StoredSession> => {
    try {
      const before = known;
      const session = await freshSession(store, profile, { force, onRenewed });
      remember(session);
      // Renewed by another process (onRenewed speaks for renewals made here): say so too.
      if (before && before.accessToken !== session.accessToken && !renewedHere.has(session)) {
        emit({ type: 'refreshed', session: summarize(session) });
      }
      return session;
    } catch (error) {
      if (background && error instanceof ConnectError) emit({ type: 'error', error });
      // Signed out by the renewal (refresh token refused, renewed tokens not trusted): the keychain
      // says so, whatever the error's code. Errors that never sign out are not asked about twice.
      const code = error instanceof ConnectError ? error.code : undefined;
      const gone =
        code === 'not_signed_in' ||
        (!NEVER_SIGNS_OUT.has(code as string) &&
          (await store.load(profile).then(
            (stored) => stored === null,
            () => false,
          )));
      if (gone && known) {
        remember(null);
        emit({ type: 'signed-out', result: null });
      }
      throw error;
    }
  };

  /** Run one attempt at a time; the client's state follows it. */
  const run = async (kind: AttemptKind, begin: () => Promise<Attempt>): Promise<SessionSummary> => {
    if (pending) throw new ConnectError('sign_in_in_progress', 'A sign-in is already in progress.');
    const attempt = begin();
    pending = { kind, attempt };
    try {
      emit({ type: 'attempt-changed', attempt: kind });
      const summary = await (await attempt).result;
      // The session as stored (for status and keepFresh); the sign-in stands even if this read fails.
      known = undefined;
      await store.load(profile).then(remember, () => undefined);
      emit({ type: 'signed-in', session: summary });
      return summary;
    } finally {
      pending = undefined;
      emit({ type: 'attempt-changed', attempt: null });
    }
  };

  const current = async (what: string): Promise<Attempt> => {
    if (!pending) throw noPendingAttempt(what);
    return pending.attempt;
  };

  return {
    signIn: (call = {}) =>
      run('browser', async () => {
        const settings = await settingsFor();
        const given = { ...settings, ...(call.redirectUri ? { redirectUri: call.redirectUri } : {}) };
        await options.beforeSignIn?.(given);
        const { startSignIn } = await steps.signIn();
        return startSignIn({
          settings: given,
          profile,
          store,
          ...(options.browser ? { browser: options.browser } : {}),
          ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
          ...(options.appName ? { appName: options.appName } : {}),
          ...(call.signal ? { signal: call.signal } : {}),
          ...(call.extraParameters ? { extraParameters: call.extraParameters } : {}),
          onEvent: (event) => emit({ type: 'sign-in', event }),
        });
      }),
    signInOnAnotherDevice: (call) =>
      run('device', async () => {
        const controller = new AbortController();
        const stop = () => controller.abort();
        if (call.signal?.aborted) stop();
        call.signal?.addEventListener('abort', stop, { once: true });
        const { deviceSignIn } = await steps.deviceSignIn();
        const result = deviceSignIn({ settings: await settingsFor(), profile, store, signal: controller.signal, onCode: call.onCode });
        result.catch(() => {});
        const notHere = (what: string) => async () => {
          throw noPendingAttempt(what);
        };
        return {
          result: result.finally(() => call.signal?.removeEventListener('abort', stop)),
          submitCode: notHere('A pasted code'),
          deliverRedirect: notHere('A sign-in response URL'),
          reopenBrowser: notHere('"Open the browser again"'),
          cancel: stop,
        };
      }),
    get attempt() {
      return pending?.kind ?? null;
    },
    submitCode: async (input) => (await current('A pasted code')).submitCode(input),
    deliverRedirect: async (url) => (await current('A sign-in response URL')).deliverRedirect(url),
    reopenBrowser: async () => (await current('"Open the browser again"')).reopenBrowser(),
    async cancelSignIn(reason) {
      (await pending?.attempt.catch(() => undefined))?.cancel(reason);
    },
    getAccessToken: async (opts = {}) => (await renew(opts.force ?? false)).accessToken,
    refresh: async () => summarize(await renew(true)),
    async userInfo() {
      const { readUserInfo } = await steps.userinfo();
      const { userinfo, session } = await readUserInfo(store, profile);
      remember(session);
      return userinfo;
    },
    fetch: async (input, init, call = {}) => {
      const given = typeof options.settings === 'object' ? (options.settings.resourceOrigins ?? []) : [];
      const { authorizedFetch } = await steps.fetch();
      return authorizedFetch(store, profile, input, init, onRenewed, [...given, ...(call.allowOrigins ?? [])]);
    },
    async signOut(opts = {}) {
      const { signOut } = await steps.signOut();
      const result = await signOut({
        profile,
        store,
        everywhere: opts.everywhere ?? false,
        ...(options.browser ? { browser: options.browser } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.postLogoutRedirectUri ? { postLogoutRedirectUri: opts.postLogoutRedirectUri } : {}),
        ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
      });
      remember(null);
      emit({ type: 'signed-out', result });
      return result;
    },
    async status(opts = {}) {
      if (known === undefined || opts.reload) remember(await store.load(profile));
      return known ? summarize(known) : null;
    },
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    dispose: () => clearTimeout(timer),
  };
}
