// A small protected resource beside the demo provider (for tests and the demo): /api/resource
// answers who called it, with which method and body, when given a valid access token: a Bearer
// token as `Bearer`, a DPoP-bound one as `DPoP` with a proof (dpop-proof.ts). Anything else gets 401
// with a challenge (RFC 6750 §3, RFC 9449 §7.1); a bound token sent as Bearer is refused (§7.2).
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import { randomBytes } from 'node:crypto';
import { checkProof, NonceError, PROOF_ALGORITHMS, ProofError, ReplayCache } from './dpop-proof.js';

type AccessToken = InstanceType<Provider["AccessToken"]>;

/**
 * The request's access token, checked as a resource server must; undefined after answering 401.
 * The proof must name the provider's public URL (its issuer's origin) and be new to `replay`.
 */
export async function authenticate(provider: Provider, ctx: Context, replay: ReplayCache, nonce?: string): Promise<AccessToken | undefined> {
  const [, scheme, value] = /^(Bearer|DPoP) (\S+)$/i.exec(ctx.get('Authorization')) ?? [];
  const refuse = (challengeScheme: 'Bearer' | 'DPoP', error?: string, description?: string) => {
    const params = [
      ...(challengeScheme === 'DPoP' ? [`algs="${PROOF_ALGORITHMS.join(' ')}"`] : []),
      ...(error ? [`error="${error}"`] : []),
      ...(description ? [`error_description="${description}"`] : []),
    ];
    ctx.status = 401;
    ctx.set('WWW-Authenticate', [challengeScheme, params.join(', ')].filter(Boolean).join(' '));
    return undefined;
  };
  if (!scheme || !value) return refuse('Bearer');
  const dpop = scheme.toLowerCase() === 'dpop';
  const token = await provider.AccessToken.find(value);
  if (!token || token.isExpired) return refuse(dpop ? 'DPoP' : 'Bearer', 'invalid_token');
  if (!token.jkt) return dpop ? refuse('DPoP', 'invalid_token', 'the token is not DPoP-bound') : token;
  if (!dpop) return refuse('DPoP', 'invalid_token', 'the token is DPoP-bound: send it as DPoP with a proof');
  try {
    // The issuer's origin and this path, joined as text: a path such as //other.host/x stays a path.
    const url = `${new URL(provider.issuer).origin}${ctx.path}`;
    checkProof({ proof: ctx.get('DPoP') || undefined, method: ctx.method, url, accessToken: value, jkt: token.jkt, replay, ...(nonce ? { nonce } : {}) });
  } catch (error) {
    if (error instanceof NonceError) {
      ctx.set('DPoP-Nonce', nonce as string);
      return refuse('DPoP', 'use_dpop_nonce', error.message);
    }
    if (error instanceof ProofError) return refuse('DPoP', 'invalid_dpop_proof', error.message);
    throw error;
  }
  return token;
}

/** `requireNonce`: proofs must carry the nonce it hands out (as the provider started with `dpopNonce` asks). */
export function protectedResource(provider: Provider, requireNonce = false) {
  const replay = new ReplayCache();
  const nonce = requireNonce ? randomBytes(16).toString('base64url') : undefined;
  return async function resourceMiddleware(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== '/api/resource') return next();
    const token = await authenticate(provider, ctx, replay, nonce);
    if (!token) return;
    let body = '';
    for await (const chunk of ctx.req) body += String(chunk);
    ctx.type = 'application/json';
    ctx.set('X-Resource', 'demo');
    ctx.body = JSON.stringify({ sub: token.accountId, scope: token.scope, method: ctx.method, body, contentType: ctx.get('Content-Type') || null });
  };
}
