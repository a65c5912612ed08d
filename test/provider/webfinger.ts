// WebFinger (RFC 7033) in front of the demo provider: any `acct:user@<this host>` is served by this
// issuer, as a provider's own domain would announce it.
import type { Context, Next } from 'koa';

export function webFingerResponder(issuer: string) {
  const host = new URL(issuer).host;
  return async function webFingerMiddleware(ctx: Context, next: Next): Promise<void> {
    if (ctx.method !== 'GET' || ctx.path !== '/.well-known/webfinger') return next();
    const resource = String(ctx.query.resource ?? '');
    const match = /^acct:[^@\s]+@(.+)$/.exec(resource);
    if (!match || (match[1] !== host && match[1] !== host.replace('127.0.0.1', 'localhost'))) {
      ctx.status = 404;
      return;
    }
    ctx.status = 200;
    ctx.type = 'application/jrd+json';
    ctx.body = JSON.stringify({ subject: resource, links: [{ rel: 'http://openid.net/specs/connect/1.0/issuer', href: issuer }] });
  };
}
