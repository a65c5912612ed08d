// A small protected resource beside the demo provider (for tests and the demo): /api/resource
// answers who called it, with which method and body, when given a valid access token as a Bearer
// token; otherwise 401 with `WWW-Authenticate: Bearer error="invalid_token"`.
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';

export function protectedResource(provider: Provider) {
  return async function resourceMiddleware(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== '/api/resource') return next();
    const bearer = /^Bearer (\S+)$/.exec(ctx.get('Authorization'));
    const token = bearer ? await provider.AccessToken.find(bearer[1] as string) : undefined;
    if (!token || token.isExpired) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', bearer ? 'Bearer error="invalid_token"' : 'Bearer');
      return;
    }
    let body = '';
    for await (const chunk of ctx.req) body += String(chunk);
    ctx.type = 'application/json';
    ctx.set('X-Resource', 'demo');
    ctx.body = JSON.stringify({ sub: token.accountId, scope: token.scope, method: ctx.method, body, contentType: ctx.get('Content-Type') || null });
  };
}
