// Renewing the tokens with the refresh token, write-ahead. Providers rotate refresh tokens and most
// revoke the whole grant when a spent one is used again, so the moment the provider answers, the
// old refresh token is worthless and the answer is the session. The answer is therefore stored in
// the keychain as it arrives, before anything else happens: before the provider's keys are fetched,
// before the renewed ID token is checked, before any caller gets a token. The stored session carries
// the answer as `pendingRefresh` until the checks pass, and no caller is given its tokens meanwhile
// (signing out still revokes them):
//
// - the checks pass: the session is stored again without the mark, and returned;
// - the checks fail (a bad signature, another user): the tokens are not trusted: the profile is
//   signed out with a clear error (never left half renewed) and they are revoked at the provider;
// - the checks cannot run (the provider's keys are unreachable), or this process dies: the next use
//   runs them again on the stored answer, without spending anything at the provider;
// - the keychain stalls when the answer arrives: the answer is kept in memory and written again and
//   again, for up to SAVE_PATIENCE_MS, saying so after SAVE_NOTICE_AFTER_MS.
//
// openid-client checks inside refreshTokenGrant, so the answer is taken on its way in: every request
// goes through the configuration's fetch, and the token endpoint's answer is stored there.
import * as oidc from 'openid-client';
import { debug } from '../common/debug.js';
import { discover } from '../provider/discovery.js';
import { dpopOptions } from '../provider/dpop.js';
import { ConnectError, ProviderError, isConnectError } from '../common/errors.js';
import { fromOpenIdClient } from '../provider/openid-errors.js';
import { nowSeconds, type StoredSession } from '../session/session.js';
import { resolveSettings } from '../config/settings.js';
import { revokeQuietly } from './sign-out.js';
import { notice } from './refresh-notice.js';
import { checkIssuedToken } from './token-exchange.js';
import type { TokenStore } from '../session/token-store.js';

/** How long renewed tokens are kept in memory and written again while the keychain does not answer. */
export const SAVE_PATIENCE_MS = 10 * 60_000;
/** When a keychain that has not answered is reported (stderr in the CLI, the window in the app). */
export const SAVE_NOTICE_AFTER_MS = 5000;

/** What a renewal needs from the profile lock it runs under: to say it needs longer. */
export interface Holding {
  expect(ms: number): void;
}

export interface RenewOptions {
  holding?: Holding;
  /** Default SAVE_PATIENCE_MS. */
  patienceMs?: number;
}

/**
 * Store the renewed session; renewed tokens exist nowhere else, so a stalled keychain is waited for.
 * `stage` words the failure: the provider's `answer` not stored is lost; a `checked` session not
 * stored still has its answer stored, and the next use finishes it.
 */
