// Step 5: exchange the code for tokens (PKCE verifier, nonce and ID-token signature checked by
// openid-client), then read userinfo and check it is about the same subject.
import * as oidc from 'openid-client';
import type { AuthorizationRequest } from './authorization-request.js';
import { ConnectError } from '../common/errors.js';
import { fromOpenIdClient } from '../provider/openid-errors.js';
import { printable } from '../common/printable.js';
import type { StoredDpopKey } from '../provider/dpop.js';
import { nowSeconds, type SessionTokens } from '../session/session.js';

export interface ExchangeContext {
  config: oidc.Configuration;
  request: AuthorizationRequest;
  /** The requested scope, used when the token response does not say what was granted. */
  scope: string;
  /** DPoP: the proof maker for the exchange, and the key to keep with a session whose tokens it binds. */
  dpop?: SessionDpop;
}

export interface SessionDpop {
  handle: oidc.DPoPHandle;
  key: StoredDpopKey;
}

/** The response parameters as the URL the provider redirected to (for openid-client's checks). */
function callbackUrl(redirectUri: string, params: URLSearchParams): URL {
  const url = new URL(redirectUri);
  url.search = params.toString();
  return url;
}

/**
 * An access token this client can use: a Bearer token (RFC 6750) whose characters fit in a header.
 * A DPoP-bound token sent as Bearer would be refused by the resource, and a token with a line break
 * would end up in an error message; neither is ever stored or sent. Messages never carry the token.
 */
export function checkIssuedToken(tokenType: string | undefined, accessToken: string, dpop = false): void {
  const type = (tokenType ?? '').toLowerCase();
  if (type !== 'bearer' && !(dpop && type === 'dpop')) {
    throw new ConnectError(
      'unsupported_token_type',
      `The provider issued a "${printable(tokenType ?? 'untyped', 40)}" access token, and this client can only use Bearer tokens ` +
        `${dpop ? 'and DPoP-bound ones' : 'here (a DPoP-bound one needs a proof this sign-in did not send)'}; nothing was stored.`,
    );
  }
  if (!/^[\x21-\x7e]+$/.test(accessToken)) {
    throw new ConnectError(
      'invalid_response',
      'The provider issued an access token with characters that cannot be sent in an HTTP header (spaces, line breaks or ' +
        'non-ASCII); it was refused and nothing was stored.',
    );
  }
}

export async function exchangeCode(context: ExchangeContext, params: URLSearchParams): Promise<SessionTokens> {
  const { config, request } = context;
  const server = config.serverMetadata();
  let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
  try {
    tokens = await oidc.authorizationCodeGrant(
      config,
      callbackUrl(request.redirectUri, params),
      {
        pkceCodeVerifier: request.codeVerifier,
        expectedState: request.state,
        expectedNonce: request.nonce,
        idTokenExpected: true,
      },
      { redirect_uri: request.redirectUri },
      context.dpop ? { DPoP: context.dpop.handle } : undefined,
    );
  } catch (error) {
    throw fromOpenIdClient(error, 'token', server.token_endpoint);
  }
  return sessionFrom(config, tokens, context.scope, context.dpop);
}

/**
 * The session a grant's tokens make (a code exchange, or the device flow): a Bearer access token, an
 * ID token (checked by openid-client), and userinfo about the same subject merged into its claims.
 */
export async function sessionFrom(
  config: oidc.Configuration,
  tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers,
  scope: string,
  dpop?: SessionDpop,
): Promise<SessionTokens> {
  const server = config.serverMetadata();
  checkIssuedToken(tokens.token_type, tokens.access_token, dpop !== undefined);
  // Proofs go with the access token only when it is bound; the key is kept whenever one was sent, as
  // a public client's refresh token may be bound although its access token is not (RFC 9449 §5).
  const bound = dpop && tokens.token_type.toLowerCase() === 'dpop' ? dpop : undefined;
  const idClaims = tokens.claims();
  if (!idClaims) throw new ConnectError('id_token_invalid', 'The provider returned no ID token.');
  const claims: Record<string, unknown> = { ...idClaims };
  if (server.userinfo_endpoint) {
    try {
      const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub, bound ? { DPoP: bound.handle } : undefined);
      for (const [key, value] of Object.entries(userinfo)) if (!(key in claims)) claims[key] = value;
    } catch (error) {
      throw fromOpenIdClient(error, 'userinfo', server.userinfo_endpoint);
    }
  }

  const obtainedAt = nowSeconds();
  const expiresIn = tokens.expiresIn();
  return {
    scope: tokens.scope ?? scope,
    sub: idClaims.sub,
    claims,
    accessToken: tokens.access_token,
    tokenType: tokens.token_type,
    expiresAt: typeof expiresIn === 'number' ? obtainedAt + expiresIn : null,
    ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
    ...(tokens.id_token ? { idToken: tokens.id_token } : {}),
    ...(dpop ? { dpop: dpop.key } : {}),
    obtainedAt,
  };
}
