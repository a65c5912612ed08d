// A valid access token for a profile: the stored one while it is fresh, otherwise a refreshed one.
// Refreshing happens once however many callers ask at the same time (in this process: one shared
// promise; across processes: the profile lock, and a re-read of the stored tokens once it is held).
import { ConnectError, ProviderError } from '../common/errors.js';
import { acquireProfileLock, type LockOptions } from '../session/profile-lock.js';
import { nowSeconds, type StoredSession } from '../session/session.js';
import { resolveSettings } from '../config/settings.js';
import type { TokenStore } from '../session/token-store.js';
import { IDENTITY } from '../config/identity.js';

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

/** How long a renewal may hold the profile lock: discovery, token and keys requests, and the keychain. */
function holdMsFor(session: StoredSession): number {
  const timeout = resolveSettings(session.settings).requestTimeoutSeconds;
  return (3 * timeout + 30) * 1000;
}

async function refreshUnderLock(
  store: TokenStore,
  profile: string,
  seen: StoredSession,
  force: boolean,
  lock: LockOptions | undefined,
): Promise<StoredSession> {
  // The protocol code loads only when a renewal is due: a fresh token is handed out without it.
  const { RefusedWithoutReason, renew } = await import('./refresh.js');
  const held = await acquireProfileLock(profile, { holdMs: holdMsFor(seen), ...lock });
  try {
    // Another process may have renewed (and rotated) the tokens while this one waited for the lock.
    let current = await store.load(profile);
    if (!current) throw notSignedIn(profile);
    if (current.pendingRefresh) {
      // A renewal stored but not checked yet (a crash, or keys that were out of reach): finish it,
      // and renew again only if what it gave has expired meanwhile.
      current = await renew(store, profile, current, { holding: held });
      if (!needsRefresh(current)) return current;
    } else {
      const renewedMeanwhile = current.accessToken !== seen.accessToken;
      if (renewedMeanwhile || (!force && !needsRefresh(current))) return current;
    }
    if (!current.refreshToken) {
      throw new ConnectError('token_expired', `The access token of profile "${profile}" has expired and there is no refresh token; sign in again.`);
    }
    // The refresh token is about to be spent: the keychain must be able to take its successor.
    await store.probe(profile);
    try {
      return await renew(store, profile, current, { holding: held });
    } catch (error) {
      if (error instanceof ProviderError && error.code === 'invalid_grant') {
        await store.remove(profile);
        throw new ConnectError(
          'session_expired',
          `The provider no longer accepts the sign-in of profile "${profile}" (${error instanceof RefusedWithoutReason ? error.message : 'its refresh token was refused'}); you are signed out. Please sign in again.`,
          { cause: error },
        );
      }
      throw error;
    }
  } finally {
    await held.release();
  }
}
/** The profile's session with a fresh access token (renewing it if needed). */
export async function freshSession(store: TokenStore, profile: string, opts: AccessTokenOptions = {}): Promise<StoredSession> {
  const session = await store.load(profile);
  if (!session) throw notSignedIn(profile);
  opts.check?.(session);
  if (!opts.force && !needsRefresh(session) && !session.pendingRefresh) return session;
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
