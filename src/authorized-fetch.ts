// Calling a resource server with the user's access token (RFC 6750 §2.1: in the Authorization
// header, never in the URL), renewed when near expiry, and once more after the resource server
// answers 401 with `WWW-Authenticate: Bearer error="invalid_token"` (revoked or expired early).
import { freshSession } from './access-token.js';
import type { StoredSession } from './session.js';
import { ConnectError } from './errors.js';
import type { TokenStore } from './token-store.js';

function withToken(init: RequestInit | undefined, token: string): RequestInit {
  const headers = new Headers(init?.headers);
  headers.set('Authorization', `Bearer ${token}`);
  return { ...init, headers };
}

function invalidToken(response: Response): boolean {
  if (response.status !== 401) return false;
  const challenge = response.headers.get('www-authenticate') ?? '';
  return /^Bearer\b/i.test(challenge) && /error="?invalid_token"?/i.test(challenge);
}

export async function authorizedFetch(
  store: TokenStore,
  profile: string,
  input: string | URL,
  init?: RequestInit,
  onRenewed?: (session: StoredSession) => void,
): Promise<Response> {
  const url = new URL(input);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && /^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(url.hostname))) {
    throw new ConnectError('insecure_issuer', `The access token is only sent over https (or to a loopback address), not to ${url.origin}.`);
  }
  if (init?.body && typeof (init.body as ReadableStream).getReader === 'function') {
    throw new ConnectError('invalid_settings', 'A streamed request body cannot be sent again after a token renewal; pass a string or bytes.');
  }
  const renewal = onRenewed ? { onRenewed } : {};
  const session = await freshSession(store, profile, renewal);
  const first = await fetch(url, withToken(init, session.accessToken));
  if (!invalidToken(first)) return first;
  await first.body?.cancel();
  const renewed = await freshSession(store, profile, { force: true, ...renewal });
  return fetch(url, withToken(init, renewed.accessToken));
}
