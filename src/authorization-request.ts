// Step 2: the authorization request. A fresh PKCE verifier (S256), state and nonce per attempt.
import * as oidc from 'openid-client';

export interface AuthorizationRequest {
  /** The URL to open in the system browser. */
  url: URL;
  /** The exact redirect URI sent (for loopback: with the port that is listening). */
  redirectUri: string;
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface AuthorizationRequestOptions {
  redirectUri: string;
  scope: string;
  /** Extra parameters (login_hint, ui_locales, …). PKCE, state and nonce cannot be overridden. */
  extraParameters?: Record<string, string>;
  /** The attempt's state, when the redirect receiver had to know it first. Default: a fresh one. */
  state?: string;
}

const PROTECTED = new Set([
  'client_id',
  'redirect_uri',
  'response_type',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
]);

export async function createAuthorizationRequest(
  config: oidc.Configuration,
  options: AuthorizationRequestOptions,
): Promise<AuthorizationRequest> {
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = options.state ?? oidc.randomState();
  const nonce = oidc.randomNonce();
  const parameters: Record<string, string> = {};
  for (const [key, value] of Object.entries(options.extraParameters ?? {})) {
    if (!PROTECTED.has(key)) parameters[key] = value;
  }
  Object.assign(parameters, {
    redirect_uri: options.redirectUri,
    response_type: 'code',
    scope: options.scope,
    state,
    nonce,
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
  });
  // OpenID Connect Core §11: a request for offline_access must ask for consent.
  if (options.scope.split(' ').includes('offline_access') && !parameters.prompt?.split(' ').includes('consent')) {
    parameters.prompt = parameters.prompt ? `${parameters.prompt} consent` : 'consent';
  }
  return {
    url: oidc.buildAuthorizationUrl(config, parameters),
    redirectUri: options.redirectUri,
    state,
    nonce,
    codeVerifier,
  };
}
