// Provider settings: what the app must know about the authorization server and its registration.
import { DEFAULT_DPOP_MODE, DPOP_MODES, type DpopMode } from './dpop-mode.js';
import { ConnectError } from '../common/errors.js';
import { DEFAULT_LOOPBACK_REDIRECT_URI, classifyRedirectUri, isHttpsOrLoopback, type RedirectKind } from './redirect-uri.js';

export const DEFAULT_SCOPE = 'openid profile email offline_access';

/** Endpoints for a provider without discovery (the reference provider's names shown). */
export interface ProviderEndpoints {
  /** e.g. https://connect.example.com/oauth/authorize */
  authorization: string;
  /** e.g. https://connect.example.com/oauth/token */
  token: string;
  /** The JWK Set that signs ID tokens (required to validate them). */
  jwks: string;
  userinfo?: string;
  /** e.g. https://connect.example.com/oauth/revoke */
  revocation?: string;
  /** e.g. https://connect.example.com/oauth/logout */
  endSession?: string;
  /** Pushed authorization requests (RFC 9126), where the provider takes them. */
  pushedAuthorization?: string;
  /** Sign-in on another device (RFC 8628), where the provider offers it. */
  deviceAuthorization?: string;
  /** The provider refuses authorization requests that were not pushed first. */
  requirePushedAuthorization?: boolean;
}

export interface ProviderSettings {
  /** The issuer identifier. Discovery is read from `<issuer>/.well-known/openid-configuration`. */
  issuer: string;
  /** Give these instead of relying on discovery, for providers without it. */
  endpoints?: ProviderEndpoints;
  clientId: string;
  /** Only for confidential clients (HTTP Basic at the token and revoke endpoints). */
  clientSecret?: string;
  /** Space-separated scopes. Default: "openid profile email offline_access". */
  scope?: string;
  /** The registered redirect URI: it decides how the result is captured. Default: loopback. */
  redirectUri?: string;
  /**
   * Single sign-on logout ("sign out everywhere"): `browser` opens the provider's logout endpoint
   * with id_token_hint and a loopback post_logout_redirect_uri; `token` POSTs to it with the access
   * token (for native clients without a post-logout redirect URI). Default `browser`.
   */
  logoutMethod?: 'browser' | 'token';
  /** The registered post-logout redirect URI (loopback). Default http://127.0.0.1/connect/logout. */
  postLogoutRedirectUri?: string;
  /** Seconds to wait for each answer from the provider (1–300). Default 30. */
  requestTimeoutSeconds?: number;
  /**
   * Origins besides the issuer's that `fetch` may send the access token to (resource servers),
   * e.g. `https://api.example.com`. Anything else is refused before any request.
   */
  resourceOrigins?: string[];
  /**
   * Sender-constrained tokens (DPoP, RFC 9449): `auto` (default) binds them when the provider offers
   * it, `on` always, `off` never (see dpop.ts).
   */
  dpop?: DpopMode;
}

export const DEFAULT_REQUEST_TIMEOUT_SECONDS = 30;

export const DEFAULT_POST_LOGOUT_REDIRECT_URI = 'http://127.0.0.1/connect/logout';

export interface ResolvedSettings {
  issuer: string;
  endpoints: ProviderEndpoints | undefined;
  clientId: string;
  clientSecret: string | undefined;
  scope: string;
  redirectUri: string;
  redirect: RedirectKind;
  /** True when the issuer is plain http on a loopback address (tests, the demo provider). */
  insecureLoopback: boolean;
  logoutMethod: 'browser' | 'token';
  postLogoutRedirectUri: string;
  requestTimeoutSeconds: number;
  /** Normalized origins (scheme://host[:port]). */
  resourceOrigins: string[];
  dpop: DpopMode;
}

function invalid(message: string): ConnectError {
  return new ConnectError('invalid_settings', message);
}

function checkHttpsOrLoopback(label: string, value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalid(`The ${label} "${value}" is not a valid URL.`);
  }
  if (isHttpsOrLoopback(url)) return url;
  if (url.protocol === 'http:') {
    throw new ConnectError(
      label === 'issuer' ? 'insecure_issuer' : 'insecure_url',
      `The ${label} "${value}" uses plain http; only https is allowed, except on a loopback address (127.0.0.1, localhost).`,
    );
  }
  throw invalid(`The ${label} "${value}" must be an https URL.`);
}

/** Validate settings and fill in the defaults. Throws `invalid_settings`, `insecure_issuer`, `insecure_url`, `unsupported_redirect_uri`. */
/**
 * Where the browser comes back after the provider's logout page: a loopback URI, as registered. Any
 * port by default; a provider that matches the port as well (Glewlwyd does, and no specification
 * grants any-port matching for post-logout URIs) needs a fixed one.
 */