export async function saveUntilStored(
  store: TokenStore,
  profile: string,
  session: StoredSession,
  options: RenewOptions = {},
  stage: 'answer' | 'checked' = 'answer',
): Promise<void> {
  const patienceMs = options.patienceMs ?? SAVE_PATIENCE_MS;
  const started = Date.now();
  const minutes = Math.round(patienceMs / 60_000);
  const during = `${minutes} minute${minutes === 1 ? '' : 's'}`;
  let told = false;
  const timer = setTimeout(() => {
    told = true;
    // Waiters on the profile lock wait for this, however long it takes.
    options.holding?.expect(patienceMs + 60_000);
    notice(
      true,
      `The system keychain does not answer; the renewed sign-in of profile "${profile}" is kept in memory and will be ` +
        `saved as soon as it answers (waiting up to ${during}). Do not stop this program.`,
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
          if (told) notice(false, `The system keychain did not answer for ${during}.`);
          const outcome =
            stage === 'answer'
              ? 'it is lost, and a new sign-in will be needed'
              : 'the renewal itself was stored earlier and is finished on the next use';
          throw new ConnectError(
            'keychain_unavailable',
            `${error.message} The provider renewed the sign-in of profile "${profile}", but the keychain did not take it for ${during}; ${outcome}.`,
            { cause: error },
          );
        }
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

/** The fields of a token answer (RFC 6749 §5.1, OpenID Connect §12.2) kept to check it again. */
const ANSWER_FIELDS = ['access_token', 'token_type', 'expires_in', 'refresh_token', 'id_token', 'scope'] as const;

/** Seconds, as a number or a string of digits (some providers send "3599"), as openid-client reads it. */
function secondsOf(value: unknown): number | undefined {
  const seconds = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

/** The session with the answer's tokens, marked as not checked yet. */
function writtenAhead(session: StoredSession, body: Record<string, unknown>, receivedAt: number): StoredSession {
  const answer: Record<string, unknown> = {};
  for (const field of ANSWER_FIELDS) if (body[field] !== undefined) answer[field] = body[field];
  const expiresIn = secondsOf(answer.expires_in);
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
  if (claims.iss !== session.settings.issuer || claims.sub !== session.sub || !audience.includes(session.settings.clientId)) {
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
  const config = await discover(resolveSettings(session.settings), tolerance);
  const tokenEndpoint = config.serverMetadata().token_endpoint as string;
  // openid-client requests the endpoint as a URL's href (normalised: case, default port, dot segments).
  const tokenHref = new URL(tokenEndpoint).href;
  const network = config[oidc.customFetch] as (url: string, init: RequestInit) => Promise<Response>;
  let written: StoredSession | undefined = replay ? session : undefined;
  let unreachable = false;
  config[oidc.customFetch] = (async (url: string, init: RequestInit) => {
    const toToken = new URL(url).href === tokenHref && (init.method ?? 'GET') === 'POST';
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
    if (response.status === 400 && (await response.clone().text()) === '') {
      // RFC 6749 §5.2 asks for a JSON error; Glewlwyd, for a session ended elsewhere, answers an empty
      // 400. The refresh token was refused all the same: it will not work again. (A 400 with any body,
      // a proxy's page or a gateway's JSON, stays an unusable answer, and the session is kept.)
      throw new RefusedWithoutReason();
    }
    const answer: unknown = response.status === 200 ? await response.clone().json().catch(() => undefined) : undefined;
    if (isTokenAnswer(answer)) {
      debug('refresh: the provider answered with renewed tokens; storing them before anything else');
      const ahead = writtenAhead(session, answer, nowSeconds());
      await saveUntilStored(store, profile, ahead, options, 'answer');
      written = ahead;
    }
    return response;
  }) as oidc.CustomFetch;

  let tokens: Awaited<ReturnType<typeof oidc.refreshTokenGrant>>;
  let claims: oidc.IDToken | undefined;
  try {
    // A public client's refresh token is bound to the key too (RFC 9449 §5): the renewal carries a proof.
    tokens = await oidc.refreshTokenGrant(config, session.refreshToken as string, undefined, await dpopOptions(config, session.dpop));
    if (!written) throw new ConnectError('invalid_response', 'The renewed tokens could not be stored before their checks.');
    checkIssuedToken(tokens.token_type, tokens.access_token, session.dpop !== undefined);
    claims = tokens.claims();
    checkSameUser(claims, session);
  } catch (error) {
    const err = error instanceof ConnectError ? error : fromOpenIdClient(error, 'token', tokenEndpoint);
    // Nothing was renewed, or the renewal could not be stored (its own sentence says what that means).
    if (!written || err.code === 'keychain_unavailable') throw err;
    if (unreachable || NOT_CHECKED.has(err.code)) {
      throw new ConnectError(
        err.code,
        `${err.message} The renewed tokens are saved, and their ID token will be checked again on the next use; nothing is lost.`,
        { cause: err },
      );
    }
    // The answer failed its checks: its tokens are not trusted (and the old refresh token is spent).
    await store.remove(profile);
    await revokeUntrusted(config, written);
    throw new ConnectError(err.code, `${err.message} Profile "${profile}" was signed out for safety; please sign in again.`, { cause: err });
  }
  // The session as openid-client read and checked the answer.
  const { pendingRefresh: _checked, ...before } = written;
  const obtainedAt = written.obtainedAt;
  const expiresIn = tokens.expiresIn();
  const result: StoredSession = {
    ...before,
    accessToken: tokens.access_token,
    tokenType: tokens.token_type,
    scope: tokens.scope ?? session.scope,
    expiresAt: typeof expiresIn === 'number' ? obtainedAt + expiresIn : null,
    ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
    ...(tokens.id_token && claims ? { idToken: tokens.id_token, claims: { ...session.claims, ...claims } } : {}),
  };
  await saveUntilStored(store, profile, result, options, 'checked');
  return result;
}

/** A refresh token refused with an empty 400: `invalid_grant`, saying how it came. */
export class RefusedWithoutReason extends ProviderError {
  constructor() {
    super('invalid_grant', 'the provider refused the refresh token with HTTP 400 and an empty answer, where RFC 6749 §5.2 asks for a JSON error');
  }
}

/** Tell the provider to revoke renewed tokens that failed their checks (best effort). */
async function revokeUntrusted(config: oidc.Configuration, session: StoredSession): Promise<void> {
  const revoked = await revokeQuietly(config, session);
  debug(`refresh: revoking the renewed tokens that failed their checks ${revoked ? 'worked' : 'did not work'}`);
}
