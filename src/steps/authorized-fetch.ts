// Calling a resource server with the user's access token (RFC 6750 §2.1: in the Authorization
// header, never in the URL), renewed when near expiry, and once more after the resource server
// answers 401 with `WWW-Authenticate: Bearer error="invalid_token"` (revoked or expired early).
// A DPoP-bound token (dpop.ts) goes with a proof for this method and URL, `ath` included.
import { freshSession } from './access-token.js';
import { accessTokenKey, resourceProof } from '../provider/dpop.js';
import type { StoredSession } from '../session/session.js';
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

/** Nonces resource servers asked DPoP proofs to carry (RFC 9449 §9), per origin, for this process. */
const resourceNonces = new Map<string, string>();

/**
 * The request with the session's token: as Bearer, or as DPoP with a fresh proof when the token is
 * bound, once more with the server's nonce when it asks for one (`use_dpop_nonce`). The caller's
 * request is sent as given otherwise (its signal, its redirect mode), with no timeout of ours.
 */
async function send(url: URL, init: RequestInit | undefined, session: StoredSession): Promise<Response> {
  const key = accessTokenKey(session);
  if (!key) return fetch(url, withToken(init, session.accessToken));
  const method = (init?.method ?? 'GET').toUpperCase();
  const call = async () => {
    const headers = new Headers(init?.headers);
    headers.set('Authorization', `DPoP ${session.accessToken}`);
    headers.set('DPoP', await resourceProof(key, method, url, session.accessToken, resourceNonces.get(url.origin)));
    const response = await fetch(url, { ...init, headers });
    const nonce = response.headers.get('dpop-nonce');
    if (nonce) resourceNonces.set(url.origin, nonce);
    return { response, retry: !!nonce && response.status === 401 && /\berror="?use_dpop_nonce"?/i.test(response.headers.get('www-authenticate') ?? '') };
  };
  const first = await call();
  if (!first.retry) return first.response;
  await first.response.body?.cancel();
  return (await call()).response;
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