export function checkPostLogoutRedirectUri(uri: string): string {
  const trimmed = uri.trim();
  let kind: string;
  try {
    kind = classifyRedirectUri(trimmed).kind;
  } catch {
    kind = 'invalid';
  }
  if (kind !== 'loopback') {
    throw invalid(`The post-logout redirect URI "${trimmed}" must be a loopback URI (http://127.0.0.1[:PORT]/… or http://localhost:PORT/…).`);
  }
  return trimmed;
}

export function resolveSettings(settings: ProviderSettings): ResolvedSettings {
  if (!settings || typeof settings !== 'object') throw invalid('Provider settings are missing.');
  if (typeof settings.issuer !== 'string' || !settings.issuer.trim()) throw invalid('The issuer URL is missing.');
  if (typeof settings.clientId !== 'string' || !settings.clientId.trim()) throw invalid('The client id is missing.');
  const issuerUrl = checkHttpsOrLoopback('issuer', settings.issuer.trim());
  if (issuerUrl.search || issuerUrl.hash) throw invalid('The issuer URL must not contain a query or fragment.');
  const issuer = settings.issuer.trim();

  let endpoints: ProviderEndpoints | undefined;
  if (settings.endpoints) {
    const e = settings.endpoints;
    for (const key of ['authorization', 'token', 'jwks'] as const) {
      if (typeof e[key] !== 'string' || !e[key]) throw invalid(`The ${key} endpoint is missing.`);
    }
    for (const [key, value] of Object.entries(e)) {
      if (key === 'requirePushedAuthorization') continue;
      if (value !== undefined) checkHttpsOrLoopback(`${key} endpoint`, String(value));
    }
    if (e.requirePushedAuthorization && !e.pushedAuthorization) {
      throw invalid('The endpoints require pushed authorization requests but name no pushedAuthorization endpoint.');
    }
    endpoints = { ...e };
  }

  const scope = (settings.scope ?? DEFAULT_SCOPE).trim().split(/\s+/).filter(Boolean);
  if (!scope.includes('openid')) throw invalid('The scope must include "openid" (this client signs users in with OpenID Connect).');
  const clientSecret = settings.clientSecret === '' ? undefined : settings.clientSecret;
  const redirectUri = (settings.redirectUri ?? DEFAULT_LOOPBACK_REDIRECT_URI).trim();
  const logoutMethod = settings.logoutMethod ?? 'browser';
  if (logoutMethod !== 'browser' && logoutMethod !== 'token') throw invalid('The logout method must be "browser" or "token".');
  const postLogoutRedirectUri = checkPostLogoutRedirectUri(settings.postLogoutRedirectUri ?? DEFAULT_POST_LOGOUT_REDIRECT_URI);
  const requestTimeoutSeconds = settings.requestTimeoutSeconds ?? DEFAULT_REQUEST_TIMEOUT_SECONDS;
  if (typeof requestTimeoutSeconds !== 'number' || !(requestTimeoutSeconds >= 1 && requestTimeoutSeconds <= 300)) {
    throw invalid('The request timeout must be a number of seconds from 1 to 300.');
  }

  const resourceOrigins = checkResourceOrigins(settings.resourceOrigins);
  const dpop = settings.dpop ?? DEFAULT_DPOP_MODE;
  if (!DPOP_MODES.includes(dpop)) throw invalid(`DPoP must be one of ${DPOP_MODES.join(', ')}, not "${String(dpop)}".`);

  return {
    issuer,
    endpoints,
    clientId: settings.clientId.trim(),
    clientSecret,
    scope: [...new Set(scope)].join(' '),
    redirectUri,
    redirect: classifyRedirectUri(redirectUri),
    insecureLoopback: issuerUrl.protocol === 'http:',
    logoutMethod,
    postLogoutRedirectUri,
    requestTimeoutSeconds,
    resourceOrigins,
    dpop,
  };
}

/** Resource-server origins: each an https origin (or http on this machine), nothing but the origin. */
export function checkResourceOrigins(origins: unknown): string[] {
  if (origins === undefined) return [];
  if (!Array.isArray(origins) || origins.some((o) => typeof o !== 'string')) throw invalid('The resource origins must be a list of URLs.');
  return [
    ...new Set(
      (origins as string[]).map((value) => {
        const url = checkHttpsOrLoopback('resource origin', value.trim());
        if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
          throw invalid(`The resource origin "${value}" must be an origin only (scheme://host[:port]), like ${url.origin}.`);
        }
        return url.origin;
      }),
    ),
  ];
}
