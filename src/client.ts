// The library's entry point for your own code: `createClient(options)` gives an object for one
// provider and one profile, over the same core steps the app (desktop-client.ts) and the CLI
// (cli/main.ts) use; they do not go through this object yet.
import { freshSession } from './access-token.js';
import { authorizedFetch } from './authorized-fetch.js';
import type { BrowserOpener } from './browser/opener.js';
import { ConnectError } from './errors.js';
import { keychainStore } from './secret-store/keychain.js';
import { summarize, type SessionSummary, type StoredSession } from './session.js';
import type { ProviderSettings } from './settings.js';
import { noPendingAttempt, startSignIn, type SignInAttempt, type SignInEvent } from './sign-in.js';
import { signOut, type SignOutResult } from './sign-out.js';
import { DEFAULT_PROFILE, TokenStore, checkProfileName } from './token-store.js';
import { reloadUserInfo } from './userinfo.js';

export interface ClientOptions {
  /** The provider: issuer (or explicit endpoints), client id, optional secret, scope, redirect URI. */
  settings: ProviderSettings;
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
}

export interface SignInCall {
  /** Overrides the settings' redirect URI for this sign-in. */
  redirectUri?: string;
  /** Cancels the sign-in: it rejects with the `cancelled` error code. */
  signal?: AbortSignal;
  /** Extra authorization parameters (login_hint, ui_locales, …). */
  extraParameters?: Record<string, string>;
}

/** What happened, for a UI that follows along. Never carries a token or a code. */
export type ClientEvent =
  | { type: 'sign-in'; event: SignInEvent }
  | { type: 'signed-in'; session: SessionSummary }
  | { type: 'refreshed'; session: SessionSummary }
  | { type: 'signed-out'; result: SignOutResult };

export interface ConnectClient {
  /**
   * Sign in through the system browser. Resolves with the session (claims, expiry; no tokens).
   * While it waits: `submitCode` (oob) and `deliverRedirect` (custom scheme) feed it.
   * Rejects with a ConnectError: `timeout`, `cancelled`, `access_denied`, `state_mismatch`, …
   */
  signIn(call?: SignInCall): Promise<SessionSummary>;
  /** urn:ietf:wg:oauth:2.0:oob: the code the user pasted. Resolves once it signed the user in. */
  submitCode(input: string): Promise<void>;
  /** Custom URI scheme: the URL the OS handed to the app. Resolves once it signed the user in. */
  deliverRedirect(url: string): Promise<void>;
  /** A valid access token, renewed shortly before it expires (once, across callers and processes). */
  getAccessToken(options?: { force?: boolean }): Promise<string>;
  /** The user's claims, read again from the userinfo endpoint. */
  userInfo(): Promise<Record<string, unknown>>;
  /** `fetch` with the access token in the Authorization header; one retry after `invalid_token`. */
  fetch(input: string | URL, init?: RequestInit): Promise<Response>;
  /** Forget the tokens here, revoke them, and with `everywhere` end the provider's single sign-on session. */
  signOut(options?: { everywhere?: boolean; signal?: AbortSignal }): Promise<SignOutResult>;
  /** The stored session (claims, expiry; no tokens), or null when signed out. */
  status(): Promise<SessionSummary | null>;
  /** Follow state changes; returns the function that stops following. */
  on(listener: (event: ClientEvent) => void): () => void;
}

/** A client for one provider and one profile. */
export function createClient(options: ClientOptions): ConnectClient {
  const profile = checkProfileName(options.profile ?? DEFAULT_PROFILE);
  const store = options.store ?? new TokenStore(keychainStore(options.keychainService));
  const listeners = new Set<(event: ClientEvent) => void>();
  const emit = (event: ClientEvent) => {
    for (const listener of listeners) listener(event);
  };
  let pending: SignInAttempt | undefined;

  const onRenewed = (session: StoredSession) => emit({ type: 'refreshed', session: summarize(session) });

  const waiting = (what: string): SignInAttempt => {
    if (!pending) throw noPendingAttempt(what);
    return pending;
  };

  return {
    async signIn(call = {}) {
      if (pending) throw new ConnectError('sign_in_in_progress', 'A sign-in is already in progress.');
      const attempt = startSignIn({
        settings: { ...options.settings, ...(call.redirectUri ? { redirectUri: call.redirectUri } : {}) },
        profile,
        store,
        ...(options.browser ? { browser: options.browser } : {}),
        ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
        ...(options.appName ? { appName: options.appName } : {}),
        ...(call.signal ? { signal: call.signal } : {}),
        ...(call.extraParameters ? { extraParameters: call.extraParameters } : {}),
        onEvent: (event) => emit({ type: 'sign-in', event }),
      });
      pending = attempt;
      try {
        const session = await attempt.result;
        emit({ type: 'signed-in', session });
        return session;
      } finally {
        pending = undefined;
      }
    },
    submitCode: async (input) => waiting('A pasted code').submitCode(input),
    deliverRedirect: async (url) => waiting('A sign-in response URL').deliverRedirect(url),
    getAccessToken: async (opts = {}) => (await freshSession(store, profile, { ...opts, onRenewed })).accessToken,
    async userInfo() {
      return (await reloadUserInfo(store, profile)).claims;
    },
    fetch: (input, init) => authorizedFetch(store, profile, input, init, onRenewed, options.settings.resourceOrigins),
    async signOut(opts = {}) {
      const result = await signOut({
        profile,
        store,
        everywhere: opts.everywhere ?? false,
        ...(options.browser ? { browser: options.browser } : {}),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
      emit({ type: 'signed-out', result });
      return result;
    },
    async status() {
      const session = await store.load(profile);
      return session ? summarize(session) : null;
    },
    on(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
