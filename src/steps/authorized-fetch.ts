// Calling a resource server with the user's access token (RFC 6750 §2.1: in the Authorization
// header, never in the URL), renewed when near expiry, and once more after the resource server
// answers 401 with `WWW-Authenticate: Bearer error="invalid_token"` (revoked or expired early).
// A DPoP-bound token (dpop.ts) goes with a proof for this method and URL, `ath` included.
import * as oidc from 'openid-client';
import { freshSession } from './access-token.js';
import { discover } from '../provider/discovery.js';
import { dpopHandle } from '../provider/dpop.js';
import { resolveSettings } from '../config/settings.js';
import { type StoredSession } from '../session/session.js';
import { ConnectError } from '../common/errors.js';
import { isHttpsOrLoopback } from '../config/redirect-uri.js';
import { checkResourceOrigins } from '../config/settings.js';
import { checkIssuedToken } from './token-exchange.js';
import type { TokenStore } from '../session/token-store.js';

function withToken(init: RequestInit | undefined, token: string): RequestInit {
  const headers = new Headers(init?.headers);
  headers.set('Authorization', `Bearer ${token}`);
  return { ...init, headers };
}

function invalidToken(response: Response): boolean {
  if (response.status !== 401) return false;
  const challenge = response.headers.get('www-authenticate') ?? '';
  return /^(Bearer|DPoP)\b/i.test(challenge) && /error="?invalid_token"?/i.test(challenge);
}

/** The request with the session's token: as Bearer, or with a DPoP proof when the token is bound. */
async function send(url: URL, init: RequestInit | undefined, session: StoredSession): Promise<Response> {
  if (!session.dpop) return fetch(url, withToken(init, session.accessToken));
  const config = await discover(resolveSettings(session.settings));
  // The resource's answer is the caller's, as with a Bearer token: not limited like the provider's.
  config[oidc.customFetch] = (input, options) => fetch(input, options as RequestInit);
  const headers = new Headers(init?.headers);
  headers.delete('authorization');
  const body = (init?.body ?? undefined) as oidc.FetchBody | undefined;
  try {
    return await oidc.fetchProtectedResource(config, session.accessToken, url, init?.method ?? 'GET', body, headers, {
      DPoP: await dpopHandle(config, session.dpop),
    });
  } catch (error) {
    // openid-client throws on a 401 with a challenge; the caller wants the answer itself.
    if (error instanceof oidc.WWWAuthenticateChallengeError) return error.response;
    throw error;
  }
}

export async function authorizedFetch(
  store: TokenStore,
  profile: string,
  input: string | URL,
  init?: RequestInit,
  onRenewed?: (session: StoredSession) => void,
  /** Origins allowed for this call besides the issuer's and the profile's resourceOrigins. */
  allowOrigins: string[] = [],
): Promise<Response> {
  const url = new URL(input);
  if (!isHttpsOrLoopback(url)) {
    throw new ConnectError('resource_not_allowed', `The access token is only sent over https (or to this machine), not to ${url.origin}. Nothing was sent.`);
  }
  if (init?.body && typeof (init.body as ReadableStream).getReader === 'function') {
    throw new ConnectError('invalid_settings', 'A streamed request body cannot be sent again after a token renewal; pass a string or bytes.');
  }
  // Only to origins this profile trusts with its token, checked on the stored session before anything
  // is sent (a refresh included).
  const extra = checkResourceOrigins(allowOrigins);
  const check = (stored: StoredSession) => {
    const allowed = new Set([new URL(stored.settings.issuer).origin, ...(stored.settings.resourceOrigins ?? []), ...extra]);
    if (allowed.has(url.origin)) return;
    throw new ConnectError(
      'resource_not_allowed',
      `The access token of profile "${profile}" is sent only to ${[...allowed].join(', ')}; ${url.origin} is not one of them ` +
        '(add it with resourceOrigins in the settings, or --allow-origin). Nothing was sent.',
    );
  };
  const renewal = onRenewed ? { onRenewed } : {};
  const session = await freshSession(store, profile, { ...renewal, check });
  checkIssuedToken(session.tokenType, session.accessToken, session.dpop !== undefined);
  const first = await send(url, init, session);
  if (!invalidToken(first)) return first;
  await first.body?.cancel();
  const renewed = await freshSession(store, profile, { force: true, ...renewal });
  checkIssuedToken(renewed.tokenType, renewed.accessToken, renewed.dpop !== undefined);
  return send(url, init, renewed);
}
