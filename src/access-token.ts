// A valid access token for a profile: the stored one while it is fresh, otherwise a refreshed one.
// Refreshing happens once however many callers ask at the same time (in this process: one shared
// promise; across processes: the profile lock, and a re-read of the stored tokens once it is held).
import * as oidc from 'openid-client';
import { discover } from './discovery.js';
import { ConnectError, ProviderError } from './errors.js';
import { fromOpenIdClient } from './openid-errors.js';
import { acquireProfileLock, type LockOptions } from './profile-lock.js';
import { nowSeconds, settingsOf, type StoredSession } from './session.js';
import { resolveSettings } from './settings.js';
import { checkIssuedToken } from './token-exchange.js';
import type { TokenStore } from './token-store.js';
import { IDENTITY } from './identity.js';

/** Refresh this long before expiry: the smaller of 60 s and a tenth of the token's lifetime. */
export function refreshMargin(session: Pick<StoredSession, 'expiresAt' | 'obtainedAt'>): number {
  if (session.expiresAt === null) return 0;
  const lifetime = Math.max(0, session.expiresAt - session.obtainedAt);
  return Math.min(60, lifetime / 10);
}

export function needsRefresh(session: Pick<StoredSession, 'expiresAt' | 'obtainedAt'>, now = nowSeconds()): boolean {
  return session.expiresAt !== null && now >= session.expiresAt - refreshMargin(session);
}

/** When the next refresh is due, in seconds since the epoch (null: never). */
export function refreshDueAt(session: Pick<StoredSession, 'expiresAt' | 'obtainedAt'>): number | null {
  return session.expiresAt === null ? null : session.expiresAt - refreshMargin(session);
}

/** Redeem the refresh token; the new tokens must be about the same user, from the same issuer, for this client. */
export async function redeemRefreshToken(session: StoredSession): Promise<StoredSession> {
  const config = await discover(resolveSettings(settingsOf(session)));
  let tokens: Awaited<ReturnType<typeof oidc.refreshTokenGrant>>;
  try {
    tokens = await oidc.refreshTokenGrant(config, session.refreshToken as string);
  } catch (error) {
    throw fromOpenIdClient(error, 'token', config.serverMetadata().token_endpoint);
  }
  checkIssuedToken(tokens.token_type, tokens.access_token);
  const claims = tokens.claims();
  if (claims) {
    const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (claims.iss !== session.issuer || claims.sub !== session.sub || !audience.includes(session.clientId)) {
      throw new ConnectError(
        'id_token_invalid',
        'The renewed ID token is about another user, issuer or client than the one signed in; it was refused.',
      );
    }
  }
  const obtainedAt = nowSeconds();
  const expiresIn = tokens.expiresIn();
  const refreshed: StoredSession = {
    ...session,
    accessToken: tokens.access_token,
    tokenType: tokens.token_type,
    scope: tokens.scope ?? session.scope,
    expiresAt: typeof expiresIn === 'number' ? obtainedAt + expiresIn : null,
    obtainedAt,
  };
  // Rotation: a new refresh token replaces the old one; without one, the old one stays valid.
  if (tokens.refresh_token) refreshed.refreshToken = tokens.refresh_token;
  if (tokens.id_token) {
    refreshed.idToken = tokens.id_token;
    refreshed.claims = { ...session.claims, ...claims };
  }
  return refreshed;
}

export interface AccessTokenOptions {
  /** Renew even if the stored token is still fresh ("Refresh now"). */
  force?: boolean;
  lock?: LockOptions;
  /** Called when the session returned has a new access token (renewed here or by another process). */
  onRenewed?: (session: StoredSession) => void;
  /** Runs on the stored session before anything is sent (a refresh included); throw to stop there. */
  check?: (session: StoredSession) => void;
}

const inFlight = new WeakMap<TokenStore, Map<string, Promise<StoredSession>>>();

export function notSignedIn(profile: string): ConnectError {
  return new ConnectError('not_signed_in', `Profile "${profile}" is not signed in; run ${IDENTITY.cliName} login first.`);
}

async function refreshUnderLock(
  store: TokenStore,
  profile: string,
  seen: StoredSession,
  force: boolean,
  lock: LockOptions | undefined,
): Promise<StoredSession> {
  const release = await acquireProfileLock(profile, lock);
  try {
    // Another process may have renewed (and rotated) the tokens while this one waited for the lock.
    const current = await store.load(profile);
    if (!current) throw notSignedIn(profile);
    const renewedMeanwhile = current.accessToken !== seen.accessToken;
    if (renewedMeanwhile || (!force && !needsRefresh(current))) return current;
    if (!current.refreshToken) {
      throw new ConnectError('token_expired', `The access token of profile "${profile}" has expired and there is no refresh token; sign in again.`);
    }
    let refreshed: StoredSession;
    try {
      refreshed = await redeemRefreshToken(current);
    } catch (error) {
      if (error instanceof ProviderError && error.code === 'invalid_grant') {
        await store.remove(profile);
        throw new ConnectError(
          'session_expired',
          `The provider no longer accepts the sign-in of profile "${profile}" (its refresh token was refused); you are signed out. Please sign in again.`,
          { cause: error },
        );
      }
      if (error instanceof ConnectError && error.code === 'id_token_invalid') {
        await store.remove(profile);
        throw new ConnectError('id_token_invalid', `${error.message} Profile "${profile}" was signed out for safety; please sign in again.`);
      }
      throw error;
    }
    // The new token set is stored before anything else; the old refresh token is spent already.
    await store.save(profile, refreshed);
    return refreshed;
  } finally {
    await release();
  }
}
/** The profile's session with a fresh access token (renewing it if needed). */
export async function freshSession(store: TokenStore, profile: string, opts: AccessTokenOptions = {}): Promise<StoredSession> {
  const session = await store.load(profile);
  if (!session) throw notSignedIn(profile);
  opts.check?.(session);
  if (!opts.force && !needsRefresh(session)) return session;
  let flights = inFlight.get(store);
  if (!flights) inFlight.set(store, (flights = new Map()));
  let flight = flights.get(profile);
  if (!flight) {
    flight = refreshUnderLock(store, profile, session, opts.force ?? false, opts.lock).finally(() => flights.delete(profile));
    flights.set(profile, flight);
  }
  const fresh = await flight;
  if (fresh.accessToken !== session.accessToken) opts.onRenewed?.(fresh);
  return fresh;
}

/** A valid access token for the profile, renewed shortly before it expires. */
export async function getAccessToken(store: TokenStore, profile: string, opts: AccessTokenOptions = {}): Promise<string> {
  return (await freshSession(store, profile, opts)).accessToken;
}
