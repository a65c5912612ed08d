// The core behind the app's window: one profile, one sign-in at a time, the provider settings the
// setup screen edits, and views that carry claims and expiry only. main/ wires IPC and the OS hooks to
// this and nothing else; tests drive it directly.
import { freshSession, refreshDueAt } from './access-token.js';
import { adviceFor } from './advice.js';
import type { AppEvent, AppState, ConnectApi, ErrorView, RedirectKindName, Result, SettingsView } from './app-api.js';
import {
  SettingsFileError,
  checkSettingsInput,
  dpopOf,
  memorySettingsStore,
  problemsError,
  redirectKindOf,
  redirectUriFor,
  type SettingsStore,
  type StoredAppSettings,
} from './app-settings.js';
import type { BrowserOpener } from './browser/opener.js';
import { discover } from './discovery.js';
import { DEFAULT_DPOP_MODE } from './dpop-mode.js';
import { ConnectError } from './errors.js';
import { IDENTITY } from './identity.js';
import { customSchemeRedirectUri, desktopDefaultRedirectUri, technologyForPlatform } from './redirect-defaults.js';
import { classifyRedirectUri } from './redirect-uri.js';
import { clientMetadata, validateDetails } from './registration/details.js';
import { registerClient } from './registration/dynamic.js';
import { webFingerIssuer } from './registration/webfinger.js';
import { keychainStore, onKeychainWaiting } from './secret-store/keychain.js';
import { displayName, nowSeconds, summarize, type StoredSession } from './session.js';
import { DEFAULT_SCOPE, resolveSettings, type ProviderSettings } from './settings.js';
import { noPendingAttempt, startSignIn, type SignInAttempt } from './sign-in.js';
import { signOut } from './sign-out.js';
import { DEFAULT_PROFILE, TokenStore, checkProfileName } from './token-store.js';
import { onRefreshNotice } from './refresh.js';
import { reloadUserInfo } from './userinfo.js';
import { deviceSignIn } from './device-sign-in.js';
import { encode as encodeQr } from 'uqr';

/** What the window can do with a sign-in in progress, whichever kind it is. */
type Attempt = Pick<SignInAttempt, 'result' | 'submitCode' | 'deliverRedirect' | 'reopenBrowser' | 'cancel'>;

export const DEMO_ISSUER = 'http://127.0.0.1:9090';
/** The demo provider's public client: its id is the app's scheme, the provider's convention for Mac clients. */
export const DEMO_CLIENT_ID = IDENTITY.scheme;

export interface DesktopClientOptions {
  /**
   * The settings to start with when the settings store has none (a first run shows the setup
   * screen). Without a redirect URI, the platform's default is used (Windows oob:auto, macOS custom
   * scheme, Linux loopback).
   */
  settings?: ProviderSettings;
  /** Where the setup screen's settings are kept (default: in memory only). */
  settingsStore?: SettingsStore;
  profile?: string;
  store?: TokenStore;
  /** The app passes an opener that uses the OS (Electron's shell.openExternal). */
  browser?: BrowserOpener;
  timeoutMs?: number;
  platform?: NodeJS.Platform;
  /** The demo provider for "Use the demo provider". */
  demoIssuer?: string;
  /** The URL scheme the app's build declares (identity.json), for dynamic registration with a custom scheme. */
  appScheme?: string;
  /**
   * Make the OS hand this custom scheme's URLs to the app, or throw `scheme_unavailable` saying why
   * it cannot (macOS routes only the schemes the build declared). Called before a sign-in with a
   * custom-scheme redirect and when such settings are saved, so that a redirect the app cannot
   * receive is refused up front instead of waiting for its timeout. Without it, any scheme is taken.
   */
  receiveScheme?: (scheme: string) => Promise<void>;
}

/** The renderer's API, plus what only the main process may call. */
export interface DesktopClient extends ConnectApi {
  /** A custom-scheme URL the OS handed to the app (open-url, second-instance). Never from the renderer. */
  deliverRedirect(url: string): Promise<Result<null>>;
  /** The redirect URI in use, to register its scheme with the OS. */
  redirectUri(): Promise<string>;
  /** Stop the background refresh and stop listening to the keychain (when the app quits). */
  dispose(): void;
}

