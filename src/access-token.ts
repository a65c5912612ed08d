// A valid access token for a profile: the stored one while it is fresh, otherwise a refreshed one.
import * as oidc from 'openid-client';
import { discover } from './discovery.js';
import { ConnectError } from './errors.js';
import { fromOpenIdClient } from './openid-errors.js';
import { nowSeconds, type StoredSession } from './session.js';
import { resolveSettings } from './settings.js';
import type { TokenStore } from './token-store.js';

/** Refresh this long before expiry: the smaller of 60 s and a tenth of the token's lifetime. */
export function refreshMargin(session: StoredSession): number {
  if (session.expiresAt === null) return 0;
  const lifetime = Math.max(0, session.expiresAt - session.obtainedAt);
  return Math.min(60, lifetime / 10);
}

export function needsRefresh(session: StoredSession, now = nowSeconds()): boolean {
  return session.expiresAt !== null && now >= session.expiresAt - refreshMargin(session);
}

async function refresh(session: StoredSession): Promise<StoredSession> {
  const settings = resolveSettings({
    issuer: session.issuer,
    clientId: session.clientId,
    scope: session.scope.split(' ').includes('openid') ? session.scope : `openid ${session.scope}`,
    redirectUri: session.redirectUri,
    ...(session.clientSecret ? { clientSecret: session.clientSecret } : {}),
  });
  const config = await discover(settings);
  let tokens: Awaited<ReturnType<typeof oidc.refreshTokenGrant>>;
  try {
    tokens = await oidc.refreshTokenGrant(config, session.refreshToken as string);
  } catch (error) {
    throw fromOpenIdClient(error, 'token', config.serverMetadata().token_endpoint);
  }
  const claims = tokens.claims();
  if (claims && (claims.sub !== session.sub || claims.iss !== session.issuer)) {
    throw new ConnectError('id_token_invalid', 'The refreshed ID token is about a different user or issuer; it was refused.');
  }
  const obtainedAt = nowSeconds();
  const expiresIn = tokens.expiresIn();
  return {
    ...session,
    accessToken: tokens.access_token,
    tokenType: tokens.token_type,
    scope: tokens.scope ?? session.scope,
    expiresAt: typeof expiresIn === 'number' ? obtainedAt + expiresIn : null,
    refreshToken: tokens.refresh_token ?? session.refreshToken,
    ...(tokens.id_token ? { idToken: tokens.id_token, claims: { ...session.claims, ...claims } } : {}),
    obtainedAt,
  } as StoredSession;
}

export async function getAccessToken(store: TokenStore, profile: string): Promise<string> {
  const session = await store.load(profile);
  if (!session) {
    throw new ConnectError('not_signed_in', `Profile "${profile}" is not signed in; run connect-login login first.`);
  }
  if (!needsRefresh(session)) return session.accessToken;
  if (!session.refreshToken) {
    throw new ConnectError(
      'token_expired',
      `The access token of profile "${profile}" has expired and there is no refresh token; sign in again.`,
    );
  }
  const refreshed = await refresh(session);
  await store.save(profile, refreshed);
  return refreshed.accessToken;
}
