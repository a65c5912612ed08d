// The user's claims from the userinfo endpoint, with a fresh access token; the subject must not change.
import * as oidc from 'openid-client';
import { freshSession } from './access-token.js';
import { discover } from '../provider/discovery.js';
import { accessTokenKey, dpopOptions } from '../provider/dpop.js';
import { ConnectError } from '../common/errors.js';
import { fromOpenIdClient } from '../provider/openid-errors.js';
import { type StoredSession } from '../session/session.js';
import { resolveSettings } from '../config/settings.js';
import type { TokenStore } from '../session/token-store.js';

/** Read userinfo again and keep its claims with the session (ID-token claims stay as they were). */
export async function reloadUserInfo(store: TokenStore, profile: string): Promise<StoredSession> {
  return (await readUserInfo(store, profile)).session;
}

/**
 * What the userinfo endpoint answers now (its claims only, `sub` checked), and the session with them
 * kept beside the ID token's.
 */
export async function readUserInfo(store: TokenStore, profile: string): Promise<{ userinfo: Record<string, unknown>; session: StoredSession }> {
  const session = await freshSession(store, profile);
  const config = await discover(resolveSettings(session.settings));
  const endpoint = config.serverMetadata().userinfo_endpoint;
  if (!endpoint) throw new ConnectError('invalid_response', 'The provider has no userinfo endpoint.');
  let userinfo: Record<string, unknown>;
  try {
    userinfo = await oidc.fetchUserInfo(config, session.accessToken, session.sub, await dpopOptions(config, accessTokenKey(session)));
  } catch (error) {
    throw fromOpenIdClient(error, 'userinfo', endpoint);
  }
  const updated: StoredSession = { ...session, claims: { ...session.claims, ...userinfo, sub: session.sub } };
  await store.save(profile, updated);
  return { userinfo, session: updated };
}