function errorView(error: unknown): ErrorView {
  if (!(error instanceof ConnectError)) return { code: 'internal_error', message: 'An unexpected error occurred.' };
  const advice = adviceFor(error.code);
  // The settings file's place, for the window to say where it is (a damaged one is kept there).
  const file = error instanceof SettingsFileError ? error.file : undefined;
  return { code: error.code, message: error.message, ...(advice ? { advice } : {}), ...(file ? { file } : {}) };
}

async function attempt<T>(work: () => Promise<T>): Promise<Result<T>> {
  try {
    return { ok: true, value: await work() };
  } catch (error) {
    return { ok: false, error: errorView(error) };
  }
}

export function createDesktopClient(options: DesktopClientOptions): DesktopClient {
  const platform = options.platform ?? process.platform;
  const profile = checkProfileName(options.profile ?? DEFAULT_PROFILE);
  const store = options.store ?? new TokenStore(keychainStore());
  const settingsStore = options.settingsStore ?? memorySettingsStore();
  const demoIssuer = options.demoIssuer ?? DEMO_ISSUER;
  const appScheme = options.appScheme ?? IDENTITY.scheme;
  const listeners = new Set<(event: AppEvent) => void>();
  const emit = (event: AppEvent) => {
    for (const listener of listeners) listener(event);
  };
  const stopKeychainEvents = onKeychainWaiting((waiting) => emit({ type: 'keychain', waiting }));
  // A renewal whose tokens the keychain has not taken yet: the window says it waits for the keychain.
  const stopRefreshNotices = onRefreshNotice(({ waiting }) => emit({ type: 'keychain', waiting }));
  /** A custom-scheme redirect must be one the OS will hand to this app. */
  const checkScheme = async (redirectUri: string | undefined) => {
    const kind = redirectUri ? classifyRedirectUri(redirectUri) : undefined;
    if (kind?.kind === 'custom-scheme' && options.receiveScheme) await options.receiveScheme(kind.scheme);
  };
  // The sign-in in progress: set at once (before its settings are read), so Cancel works right away.
  let running: Promise<Attempt> | undefined;

  /** Sign-in on another device, as an attempt the window can cancel (it takes no code or URL). */
  const deviceAttempt = (settings: ProviderSettings): Attempt => {
    const controller = new AbortController();
    const result = deviceSignIn({
      settings,
      profile,
      store,
      signal: controller.signal,
      onCode: (code) => {
        let qr: boolean[][] = [];
        try {
          qr = encodeQr(code.verificationUriComplete ?? code.verificationUri, { ecc: 'M', border: 0 }).data;
        } catch {
          // too long for a QR code: the page and the code are shown all the same
        }
        emit({ type: 'device-code', code: { ...code, expiresAt: Date.now() + code.expiresIn * 1000, qr } });
      },
    });
    result.catch(() => {});
    const notHere = (what: string) => async () => {
      throw noPendingAttempt(what);
    };
    return {
      result,
      submitCode: notHere('A pasted code'),
      deliverRedirect: notHere('A sign-in response URL'),
      reopenBrowser: notHere('"Open the browser again"'),
      cancel: () => controller.abort(),
    };
  };
  let loaded: { settings: StoredAppSettings; configured: boolean } | undefined;
  // The session as last read or written, so the window can ask often without touching the keychain.
  let cached: StoredSession | null | undefined;
  let timer: NodeJS.Timeout | undefined;

  const withDefaults = (s: ProviderSettings | StoredAppSettings): StoredAppSettings => ({
    ...s,
    redirectUri: s.redirectUri ?? desktopDefaultRedirectUri(platform, s.clientId),
  });

  const settingsNow = async (): Promise<{ settings: StoredAppSettings; configured: boolean }> => {
    if (!loaded) {
      // A damaged settings file throws settings_damaged here, for every call that needs settings,
      // until the user repairs it or starts over: never the preset or the setup screen in its place,
      // whose first save would replace what the user had.
      const saved = await settingsStore.load();
      if (saved) loaded = { settings: withDefaults(saved), configured: true };
      else if (options.settings) {
        const { clientSecret: _secret, ...rest } = options.settings;
        loaded = { settings: withDefaults(rest), configured: true };
      } else loaded = { settings: withDefaults({ issuer: demoIssuer, clientId: DEMO_CLIENT_ID }), configured: false };
    }
    return loaded;
  };

  /** The full settings for a sign-in: the stored ones plus the secret from the keychain (or the options). */
  const providerSettings = async (): Promise<ProviderSettings> => {
    const { settings } = await settingsNow();
    const registration = await store.loadRegistration(profile);
    const secret =
      registration && registration.clientId === settings.clientId && registration.issuer === settings.issuer
        ? registration.clientSecret
        : options.settings?.clientId === settings.clientId
          ? options.settings.clientSecret
          : undefined;
    return { ...settings, ...(secret ? { clientSecret: secret } : {}) };
  };

  /**
   * The redirect kind to recommend: the platform's default, except that on macOS the custom scheme
   * (`<client-id>://`) works only for the client id the build declared as its scheme.
   */
  const recommendedKind = (clientId: string): RedirectKindName => {
    const kind = redirectKindOf(desktopDefaultRedirectUri(platform, 'x'));
    return kind === 'custom-scheme' && platform === 'darwin' && clientId.toLowerCase() !== appScheme ? 'loopback' : kind;
  };

  const settingsView = async (): Promise<SettingsView> => {
    const { settings, configured } = await settingsNow();
    const full = await providerSettings();
    return {
      configured,
      issuer: settings.issuer,
      clientId: settings.clientId,
      hasSecret: !!full.clientSecret,
      redirectKind: redirectKindOf(settings.redirectUri as string),
      scope: settings.scope ?? DEFAULT_SCOPE,
      dpop: full.dpop ?? DEFAULT_DPOP_MODE,
      platformDefault: recommendedKind(settings.clientId),
      demoIssuer,
    };
  };

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

  /** The window is told the new state (a renewal in the background, or a sign-out by it): it never polls. */
  const announce = (session: StoredSession | null) => void view(session).then((state) => emit({ type: 'state', state }), () => {});

  const renew = async (force: boolean): Promise<StoredSession> => {
    try {
      const session = await freshSession(store, profile, { force });
      remember(session);
      announce(session);
      return session;
    } catch (error) {
      // Signed out by the renewal (refresh token refused, renewed tokens not trusted): show it. The
      // keychain says so, whatever the error's code.
      const gone = await store.load(profile).then(
        (stored) => stored === null,
        () => false,
      );
      if (gone) {
        remember(null);
        announce(null);
      }
      throw error;
    }
  };

  const view = async (session: StoredSession | null): Promise<AppState> => {
    const { settings } = await settingsNow();
    const base = {
      issuer: settings.issuer,
      clientId: settings.clientId,
      redirectUri: settings.redirectUri as string,
      redirectKind: redirectKindOf(settings.redirectUri as string),
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
      senderConstrained: s.senderConstrained,
    };
  };

  /** One sign-in at a time, of either kind; resolves with the state it ends in. */
  const runAttempt = (begin: (settings: ProviderSettings) => Promise<Attempt>) =>
    attempt(async () => {
      if (running) throw new ConnectError('sign_in_in_progress', 'A sign-in is already in progress.');
      running = providerSettings().then(begin);
      try {
        await (await running).result;
      } finally {
        running = undefined;
      }
      cached = undefined;
      return view(await load());
    });

  const current = async (what: string): Promise<Attempt> => {
    if (!running) throw noPendingAttempt(what);
    return running;
  };

  /** Store new provider settings; a session with another provider or client is signed out here. */
  const apply = async (next: StoredAppSettings, secret: string | null | undefined): Promise<SettingsView> => {
    if (running) throw new ConnectError('sign_in_in_progress', 'Finish or cancel the sign-in in progress first.');
    await checkScheme(next.redirectUri);
    const previous = (await settingsNow()).settings;
    // The file first: when it is damaged (settings_damaged) or the disk refuses it
    // (settings_not_saved), nothing else has changed yet: no sign-out, no keychain change.
    await settingsStore.save(next);
    loaded = { settings: withDefaults(next), configured: true };
    const session = await store.load(profile).catch(() => null);
    if (session && (session.issuer !== next.issuer || session.clientId !== next.clientId)) {
      await signOut({ profile, store }).catch(() => store.remove(profile));
      remember(null);
    }
    if (secret) {
      await store.saveRegistration(profile, { version: 1, issuer: next.issuer, clientId: next.clientId, clientSecret: secret, metadata: {}, registeredAt: nowSeconds() });
    } else if (secret === null || previous.issuer !== next.issuer || previous.clientId !== next.clientId) {
      const registration = await store.loadRegistration(profile).catch(() => null);
      if (registration && (secret === null || registration.clientId !== next.clientId)) await store.removeRegistration(profile);
    }
    cached = undefined;
    return settingsView();
  };

  /** The issuer from the form: an e-mail address is looked up with WebFinger; then discovery must work. */
  const issuerOf = async (input: string): Promise<string> => {
    const text = input.trim();
    const issuer = text.includes('@') ? await webFingerIssuer(text) : text;
    await discover(resolveSettings({ issuer, clientId: 'unregistered' }));
    return issuer;
  };

  return {
    redirectUri: async () => (await settingsNow()).settings.redirectUri as string,
    state: () => attempt(async () => view(await load())),
    settings: () => attempt(settingsView),
    checkSettings: (input) => attempt(async () => checkSettingsInput(input)),
    saveSettings: (input) =>
      attempt(async () => {
        const problems = checkSettingsInput(input);
        if (Object.keys(problems).length) throw problemsError(problems);
        const issuer = await issuerOf(input.issuer);
        const clientId = input.clientId.trim();
        const keep = (await settingsNow()).settings;
        const redirectUri = redirectUriFor(input.redirectKind, clientId, keep.redirectUri);
        return apply({ issuer, clientId, scope: input.scope.trim(), redirectUri, ...dpopOf(input, keep) }, input.clientSecret);
      }),
    useDemoProvider: () =>
      attempt(async () => {
        await issuerOf(demoIssuer).catch((error: unknown) => {
          throw new ConnectError('network_error', `The demo provider is not running at ${demoIssuer} (start it with: npm run provider).`, { cause: error });
        });
        return apply({ issuer: demoIssuer, clientId: DEMO_CLIENT_ID, scope: DEFAULT_SCOPE, redirectUri: desktopDefaultRedirectUri(platform, DEMO_CLIENT_ID) }, null);
      }),
    startOver: () =>
      attempt(async () => {
        if (running) throw new ConnectError('sign_in_in_progress', 'Finish or cancel the sign-in in progress first.');
        const backup = await settingsStore.startOver();
        loaded = undefined;
        cached = undefined;
        return { backup, settings: await settingsView() };
      }),
    registerApp: (input) =>
      attempt(async () => {
        const issuer = await issuerOf(input.issuer);
        // The custom scheme here is the app's own (the one it registers with the OS).
        const redirectUri =
          input.redirectKind === 'custom-scheme' ? customSchemeRedirectUri(appScheme) : redirectUriFor(input.redirectKind, 'unused');
        const { details } = validateDetails(
          { displayName: IDENTITY.productName, technology: technologyForPlatform(platform), redirectUris: [redirectUri], scopes: input.scope.trim().split(/\s+/) },
          { purpose: 'dynamic' },
        );
        const registration = await registerClient({ issuer, metadata: clientMetadata(details) });
        const dpop = dpopOf(input, (await settingsNow()).settings);
        const view = await apply({ issuer, clientId: registration.clientId, scope: details.scopes.join(' '), redirectUri, ...dpop }, registration.clientSecret);
        if (!registration.clientSecret) await store.saveRegistration(profile, registration);
        return view;
      }),
    signIn: () =>
      runAttempt(async (settings) => {
        await checkScheme(settings.redirectUri);
        return startSignIn({
          settings,
          profile,
          store,
          ...(options.browser ? { browser: options.browser } : {}),
          ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
        });
      }),
    signInOnAnotherDevice: () => runAttempt(async (settings) => deviceAttempt(settings)),
    submitCode: (code) =>
      attempt(async () => {
        await (await current('A pasted code')).submitCode(code);
        return null;
      }),
    // The OS hands the URL over; nobody in the window asked for it, so a refusal is shown there.
    deliverRedirect: async (url) => {
      const result = await attempt(async () => {
        await (await current('A sign-in response URL')).deliverRedirect(url);
        return null;
      });
      if (!result.ok) emit({ type: 'error', error: result.error });
      return result;
    },
    openBrowserAgain: () =>
      attempt(async () => {
        await (await current('"Open the browser again"')).reopenBrowser();
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
        (await running?.catch(() => undefined))?.cancel();
        return null;
      }),
    refresh: () => attempt(async () => view(await renew(true))),
    signOut: (everywhere) =>
      attempt(async () => {
        const result = await signOut({ profile, store, everywhere, ...(options.browser ? { browser: options.browser } : {}) });
        remember(null);
        return { state: await view(null), revoked: result.revoked, everywhere: result.everywhere, warnings: result.warnings };
      }),
    onEvent: (listener) => void listeners.add(listener),
    dispose: () => {
      clearTimeout(timer);
      stopKeychainEvents();
      stopRefreshNotices();
    },
  };
}
