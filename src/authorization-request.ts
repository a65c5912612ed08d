// Step 2: the authorization request. A fresh PKCE verifier (S256), state and nonce per attempt.
import * as oidc from 'openid-client';
import { debug } from './debug.js';
import { ProviderError } from './errors.js';
import { placeOf } from './limited-fetch.js';
import { fromOpenIdClient } from './openid-errors.js';

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

/**
 * The URL for the browser. Where the provider offers pushed authorization requests (RFC 9126), the
 * request is pushed first: the provider checks the client and the redirect URI and answers at once,
 * so a wrong client id or an unregistered redirect URI is an error here, before any browser opens,
 * instead of an error page the user sees while the app waits for its timeout. The browser's URL then
 * carries only client_id and request_uri.
 */
async function authorizationUrl(config: oidc.Configuration, parameters: Record<string, string>): Promise<URL> {
  const endpoint = config.serverMetadata().pushed_authorization_request_endpoint;
  if (!endpoint) return oidc.buildAuthorizationUrl(config, parameters);
  try {
    const url = await oidc.buildAuthorizationUrlWithPAR(config, parameters);
    debug(`authorization: the request was pushed to ${placeOf(endpoint)} and accepted; the browser gets only its reference`);
    return url;
  } catch (error) {
    const err = fromOpenIdClient(error, 'pushed authorization request', placeOf(endpoint));
    if (!(err instanceof ProviderError)) throw err; // unreachable, or an unusable answer: as for any request
    const sentence = err.message.charAt(0).toLowerCase() + err.message.slice(1);
    throw new ProviderError(err.code, `The provider refused the sign-in request before the browser opened: ${sentence}`, err.description, { cause: err });
  }
}

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
    url: await authorizationUrl(config, parameters),
    redirectUri: options.redirectUri,
    state,
    nonce,
    codeVerifier,
  };
}
