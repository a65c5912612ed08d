// Step 2: the authorization request. A fresh PKCE verifier (S256), state and nonce per attempt.
import * as oidc from 'openid-client';
import { debug } from '../common/debug.js';
import { ConnectError, ProviderError } from '../common/errors.js';
import { placeOf } from '../provider/limited-fetch.js';
import { fromOpenIdClient, httpStatusOf } from '../provider/openid-errors.js';
import { ANY_PORT_HINT, classifyRedirectUri, isAnyPortLoopback } from '../config/redirect-uri.js';

export interface AuthorizationRequest {
  /** The URL to open in the system browser (pushed first where the provider takes it). */
  url: URL;
  /** The URL for a person to open by hand, maybe later: not a pushed reference unless the provider requires one. */
  manualUrl: URL;
  /** Push the request again, for a fresh reference (a pushed one works once, for a short while). */
  pushAgain?: () => Promise<URL>;
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
  /** The redirect URI as configured (an any-port loopback has no port), for messages. Default: redirectUri. */
  configuredRedirectUri?: string;
  /** DPoP: the pushed request carries a proof, and the request names the key (`dpop_jkt`, RFC 9449 §10). */
  dpop?: oidc.DPoPHandle;
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
async function authorizationUrl(
  config: oidc.Configuration,
  parameters: Record<string, string>,
  configuredRedirectUri: string,
  dpop: oidc.DPoPHandle | undefined,
): Promise<Pick<AuthorizationRequest, 'url' | 'manualUrl' | 'pushAgain'>> {
  const server = config.serverMetadata();
  const endpoint = server.pushed_authorization_request_endpoint;
  const plain = oidc.buildAuthorizationUrl(config, parameters);
  if (!endpoint) {
    if (server.require_pushed_authorization_requests) {
      throw new ConnectError('discovery_failed', 'The provider requires pushed authorization requests but names no pushed_authorization_request_endpoint.');
    }
    return { url: plain, manualUrl: plain };
  }
  const push = async () => {
    try {
      const url = await oidc.buildAuthorizationUrlWithPAR(config, parameters, dpop ? { DPoP: dpop } : undefined);
      debug(`authorization: the request was pushed to ${placeOf(endpoint)} and accepted; the browser gets only its reference`);
      return url;
    } catch (error) {
      throw refused(error, endpoint, parameters.redirect_uri as string, configuredRedirectUri);
    }
  };
  const url = await push();
  // A pushed reference works once and for a short while (a minute at oidc-provider): a person who
  // opens the URL by hand later gets the whole request, unless the provider accepts pushed ones only.
  return { url, manualUrl: server.require_pushed_authorization_requests ? url : plain, pushAgain: push };
}

/** A refused push, named as such; a failure to reach the provider stays what it is. */
function refused(error: unknown, endpoint: string, redirectUri: string, configured: string): Error {
  const err = fromOpenIdClient(error, 'pushed authorization request', placeOf(endpoint));
  const status = httpStatusOf(error) ?? 0;
  if (!(err instanceof ProviderError) && status >= 400 && status < 500) {
    // Refused without the JSON error RFC 9126 §2.3 asks for (Glewlwyd: an empty 403).
    const anyPort = isAnyPortLoopback(classifyRedirectUri(configured));
    return new ProviderError(
      'invalid_request',
      `The provider refused the sign-in request before the browser opened (HTTP ${status} with no explanation, at ${placeOf(endpoint)}). ` +
        `Check the client id, and that the redirect URI "${anyPort ? configured : redirectUri}" is registered exactly${anyPort ? ANY_PORT_HINT : ''}.`,
      undefined,
      { cause: err },
    );
  }
  if (!(err instanceof ProviderError)) return err;
  const sentence = err.message.charAt(0).toLowerCase() + err.message.slice(1);
  return new ProviderError(err.code, `The provider refused the sign-in request before the browser opened: ${sentence}`, err.description, { cause: err });
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
  if (options.dpop) parameters.dpop_jkt = await options.dpop.calculateThumbprint();
  // OpenID Connect Core §11: a request for offline_access must ask for consent.
  if (options.scope.split(' ').includes('offline_access') && !parameters.prompt?.split(' ').includes('consent')) {
    parameters.prompt = parameters.prompt ? `${parameters.prompt} consent` : 'consent';
  }
  return {
    ...(await authorizationUrl(config, parameters, options.configuredRedirectUri ?? options.redirectUri, options.dpop)),
    redirectUri: options.redirectUri,
    state,
    nonce,
    codeVerifier,
  };
}
