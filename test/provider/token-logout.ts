// The reference provider's "logout using an access token": POST /oauth/logout with the access token
// as a Bearer token ends the user's grant for that client (its access and refresh tokens stop
// working). oidc-provider's own /oauth/logout (RP-initiated, in the browser) answers everything else.
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';

export function tokenLogout(provider: Provider) {
  return async function tokenLogoutMiddleware(ctx: Context, next: Next): Promise<void> {
    const bearer = /^Bearer (\S+)$/.exec(ctx.get('Authorization'));
    if (ctx.method !== 'POST' || ctx.path !== '/oauth/logout' || !bearer) return next();
    const token = await provider.AccessToken.find(bearer[1] as string);
    if (!token) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Bearer error="invalid_token"');
      return;
    }
    if (token.grantId) await (await provider.Grant.find(token.grantId))?.destroy();
    await provider.AccessToken.revokeByGrantId?.(token.grantId as string);
    await provider.RefreshToken.revokeByGrantId?.(token.grantId as string);
    ctx.status = 204;
  };
}
