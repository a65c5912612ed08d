// The signed-in session: what is kept in the keychain for a profile, and the token-free summary of
// it that the CLI, the app's renderer and logs may see.
import type { StoredDpopKey } from './dpop-key.js';
import type { ProviderSettings } from '../config/settings.js';

/** The provider settings a session was signed in with (the redirect URI as used): for renewal, sign-out and signing in again. */
export type SessionSettings = ProviderSettings & { redirectUri: string; scope: string };

/** What the provider issued, and what this client learned from it. */
export interface SessionTokens {
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

/**
 * What is kept in the keychain for a profile: the settings it was signed in with, and the tokens.
 * (Version 1 kept the settings' fields one by one beside the tokens; token-store.ts reads it as 2.)
 */
export interface StoredSession extends SessionTokens {
  version: 2;
  settings: SessionSettings;
}

/** A new session: the tokens, and the settings as given (defaults left to apply later), the redirect URI and scope as used. */
export function storedSession(tokens: SessionTokens, given: ProviderSettings, used: { issuer: string; clientId: string; redirectUri: string; scope: string }): StoredSession {
  return { version: 2, settings: { ...given, ...used }, ...tokens };
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
  /** The access token is bound to a key this app holds (DPoP): a copy is refused without it wherever DPoP is checked. */
  senderConstrained: boolean;
}

export function summarize(session: StoredSession): SessionSummary {
  return {
    issuer: session.settings.issuer,
    clientId: session.settings.clientId,
    redirectUri: session.settings.redirectUri,
    scope: session.scope,
    sub: session.sub,
    claims: session.claims,
    expiresAt: session.expiresAt,
    hasRefreshToken: typeof session.refreshToken === 'string',
    senderConstrained: session.tokenType.toLowerCase() === 'dpop',
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
