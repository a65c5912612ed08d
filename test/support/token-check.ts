// Whether an access token is accepted, asked of the provider's userinfo endpoint: as Bearer, or as
// DPoP with a proof from the profile's key when the token is bound (a bound token alone is refused).
import * as oidc from 'openid-client';
import { discover } from '../../src/provider/discovery.js';
import { dpopHandle, type StoredDpopKey } from '../../src/provider/dpop.js';
import { resolveSettings } from '../../src/config/settings.js';

/** The userinfo endpoint's status for this token (200 accepted, 401 refused). */
export async function userinfoStatus(issuer: string, accessToken: string, dpop?: StoredDpopKey): Promise<number> {
  const url = new URL(`${issuer}/oauth/userinfo`);
  if (!dpop) return (await fetch(url, { headers: { authorization: `Bearer ${accessToken}` } })).status;
  const config = await discover(resolveSettings({ issuer, clientId: 'token-check' }));
  try {
    const response = await oidc.fetchProtectedResource(config, accessToken, url, 'GET', undefined, undefined, { DPoP: await dpopHandle(config, dpop) });
    return response.status;
  } catch (error) {
    if (error instanceof oidc.WWWAuthenticateChallengeError) return error.response.status;
    throw error;
  }
}
