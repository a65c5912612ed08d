// The reference provider's "logout using an access token": POST /oauth/logout with the access token
// (as Bearer, or as DPoP with a proof when it is bound) ends the user's grant for that client (its
// access and refresh tokens stop working). oidc-provider's own /oauth/logout (RP-initiated, in the
// browser) answers everything else.
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import { ReplayCache } from './dpop-proof.js';
import { authenticate } from './resource.js';

export function tokenLogout(provider: Provider) {
  const replay = new ReplayCache();
  return async function tokenLogoutMiddleware(ctx: Context, next: Next): Promise<void> {
    if (ctx.method !== 'POST' || ctx.path !== '/oauth/logout' || !/^(Bearer|DPoP) /i.test(ctx.get('Authorization'))) return next();
    const token = await authenticate(provider, ctx, replay);
    if (!token) return;
    if (token.grantId) await (await provider.Grant.find(token.grantId))?.destroy();
    await provider.AccessToken.revokeByGrantId?.(token.grantId as string);
    await provider.RefreshToken.revokeByGrantId?.(token.grantId as string);
    ctx.status = 204;
  };
}
