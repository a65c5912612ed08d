// Renewing the tokens with the refresh token, write-ahead. Providers rotate refresh tokens and most
// revoke the whole grant when a spent one is used again, so the moment the provider answers, the
// old refresh token is worthless and the answer is the session. The answer is therefore stored in
// the keychain as it arrives, before anything else happens: before the provider's keys are fetched,
// before the renewed ID token is checked, before any caller gets a token. The stored session carries
// the answer as `pendingRefresh` until the checks pass, and nothing hands out its tokens meanwhile:
//
// - the checks pass: the session is stored again without the mark, and returned;
// - the checks fail (a bad signature, another user): the tokens are not trusted, and the profile is
//   signed out with a clear error, never left half renewed;
// - the checks cannot run (the provider's keys are unreachable), or this process dies: the next use
//   runs them again on the stored answer, without spending anything at the provider;
// - the keychain stalls when the answer arrives: the answer is kept in memory and written again and
//   again, for up to SAVE_PATIENCE_MS, saying so after SAVE_NOTICE_AFTER_MS.
//
// openid-client checks inside refreshTokenGrant, so the answer is taken on its way in: every request
// goes through the configuration's fetch, and the token endpoint's answer is stored there.
import * as oidc from 'openid-client';
import { debug } from './debug.js';
import { discover } from './discovery.js';
import { ConnectError, isConnectError } from './errors.js';
import { fromOpenIdClient } from './openid-errors.js';
import { nowSeconds, settingsOf, type StoredSession } from './session.js';
import { resolveSettings } from './settings.js';
import { checkIssuedToken } from './token-exchange.js';
import type { TokenStore } from './token-store.js';

/** How long renewed tokens are kept in memory and written again while the keychain does not answer. */
export const SAVE_PATIENCE_MS = 10 * 60_000;
/** When a keychain that has not answered is reported (stderr in the CLI, the window in the app). */
export const SAVE_NOTICE_AFTER_MS = 5000;

/** `waiting`: the keychain has not taken the renewed tokens yet (true), or now has (false). */
export interface RefreshNotice {
  waiting: boolean;
  message: string;
}
type NoticeListener = (notice: RefreshNotice) => void;
const noticeListeners = new Set<NoticeListener>();

/** Hear what a renewal has to tell the user while it goes on (a keychain that does not answer). */
export function onRefreshNotice(listener: NoticeListener): () => void {
  noticeListeners.add(listener);
  return () => noticeListeners.delete(listener);
}

function notice(waiting: boolean, message: string): void {
  for (const listener of noticeListeners) {
    try {
      listener({ waiting, message });
    } catch {
      // a listener's failure is its own
    }
  }
}

/** What a renewal needs from the profile lock it runs under: to say it needs longer. */
export interface Holding {
  expect(ms: number): void;
}

export interface RenewOptions {
  holding?: Holding;
  /** Default SAVE_PATIENCE_MS. */
  patienceMs?: number;
}

