// The core behind the app's window: one profile, one sign-in at a time, and views that carry claims
// and expiry only. main/ wires IPC to this and nothing else; tests drive it directly.
import type { AppState, ConnectApi, ErrorView, Result } from './app-api.js';
import type { BrowserOpener } from './browser/opener.js';
import { ConnectError } from './errors.js';
import { keychainStore } from './secret-store/keychain.js';
import { displayName, summarize, type StoredSession } from './session.js';
import { resolveSettings, type ProviderSettings } from './settings.js';
import { signIn } from './sign-in.js';
import { DEFAULT_PROFILE, TokenStore, checkProfileName } from './token-store.js';

export interface DesktopClientOptions {
  settings: ProviderSettings;
  profile?: string;
  store?: TokenStore;
  /** The app passes an opener that uses the OS (Electron's shell.openExternal). */
  browser?: BrowserOpener;
  timeoutMs?: number;
}

function errorView(error: unknown): ErrorView {
  if (error instanceof ConnectError) return { code: error.code, message: error.message };
  return { code: 'internal_error', message: 'An unexpected error occurred.' };
}

async function attempt<T>(work: () => Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, error: errorView(error) };
  }
}

export function createDesktopClient(options: DesktopClientOptions): ConnectApi {
  const settings = resolveSettings(options.settings);
  const profile = checkProfileName(options.profile ?? DEFAULT_PROFILE);
  const store = options.store ?? new TokenStore(keychainStore());
  let running: AbortController | undefined;

  const view = (session: StoredSession | null): AppState => {
    const base = { issuer: settings.issuer, clientId: settings.clientId, redirectUri: settings.redirectUri };
    if (!session) return { signedIn: false, ...base };
    const s = summarize(session);
    return {
      signedIn: true,
      ...base,
      sub: s.sub,
      displayName: displayName(s.claims),
      claims: s.claims,
      scope: s.scope,
      expiresAt: s.expiresAt,
      hasRefreshToken: s.hasRefreshToken,
    };
  };

  return {
    state: () => attempt(async () => view(await store.load(profile))),
    signIn: () =>
      attempt(async () => {
        if (running) throw new ConnectError('invalid_settings', 'A sign-in is already in progress.');
        running = new AbortController();
        try {
          await signIn({
            settings: options.settings,
            profile,
            store,
            signal: running.signal,
            ...(options.browser ? { browser: options.browser } : {}),
            ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
          });
        } finally {
          running = undefined;
        }
        return view(await store.load(profile));
      }),
    cancelSignIn: () =>
      attempt(async () => {
        running?.abort(new ConnectError('cancelled', 'Sign-in was cancelled; nothing was stored.'));
        return null;
      }),
    signOut: () =>
      attempt(async () => {
        await store.remove(profile);
        return view(null);
      }),
  };
}
