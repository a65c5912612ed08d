// The core behind the app's window: one profile, one sign-in at a time, the provider settings the
// setup screen edits, and views that carry claims and expiry only. main/ wires IPC and the OS hooks to
// this and nothing else; tests drive it directly.
import { adviceFor } from '../common/advice.js';
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
import type { BrowserOpener } from '../browser/opener.js';
import { discover } from '../provider/discovery.js';
import { DEFAULT_DPOP_MODE } from '../config/dpop-mode.js';
import { ConnectError } from '../common/errors.js';
import { IDENTITY } from '../config/identity.js';
import { customSchemeRedirectUri, desktopDefaultRedirectUri, technologyForPlatform } from '../config/redirect-defaults.js';
import { classifyRedirectUri } from '../config/redirect-uri.js';
import { clientMetadata, validateDetails } from '../registration/details.js';
import { registerClient } from '../registration/dynamic.js';
import { webFingerIssuer } from '../registration/webfinger.js';
import { keychainStore, onKeychainWaiting } from '../secret-store/keychain.js';
import { createClient } from '../client.js';
import type { DeviceCode } from '../steps/device-sign-in.js';
import { displayName, nowSeconds, type SessionSummary } from '../session/session.js';
import { DEFAULT_SCOPE, resolveSettings, type ProviderSettings } from '../config/settings.js';
import { DEFAULT_PROFILE, TokenStore, checkProfileName } from '../session/token-store.js';
import { onRefreshNotice } from '../steps/refresh-notice.js';
import { encode as encodeQr } from 'uqr';

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
  let loaded: { settings: StoredAppSettings; configured: boolean } | undefined;

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

  /** The one client: the sign-in attempt, the session (read once, then as it changes) and its renewal in the background. */
  const client = createClient({
    settings: () => providerSettings(),
    profile,
    store,
    keepFresh: true,
    beforeSignIn: (settings) => checkScheme(settings.redirectUri),
    ...(options.browser ? { browser: options.browser } : {}),
    ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}),
  });

  /** The window is told the new state (a renewal in the background, or a sign-out by it): it never polls. */
  const announce = (session: SessionSummary | null) => void view(session).then((state) => emit({ type: 'state', state }), () => {});
  client.on((event) => {
    if (event.type === 'refreshed') announce(event.session);
    else if (event.type === 'signed-out' && event.result === null) announce(null);
  });

  const view = async (s: SessionSummary | null): Promise<AppState> => {
    const { settings } = await settingsNow();
    const base = {
      issuer: settings.issuer,
      clientId: settings.clientId,
      redirectUri: settings.redirectUri as string,
      redirectKind: redirectKindOf(settings.redirectUri as string),
    };
    if (!s) return { signedIn: false, ...base };
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

  /** A sign-in of either kind; resolves with the state it ends in. */
  const runAttempt = (signIn: () => Promise<SessionSummary>) => attempt(async () => view(await signIn()));

  const inProgress = () => new ConnectError('sign_in_in_progress', 'Finish or cancel the sign-in in progress first.');

  /** Sign-in on another device: the window shows the page, the code and its QR code. */
  const showDeviceCode = (code: DeviceCode) => {
    let qr: boolean[][] = [];
    try {
      qr = encodeQr(code.verificationUriComplete ?? code.verificationUri, { ecc: 'M', border: 0 }).data;
    } catch {
      // too long for a QR code: the page and the code are shown all the same
    }
    emit({ type: 'device-code', code: { ...code, expiresAt: Date.now() + code.expiresIn * 1000, qr } });
  };

  /** Store new provider settings; a session with another provider or client is signed out here. */
  const apply = async (next: StoredAppSettings, secret: string | null | undefined): Promise<SettingsView> => {
    if (client.attempt) throw inProgress();
    await checkScheme(next.redirectUri);
    const previous = (await settingsNow()).settings;
    // The file first: when it is damaged (settings_damaged) or the disk refuses it
    // (settings_not_saved), nothing else has changed yet: no sign-out, no keychain change.
    await settingsStore.save(next);
    loaded = { settings: withDefaults(next), configured: true };
    const session = await store.load(profile).catch(() => null);
    if (session && (session.settings.issuer !== next.issuer || session.settings.clientId !== next.clientId)) {
      await client.signOut().catch(async () => {
        await store.remove(profile);
        await client.status({ reload: true });
      });
    }
    if (secret) {
      await store.saveRegistration(profile, { version: 1, issuer: next.issuer, clientId: next.clientId, clientSecret: secret, metadata: {}, registeredAt: nowSeconds() });
    } else if (secret === null || previous.issuer !== next.issuer || previous.clientId !== next.clientId) {
      const registration = await store.loadRegistration(profile).catch(() => null);
      if (registration && (secret === null || registration.clientId !== next.clientId)) await store.removeRegistration(profile);
    }
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
    state: () => attempt(async () => view(await client.status())),
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
        if (client.attempt) throw inProgress();
        const backup = await settingsStore.startOver();
        loaded = undefined;
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
    signIn: () => runAttempt(() => client.signIn()),
    signInOnAnotherDevice: () => runAttempt(() => client.signInOnAnotherDevice({ onCode: showDeviceCode })),
    submitCode: (code) =>
      attempt(async () => {
        await client.submitCode(code);
        return null;
      }),
    // The OS hands the URL over; nobody in the window asked for it, so a refusal is shown there.
    deliverRedirect: async (url) => {
      const result = await attempt(async () => {
        await client.deliverRedirect(url);
        return null;
      });
      if (!result.ok) emit({ type: 'error', error: result.error });
      return result;
    },
    openBrowserAgain: () =>
      attempt(async () => {
        await client.reopenBrowser();
        return null;
      }),
    reloadUserInfo: () =>
      attempt(async () => {
        await client.userInfo();
        return view(await client.status());
      }),
    cancelSignIn: () =>
      attempt(async () => {
        await client.cancelSignIn();
        return null;
      }),
    refresh: () => attempt(async () => view(await client.refresh())),
    signOut: (everywhere) =>
      attempt(async () => {
        const result = await client.signOut({ everywhere });
        return { state: await view(null), revoked: result.revoked, everywhere: result.everywhere, warnings: result.warnings };
      }),
    onEvent: (listener) => void listeners.add(listener),
    dispose: () => {
      client.dispose();
      stopKeychainEvents();
      stopRefreshNotices();
    },
  };
}