/** Store the renewed session; renewed tokens exist nowhere else, so a stalled keychain is waited for. */
export async function saveUntilStored(store: TokenStore, profile: string, session: StoredSession, options: RenewOptions = {}): Promise<void> {
  const patienceMs = options.patienceMs ?? SAVE_PATIENCE_MS;
  const started = Date.now();
  const minutes = Math.round(patienceMs / 60_000);
  let told = false;
  const timer = setTimeout(() => {
    told = true;
    notice(
      true,
      `The system keychain does not answer; the renewed sign-in of profile "${profile}" is kept in memory and will be ` +
        `saved as soon as it answers (waiting up to ${minutes} minute${minutes === 1 ? '' : 's'}). Do not stop this program.`,
    );
  }, SAVE_NOTICE_AFTER_MS);
  timer.unref();
  let pause = 250;
  try {
    for (;;) {
      try {
        await store.save(profile, session);
        if (told) notice(false, `The system keychain answered; the renewed sign-in of profile "${profile}" is saved.`);
        return;
      } catch (error) {
        if (!isConnectError(error, 'keychain_unavailable')) throw error;
        const left = patienceMs - (Date.now() - started);
        if (left <= 0) {
          throw new ConnectError(
            'keychain_unavailable',
            `${error.message} The provider renewed the sign-in of profile "${profile}", but the keychain did not take it for ` +
              `${minutes} minute${minutes === 1 ? '' : 's'}; it is lost, and a new sign-in will be needed.`,
            { cause: error },
          );
        }
        // Waiters on the profile lock wait for this, however long it takes.
        options.holding?.expect(left + 60_000);
        debug(`keychain: renewed tokens not saved yet (${error.message}); trying again`);
        await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)));
        pause = Math.min(pause * 2, 5000);
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

function isTokenAnswer(value: unknown): value is Record<string, unknown> & { access_token: string } {
  return !!value && typeof value === 'object' && !Array.isArray(value) && typeof (value as { access_token?: unknown }).access_token === 'string';
}

/** The session with the answer's tokens, marked as not checked yet. */
function writtenAhead(session: StoredSession, answer: Record<string, unknown>, receivedAt: number): StoredSession {
  const expiresIn = typeof answer.expires_in === 'number' ? answer.expires_in : undefined;
  return {
    ...session,
    accessToken: answer.access_token as string,
    tokenType: typeof answer.token_type === 'string' ? answer.token_type : session.tokenType,
    scope: typeof answer.scope === 'string' ? answer.scope : session.scope,
    expiresAt: expiresIn === undefined ? null : receivedAt + expiresIn,
    obtainedAt: receivedAt,
    // Rotation: a new refresh token replaces the old one; without one, the old one stays valid.
    ...(typeof answer.refresh_token === 'string' ? { refreshToken: answer.refresh_token } : {}),
    pendingRefresh: { answer, receivedAt },
  };
}

/** The renewed ID token must be about the same user, from the same issuer, for this client. */
function checkSameUser(claims: oidc.IDToken | undefined, session: StoredSession): void {
  if (!claims) return;
  const audience = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (claims.iss !== session.issuer || claims.sub !== session.sub || !audience.includes(session.clientId)) {
    throw new ConnectError(
      'id_token_invalid',
      'The renewed ID token is about another user, issuer or client than the one signed in; it was refused.',
    );
  }
}

/** Errors that say the checks could not run, not that they failed. */
const NOT_CHECKED = new Set(['network_error', 'cancelled', 'timeout']);

/**
 * Redeem the session's refresh token, or, for a session with `pendingRefresh`, check again the
 * stored answer (nothing is sent to the token endpoint then). Resolves with the renewed session,
 * checked and stored. Runs under the profile lock.
 */
export async function renew(store: TokenStore, profile: string, session: StoredSession, options: RenewOptions = {}): Promise<StoredSession> {
  const replay = session.pendingRefresh;
  // A stored answer may be checked a while after it arrived: its ID token's times allow for that.
  const tolerance = replay ? { clockToleranceSeconds: 30 + Math.max(0, nowSeconds() - replay.receivedAt) } : {};
  const config = await discover(resolveSettings(settingsOf(session)), tolerance);
  const tokenEndpoint = config.serverMetadata().token_endpoint;
  const network = config[oidc.customFetch] as (url: string, init: RequestInit) => Promise<Response>;
  let written: StoredSession | undefined = replay ? session : undefined;
  let unreachable = false;
  config[oidc.customFetch] = (async (url: string, init: RequestInit) => {
    const toToken = url === tokenEndpoint && (init.method ?? 'GET') === 'POST';
    if (toToken && replay) {
      debug('refresh: checking the renewal stored earlier (nothing is sent to the token endpoint)');
      return new Response(JSON.stringify(replay.answer), { status: 200, headers: { 'content-type': 'application/json' } });
    }
    let response: Response;
    try {
      response = await network(url, init);
    } catch (error) {
      if (!toToken) unreachable = true;
      throw error;
    }
    if (!toToken) {
      if (!response.ok) unreachable = true;
      return response;
    }
    const answer: unknown = response.status === 200 ? await response.clone().json().catch(() => undefined) : undefined;
    if (isTokenAnswer(answer)) {
      debug('refresh: the provider answered with renewed tokens; storing them before anything else');
      written = writtenAhead(session, answer, nowSeconds());
      await saveUntilStored(store, profile, written, options);
    }
    return response;
  }) as oidc.CustomFetch;

  let claims: oidc.IDToken | undefined;
  let idToken: string | undefined;
  try {
    const tokens = await oidc.refreshTokenGrant(config, session.refreshToken as string);
    checkIssuedToken(tokens.token_type, tokens.access_token);
    claims = tokens.claims();
    checkSameUser(claims, session);
    idToken = tokens.id_token;
  } catch (error) {
    const err = error instanceof ConnectError ? error : fromOpenIdClient(error, 'token', tokenEndpoint);
    if (!written) throw err; // nothing was renewed: the stored session is as it was
    if (unreachable || NOT_CHECKED.has(err.code)) {
      throw new ConnectError(
        err.code,
        `${err.message} The renewed tokens are saved, and their ID token will be checked again on the next use; nothing is lost.`,
        { cause: err },
      );
    }
    // The answer failed its checks: its tokens are not trusted, and the old refresh token is spent.
    await store.remove(profile);
    throw new ConnectError(err.code, `${err.message} Profile "${profile}" was signed out for safety; please sign in again.`, { cause: err });
  }
  const { pendingRefresh: _checked, ...renewed } = written as StoredSession;
  const result: StoredSession = idToken && claims ? { ...renewed, idToken, claims: { ...session.claims, ...claims } } : renewed;
  await saveUntilStored(store, profile, result, options);
  return result;
}
