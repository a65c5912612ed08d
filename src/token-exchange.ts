// Step 5: exchange the code for tokens (PKCE verifier, nonce and ID-token signature checked by
// openid-client), then read userinfo and check it is about the same subject.
import * as oidc from 'openid-client';
import type { AuthorizationRequest } from './authorization-request.js';
import { ConnectError } from './errors.js';
import { fromOpenIdClient } from './openid-errors.js';
import { nowSeconds, type StoredSession } from './session.js';

export interface ExchangeContext {
  config: oidc.Configuration;
  request: AuthorizationRequest;
  /** The requested scope, used when the token response does not say what was granted. */
  scope: string;
}

/** The response parameters as the URL the provider redirected to (for openid-client's checks). */
function callbackUrl(redirectUri: string, params: URLSearchParams): URL {
  const url = new URL(redirectUri);
  url.search = params.toString();
  return url;
}

export async function exchangeCode(context: ExchangeContext, params: URLSearchParams): Promise<StoredSession> {
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
    );
  } catch (error) {
    throw fromOpenIdClient(error, 'token', server.token_endpoint);
  }

  const idClaims = tokens.claims();
  if (!idClaims) throw new ConnectError('id_token_invalid', 'The provider returned no ID token.');
  const claims: Record<string, unknown> = { ...idClaims };
  if (server.userinfo_endpoint) {
    try {
      const userinfo = await oidc.fetchUserInfo(config, tokens.access_token, idClaims.sub);
      for (const [key, value] of Object.entries(userinfo)) if (!(key in claims)) claims[key] = value;
    } catch (error) {
      throw fromOpenIdClient(error, 'userinfo', server.userinfo_endpoint);
    }
  }

  const obtainedAt = nowSeconds();
  const expiresIn = tokens.expiresIn();
  return {
    version: 1,
    issuer: server.issuer,
    clientId: config.clientMetadata().client_id,
    redirectUri: request.redirectUri,
    scope: tokens.scope ?? context.scope,
    sub: idClaims.sub,
    claims,
    accessToken: tokens.access_token,
    tokenType: tokens.token_type,
    expiresAt: typeof expiresIn === 'number' ? obtainedAt + expiresIn : null,
    ...(tokens.refresh_token ? { refreshToken: tokens.refresh_token } : {}),
    ...(tokens.id_token ? { idToken: tokens.id_token } : {}),
    obtainedAt,
  };
}
