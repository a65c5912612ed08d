// The one API the app's renderer sees (`window.connect`), shared by preload, main and renderer, so
// a test host can provide the same API. It carries claims and expiry only: never a token or a code.

import type { DpopMode } from '../config/dpop-mode.js';

export interface ErrorView {
  code: string;
  message: string;
  /** What the user can do next. */
  advice?: string;
  /** The file the error is about (`settings_damaged`, `settings_not_saved`: the app's settings file). */
  file?: string;
}

interface ProviderView {
  issuer: string;
  clientId: string;
  redirectUri: string;
  /** How the result comes back: the renderer shows a paste box for 'oob'. */
  redirectKind: RedirectKindName;
}

export type AppState =
  | ({ signedIn: false } & ProviderView)
  | ({
      signedIn: true;
      sub: string;
      displayName: string | undefined;
      claims: Record<string, unknown>;
      scope: string;
      /** Seconds since the epoch, or null. */
      expiresAt: number | null;
      hasRefreshToken: boolean;
      /** The access token is bound to a key in the keychain (DPoP): a copy is refused without it wherever DPoP is checked. */
      senderConstrained: boolean;
    } & ProviderView);

/** How a sign-out went at the provider (the local part always succeeds). */
export interface SignOutView {
  state: AppState;
  /** Tokens revoked at the provider; null when it has no revocation endpoint. */
  revoked: boolean | null;
  everywhere: 'not_requested' | 'confirmed' | 'token_logout' | 'unsupported' | 'failed';
  warnings: string[];
}

export type RedirectKindName = 'loopback' | 'custom-scheme' | 'oob-auto' | 'oob';

/** The provider settings as the setup screen shows them (the secret only as "set or not"). */
export interface SettingsView {
  /** False on first run: the setup screen opens by itself. */
  configured: boolean;
  issuer: string;
  clientId: string;
  hasSecret: boolean;
  redirectKind: RedirectKindName;
  scope: string;
  /** Sender-constrained tokens (DPoP): auto (when the provider offers it), on, or off. */
  dpop: DpopMode;
  /** What to recommend here: the platform's default (Windows oob:auto, macOS custom scheme, Linux loopback), but
   * loopback on macOS for a client id other than the scheme the build declares. */
  platformDefault: RedirectKindName;
  /** The demo provider's issuer, for "Use the demo provider". */
  demoIssuer: string;
}

/** After "Start over": where the damaged settings file was kept, and the settings now (not configured, or the app's preset). */
export interface StartOverView {
  /** The backup of the damaged file, next to where it was; null when there was nothing damaged to move. */
  backup: string | null;
  settings: SettingsView;
}

/** What the setup screen submits. `issuer` may be an e-mail address (found with WebFinger). */
export interface SettingsInput {
  issuer: string;
  clientId: string;
  /** Empty: keep the stored secret (if any); null: remove it. */
  clientSecret?: string | null;
  redirectKind: RedirectKindName;
  scope: string;
  /** Sender-constrained tokens (DPoP). Default: auto. */
  dpop?: DpopMode;
}

/** One message per field, for inline validation. */
export type FieldProblems = Partial<Record<keyof SettingsInput, string>>;

/**
 * What the app tells the window without being asked:
 * - `error`: something the OS handed to the app was refused (a sign-in response URL that arrived
 *   when no sign-in was waiting, or did not match it), with advice;
 * - `keychain`: a keychain call is waiting (true), for example for the user to answer macOS's
 *   keychain prompt, or no call is waiting any more (false);
 * - `state`: the session changed without the window asking (renewed in the background, or signed
 *   out because the provider refused the renewal).
 */
export type AppEvent =
  | { type: 'error'; error: ErrorView }
  | { type: 'keychain'; waiting: boolean }
  | { type: 'state'; state: AppState }
  | { type: 'device-code'; code: DeviceCodeView };

