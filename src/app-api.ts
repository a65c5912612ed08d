// The one API the app's renderer sees (`window.connect`), shared by preload, main and renderer, so
// a test host can provide the same API. It carries claims and expiry only: never a token or a code.

export interface ErrorView {
  code: string;
  message: string;
  /** What the user can do next. */
  advice?: string;
}

interface ProviderView {
  issuer: string;
  clientId: string;
  redirectUri: string;
  /** How the result comes back: the renderer shows a paste box for 'oob'. */
  redirectKind: 'loopback' | 'custom-scheme' | 'oob-auto' | 'oob';
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
    } & ProviderView);

/** How a sign-out went at the provider (the local part always succeeds). */
export interface SignOutView {
  state: AppState;
  /** Tokens revoked at the provider; null when it has no revocation endpoint. */
  revoked: boolean | null;
  everywhere: 'not_requested' | 'confirmed' | 'token_logout' | 'unsupported' | 'failed';
  warnings: string[];
}

/** Every call resolves; failures come back as `{ ok: false, error }` with a stable code. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorView };

export interface ConnectApi {
  state(): Promise<Result<AppState>>;
  /** Opens the system browser and resolves when the attempt ends. */
  signIn(): Promise<Result<AppState>>;
  /** oob: the code the user pasted. Fails (and the attempt keeps waiting) for a wrong code. */
  submitCode(code: string): Promise<Result<null>>;
  /** Cancels a sign-in in progress (its signIn() resolves with `cancelled`). */
  cancelSignIn(): Promise<Result<null>>;
  /** Opens the sign-in page of the attempt in progress again. */
  openBrowserAgain(): Promise<Result<null>>;
  /** Reads the user's claims again from the userinfo endpoint. */
  reloadUserInfo(): Promise<Result<AppState>>;
  /** Renews the access token now ("Refresh now"); the app also does it in the background. */
  refresh(): Promise<Result<AppState>>;
  /** Forgets this app's tokens and revokes them; `everywhere` also ends the provider's single sign-on session. */
  signOut(everywhere: boolean): Promise<Result<SignOutView>>;
}

/** IPC channel names, one per method. */
export const CHANNELS = {
  state: 'connect:state',
  signIn: 'connect:sign-in',
  submitCode: 'connect:submit-code',
  cancelSignIn: 'connect:cancel-sign-in',
  openBrowserAgain: 'connect:open-browser-again',
  reloadUserInfo: 'connect:reload-user-info',
  refresh: 'connect:refresh',
  signOut: 'connect:sign-out',
} as const satisfies Record<keyof ConnectApi, string>;
