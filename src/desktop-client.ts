// The core behind the app's window: one profile, one sign-in at a time, and views that carry claims
// and expiry only. main/ wires IPC and the OS hooks to this and nothing else; tests drive it directly.
import { freshSession, refreshDueAt } from './access-token.js';
import { adviceFor } from './advice.js';
import { reloadUserInfo } from './userinfo.js';
import type { AppState, ConnectApi, ErrorView, Result } from './app-api.js';
import type { BrowserOpener } from './browser/opener.js';
import { ConnectError } from './errors.js';
import { desktopDefaultRedirectUri } from './redirect-defaults.js';
import { keychainStore } from './secret-store/keychain.js';
import { displayName, summarize, type StoredSession } from './session.js';
import { resolveSettings, type ProviderSettings } from './settings.js';
import { startSignIn, type SignInAttempt } from './sign-in.js';
import { signOut } from './sign-out.js';
import { DEFAULT_PROFILE, TokenStore, checkProfileName } from './token-store.js';

export interface DesktopClientOptions {
  /** Without a redirect URI, the platform's default is used (Windows oob:auto, macOS custom scheme, Linux loopback). */
  settings: ProviderSettings;
  profile?: string;
  store?: TokenStore;
  /** The app passes an opener that uses the OS (Electron's shell.openExternal). */
  browser?: BrowserOpener;
  timeoutMs?: number;
  platform?: NodeJS.Platform;
}

/** The renderer's API, plus what only the main process may call. */
export interface DesktopClient extends ConnectApi {
  /** A custom-scheme URL the OS handed to the app (open-url, second-instance). Never from the renderer. */
  deliverRedirect(url: string): Promise<Result<null>>;
  /** The redirect URI in use, to register its scheme with the OS. */
  readonly redirectUri: string;
  /** Stop the background refresh (when the app quits). */
  dispose(): void;
}

function errorView(error: unknown): ErrorView {
  if (!(error instanceof ConnectError)) return { code: 'internal_error', message: 'An unexpected error occurred.' };
  const advice = adviceFor(error.code);
  return { code: error.code, message: error.message, ...(advice ? { advice } : {}) };
}

async function attempt<T>(work: () => Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, error: errorView(error) };
  }
}

export function createDesktopClient(options: DesktopClientOptions): DesktopClient {
  const settingsIn: ProviderSettings = {
    ...options.settings,
    redirectUri:
      options.settings.redirectUri ?? desktopDefaultRedirectUri(options.platform ?? process.platform, options.settings.clientId),
  };
  const settings = resolveSettings(settingsIn);
  const profile = checkProfileName(options.profile ?? DEFAULT_PROFILE);
  const store = options.store ?? new TokenStore(keychainStore());
  let running: SignInAttempt | undefined;
  // The session as last read or written, so the window can ask often without touching the keychain.
  let cached: StoredSession | null | undefined;
  let timer: NodeJS.Timeout | undefined;

  const load = async (): Promise<StoredSession | null> => {
    if (cached === undefined) remember(await store.load(profile));
    return cached ?? null;
  };

  /** Keep the session, and schedule its renewal shortly before the access token expires. */
  const remember = (session: StoredSession | null) => {
    cached = session;
    clearTimeout(timer);
    const due = session?.refreshToken ? refreshDueAt(session) : null;
    if (due === null) return;
    timer = setTimeout(() => void renew(false).catch(() => {}), Math.max(1000, due * 1000 - Date.now()));
    timer.unref();
  };

  const renew = async (force: boolean): Promise<StoredSession> => {
    try {
      const session = await freshSession(store, profile, { force });
      remember(session);
      return session;
    } catch (error) {
      // Signed out by the renewal (refresh token refused): show it.
      if (error instanceof ConnectError && (error.code === 'session_expired' || error.code === 'id_token_invalid' || error.code === 'not_signed_in')) remember(null);
      throw error;
    }
  };

  const view = (session: StoredSession | null): AppState => {
    const base = {
      issuer: settings.issuer,
      clientId: settings.clientId,
      redirectUri: settings.redirectUri,
      redirectKind: settings.redirect.kind,
    };
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

  const current = (what: string): SignInAttempt => {
    if (!running) throw new ConnectError('no_pending_attempt', `${what} arrived while no sign-in was waiting for it; it was ignored.`);
    return running;
  };

  return {
    redirectUri: settings.redirectUri,
    state: () => attempt(async () => view(await load())),
    signIn: () =>
      attempt(async () => {
        if (running) throw new ConnectError('invalid_settings', 'A sign-in is already in progress.');
        const started = startSignIn({
          settings: settingsIn,
          profile,
          store,
          ...(options.browser ? { browser: options.browser } : {}),
          ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
        });
        running = started;
        try {
          await started.result;
        } finally {
          running = undefined;
        }
        cached = undefined;
        return view(await load());
      }),
    submitCode: (code) =>
      attempt(async () => {
        await current('A pasted code').submitCode(code);
        return null;
      }),
    deliverRedirect: (url) =>
      attempt(async () => {
        await current('A sign-in response URL').deliverRedirect(url);
        return null;
      }),
    openBrowserAgain: () =>
      attempt(async () => {
        await current('"Open the browser again"').reopenBrowser();
        return null;
      }),
    reloadUserInfo: () =>
      attempt(async () => {
        const session = await reloadUserInfo(store, profile);
        remember(session);
        return view(session);
      }),
    cancelSignIn: () =>
      attempt(async () => {
        running?.cancel();
        return null;
      }),
    refresh: () => attempt(async () => view(await renew(true))),
    signOut: (everywhere) =>
      attempt(async () => {
        const result = await signOut({ profile, store, everywhere, ...(options.browser ? { browser: options.browser } : {}) });
        remember(null);
        return { state: view(null), revoked: result.revoked, everywhere: result.everywhere, warnings: result.warnings };
      }),
    dispose: () => clearTimeout(timer),
  };
}
