// The signed-in session: what is kept in the keychain for a profile, and the token-free summary of
// it that the CLI, the app's renderer and logs may see.
import type { DpopMode, StoredDpopKey } from '../provider/dpop.js';
import type { ProviderEndpoints, ProviderSettings } from '../config/settings.js';

export interface StoredSession {
  version: 1;
  issuer: string;
  clientId: string;
  redirectUri: string;
  /** Granted scope (the token response's, else the requested one). */
  scope: string;
  sub: string;
  /** Validated ID-token claims, merged with userinfo claims of the same subject. */
  claims: Record<string, unknown>;
  accessToken: string;
  tokenType: string;
  /** Seconds since the epoch, or null when the provider gave no lifetime. */
  expiresAt: number | null;
  refreshToken?: string;
  idToken?: string;
  /** A confidential client's secret, kept beside its tokens so they can be refreshed and revoked. */
  clientSecret?: string;
  /** What the provider settings said beyond issuer and client, for refresh and logout. */
  endpoints?: ProviderEndpoints;
  logoutMethod?: 'browser' | 'token';
  postLogoutRedirectUri?: string;
  /** Seconds to wait for each answer from the provider, when the settings gave one. */
  requestTimeoutSeconds?: number;
  /** Origins besides the issuer's that `fetch` may send the access token to. */
  resourceOrigins?: string[];
  /** DPoP as the settings asked for it (kept for signing in again). */
  dpopMode?: DpopMode;
  /** The key the tokens are bound to (DPoP), when they are: every use of them carries a proof. */
  dpop?: StoredDpopKey;
  /** Seconds since the epoch. */
  obtainedAt: number;
  /**
   * A renewal whose answer is stored but not yet checked (write-ahead, refresh.ts): the tokens
   * above are already the renewed ones, and nothing hands them out until its ID token has passed
   * the checks. Holds the provider's whole token answer, to check it again after a crash.
   */
  pendingRefresh?: { answer: Record<string, unknown>; receivedAt: number };
}

/** The provider settings a stored session was signed in with (for refresh, revoke and logout). */
export function settingsOf(session: StoredSession): ProviderSettings {
  const scope = session.scope.split(' ').includes('openid') ? session.scope : `openid ${session.scope}`;
  return {
    issuer: session.issuer,
    clientId: session.clientId,
    scope,
    redirectUri: session.redirectUri,
    ...(session.clientSecret ? { clientSecret: session.clientSecret } : {}),
    ...(session.endpoints ? { endpoints: session.endpoints } : {}),
    ...(session.logoutMethod ? { logoutMethod: session.logoutMethod } : {}),
    ...(session.postLogoutRedirectUri ? { postLogoutRedirectUri: session.postLogoutRedirectUri } : {}),
    ...(session.requestTimeoutSeconds ? { requestTimeoutSeconds: session.requestTimeoutSeconds } : {}),
    ...(session.resourceOrigins?.length ? { resourceOrigins: session.resourceOrigins } : {}),
    ...(session.dpopMode ? { dpop: session.dpopMode } : {}),
  };
}

/** Everything about a session except its tokens. */
export interface SessionSummary {
  issuer: string;
  clientId: string;
  redirectUri: string;
  scope: string;
  sub: string;
  claims: Record<string, unknown>;
  expiresAt: number | null;
  hasRefreshToken: boolean;
  /** The tokens are bound to a key this app holds (DPoP): useless to anyone who copies them. */
  senderConstrained: boolean;
}

export function summarize(session: StoredSession): SessionSummary {
  return {
    issuer: session.issuer,
    clientId: session.clientId,
    redirectUri: session.redirectUri,
    scope: session.scope,
    sub: session.sub,
    claims: session.claims,
    expiresAt: session.expiresAt,
    hasRefreshToken: typeof session.refreshToken === 'string',
    senderConstrained: session.dpop !== undefined,
  };
}

/** The name to greet the user with. */
export function displayName(claims: Record<string, unknown>): string | undefined {
  for (const key of ['name', 'preferred_username', 'email', 'sub']) {
    const value = claims[key];
    if (typeof value === 'string' && value) return value;
  }
  return undefined;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