/**
 * Sign-in on another device (RFC 8628): what to show the user. The user code is made to be shown
 * (it is typed on the other device); the QR code holds the page with the code filled in.
 */
export interface DeviceCodeView {
  userCode: string;
  verificationUri: string;
  verificationUriComplete?: string;
  /** Milliseconds since the epoch. */
  expiresAt: number;
  /** The QR code's modules, row by row (true: dark). */
  qr: boolean[][];
}

/** Every call resolves; failures come back as `{ ok: false, error }` with a stable code. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorView };

export interface ConnectApi {
  state(): Promise<Result<AppState>>;
  /** Opens the system browser and resolves when the attempt ends. */
  signIn(): Promise<Result<AppState>>;
  /**
   * Sign in on another device (a phone): a `device-code` event brings the page and code to show;
   * resolves when the user finished there (cancelSignIn() ends it too).
   */
  signInOnAnotherDevice(): Promise<Result<AppState>>;
  /** oob: the code the user pasted. Fails (and the attempt keeps waiting) for a wrong code. */
  submitCode(code: string): Promise<Result<null>>;
  /** Cancels a sign-in in progress (its signIn() resolves with `cancelled`). */
  cancelSignIn(): Promise<Result<null>>;
  /** Opens the sign-in page of the attempt in progress again. */
  openBrowserAgain(): Promise<Result<null>>;
  /** Reads the user's claims again from the userinfo endpoint. */
  reloadUserInfo(): Promise<Result<AppState>>;
  /** The provider settings, for the setup screen. */
  settings(): Promise<Result<SettingsView>>;
  /** Inline validation of the setup form (no network). */
  checkSettings(input: SettingsInput): Promise<Result<FieldProblems>>;
  /** Save the setup form (finding the issuer with WebFinger for an e-mail address); signs out a changed provider. */
  saveSettings(input: SettingsInput): Promise<Result<SettingsView>>;
  /** Use the built-in demo provider and its public client. */
  useDemoProvider(): Promise<Result<SettingsView>>;
  /** Register this app at the provider (dynamic registration) and use the new client. */
  registerApp(input: SettingsInput): Promise<Result<SettingsView>>;
  /**
   * The settings file is damaged (`settings_damaged`) and the user chose to start over: the file is
   * moved aside to a backup next to it (never deleted), and the setup screen can begin afresh.
   * Settings that are fine are left alone.
   */
  startOver(): Promise<Result<StartOverView>>;
  /** Renews the access token now ("Refresh now"); the app also does it in the background. */
  refresh(): Promise<Result<AppState>>;
  /** Forgets this app's tokens and revokes them; `everywhere` also ends the provider's single sign-on session. */
  signOut(everywhere: boolean): Promise<Result<SignOutView>>;
  /** Calls `listener` with every AppEvent from now on. */
  onEvent(listener: (event: AppEvent) => void): void;
}

/** The methods the window calls (each over its own IPC channel); events come the other way. */
export type InvokeMethod = Exclude<keyof ConnectApi, 'onEvent'>;

/** The channel on which the main process sends AppEvents to the window. */
export const EVENT_CHANNEL = 'connect:event';

/** IPC channel names, one per method. */
export const CHANNELS = {
  state: 'connect:state',
  signIn: 'connect:sign-in',
  signInOnAnotherDevice: 'connect:sign-in-device',
  submitCode: 'connect:submit-code',
  cancelSignIn: 'connect:cancel-sign-in',
  openBrowserAgain: 'connect:open-browser-again',
  reloadUserInfo: 'connect:reload-user-info',
  settings: 'connect:settings',
  checkSettings: 'connect:check-settings',
  saveSettings: 'connect:save-settings',
  useDemoProvider: 'connect:use-demo-provider',
  registerApp: 'connect:register-app',
  startOver: 'connect:start-over',
  refresh: 'connect:refresh',
  signOut: 'connect:sign-out',
} as const satisfies Record<InvokeMethod, string>;
