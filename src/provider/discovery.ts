// Step 1 of the flow: learn the provider's endpoints (OpenID Connect discovery, or the explicit
// endpoints of a provider without it) and configure openid-client for this client.
import * as oidc from 'openid-client';
import { ConnectError } from '../common/errors.js';
import { limitedFetch } from './limited-fetch.js';
import { printable } from '../common/printable.js';
import { fromOpenIdClient } from './openid-errors.js';
import { debug } from '../common/debug.js';
import { forgetProvider, keepable, readProviderCache, updateProviderCache } from './provider-cache.js';
import { clockSkewFor } from './provider-clock.js';
import { isHttpsOrLoopback } from '../config/redirect-uri.js';
import type { ResolvedSettings } from '../config/settings.js';

/** The endpoints that receive codes, tokens, secrets or the ID token, as discovery names them. */
const ENDPOINTS = [
  'authorization_endpoint',
  'token_endpoint',
  'userinfo_endpoint',
  'revocation_endpoint',
  'end_session_endpoint',
  'introspection_endpoint',
  'registration_endpoint',
  'pushed_authorization_request_endpoint',
  'device_authorization_endpoint',
  'jwks_uri',
] as const;

/**
 * Every endpoint: https, or plain http only on this machine, whatever the issuer is (a loopback
 * issuer's document could name http://192.0.2.2/token and the code and verifier would travel in
 * clear). Checked here, before any browser opens or any token is sent.
 */
function checkEndpoints(config: oidc.Configuration): oidc.Configuration {
  const server = config.serverMetadata();
  for (const name of ENDPOINTS) {
    const value = server[name];
    if (typeof value !== 'string') continue;
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new ConnectError('discovery_failed', `The provider's ${name} is not a valid URL.`);
    }
    if (!isHttpsOrLoopback(url)) {
      throw new ConnectError(
        'insecure_endpoint',
        `The provider's ${name} (${url.origin}) is not https; plain http is only allowed on this machine (127.0.0.1, localhost). Nothing was sent.`,
      );
    }
  }
  return config;
}

function clientAuth(settings: ResolvedSettings): oidc.ClientAuth {
  // The reference provider authenticates confidential clients with HTTP Basic at /oauth/token and
  // /oauth/revoke only; public (native) clients send just their client_id.
  return settings.clientSecret ? oidc.ClientSecretBasic(settings.clientSecret) : oidc.None();
}

function hardening(settings: ResolvedSettings): Array<(config: oidc.Configuration) => void> {
  const steps = [oidc.enableNonRepudiationChecks];
  // Plain http only for a loopback issuer (resolveSettings refuses any other http issuer).
  if (settings.insecureLoopback) steps.push(oidc.allowInsecureRequests);
  return steps;
}

export interface DiscoverOptions {
  /**
   * How far token times may be off, in seconds (default 30). Checking a renewed ID token that was
   * received a while ago (after a crash) allows for the time since it arrived.
   */
  clockToleranceSeconds?: number;
}

/** A document for another issuer than the one configured: name both, since the fix is one of them. */
function declaredIssuer(error: unknown, issuer: string): ConnectError | undefined {
  const err = error as { code?: string; cause?: { attribute?: string; body?: { issuer?: unknown } } };
  const declared = err?.cause?.body?.issuer;
  if (err?.code !== 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED' || err.cause?.attribute !== 'issuer' || typeof declared !== 'string') return undefined;
  return new ConnectError(
    'discovery_failed',
    `The provider's discovery document declares the issuer "${printable(declared, 200)}", not "${issuer}" as configured; ` +
      'if that is the provider you mean, use its issuer exactly as declared (the document is not used otherwise).',
  );
}

const isObject = (value: unknown): value is Record<string, unknown> => !!value && typeof value === 'object' && !Array.isArray(value);

/**
 * A configured openid-client for these settings. The provider's document, keys and clock come from
 * the cache when it has them fresh (provider-cache.ts), and are kept there when they are learned.
 * Throws `discovery_failed` or `network_error`.
 */
export async function discover(settings: ResolvedSettings, options: DiscoverOptions = {}): Promise<oidc.Configuration> {
  // Each request to the provider waits at most this long (the settings' requestTimeoutSeconds).
  const timeout = settings.requestTimeoutSeconds;
  const issuer = settings.issuer;
  const cached = readProviderCache(issuer);
  const metadata: Partial<oidc.ClientMetadata> = {};
  if (settings.clientSecret) metadata.client_secret = settings.clientSecret;
  if (options.clockToleranceSeconds !== undefined) metadata[oidc.clockTolerance] = options.clockToleranceSeconds;
  // The provider's clock (provider-clock.ts): as seen in this process, else as last kept. openid-client
  // reads the metadata when it builds the configuration, after the discovery document arrived.
  const skew = () => {
    const seconds = clockSkewFor(issuer) ?? cached.clockSkew ?? 0;
    if (seconds) metadata[oidc.clockSkew] = seconds;
    else delete metadata[oidc.clockSkew];
  };

  let document: { value: Record<string, unknown>; until: number } | undefined;
  let keysAt: string | undefined;
  const fetch = limitedFetch(timeout);
  // Every request of this configuration: learns the document, the keys and the clock as they pass.
  const learningFetch = async (url: string, init: RequestInit) => {
    const response = await fetch(url, init);
    skew();
    const at = new URL(url);
    if (response.status === 200 && at.pathname.endsWith('/.well-known/openid-configuration')) {
      const value: unknown = await response.clone().json().catch(() => undefined);
      if (isObject(value)) document = keepable(value, response.headers);
    } else if (response.status === 200 && at.href === keysAt) {
      const value: unknown = await response.clone().json().catch(() => undefined);
      const keys = isObject(value) && Array.isArray(value.keys) ? keepable(value as { keys: Record<string, unknown>[] }, response.headers) : undefined;
      if (keys) updateProviderCache(issuer, { keys });
    } else if (cached.document && (response.status === 404 || response.status === 410)) {
      forgetProvider(issuer); // the document kept names an endpoint that is gone
    }
    return response;
  };
  const configure = (config: oidc.Configuration): oidc.Configuration => {
    keysAt = new URL(config.serverMetadata().jwks_uri ?? 'about:blank').href;
    // Kept keys count as a minute old: a token signed with a key they lack makes openid-client fetch
    // the keys once again (a provider that rotated them) instead of failing.
    if (cached.keys) oidc.setJwksCache(config, { jwks: cached.keys.value as oidc.JWKS, uat: Math.floor(Date.now() / 1000) - 61 });
    config.timeout = timeout;
    config[oidc.customFetch] = learningFetch as oidc.CustomFetch;
    return checkEndpoints(config);
  };

  if (settings.endpoints) {
    const e = settings.endpoints;
    const server: oidc.ServerMetadata = {
      issuer,
      authorization_endpoint: e.authorization,
      token_endpoint: e.token,
      jwks_uri: e.jwks,
      ...(e.userinfo ? { userinfo_endpoint: e.userinfo } : {}),
      ...(e.revocation ? { revocation_endpoint: e.revocation } : {}),
      ...(e.endSession ? { end_session_endpoint: e.endSession } : {}),
      ...(e.pushedAuthorization ? { pushed_authorization_request_endpoint: e.pushedAuthorization } : {}),
      ...(e.deviceAuthorization ? { device_authorization_endpoint: e.deviceAuthorization } : {}),
      ...(e.requirePushedAuthorization ? { require_pushed_authorization_requests: true } : {}),
      code_challenge_methods_supported: ['S256'],
    };
    skew();
    const config = new oidc.Configuration(server, settings.clientId, metadata, clientAuth(settings));
    for (const step of hardening(settings)) step(config);
    return configure(config);
  }

  if (cached.document) {
    debug(`discovery: the provider's document from the cache (kept for ${cached.document.until - Math.floor(Date.now() / 1000)} s more)`);
    skew();
    const config = new oidc.Configuration(cached.document.value as unknown as oidc.ServerMetadata, settings.clientId, metadata, clientAuth(settings));
    for (const step of hardening(settings)) step(config);
    return configure(config);
  }

  let config: oidc.Configuration;
  try {
    config = await oidc.discovery(new URL(issuer), settings.clientId, metadata, clientAuth(settings), {
      execute: hardening(settings),
      timeout,
      [oidc.customFetch]: learningFetch as oidc.CustomFetch,
    });
  } catch (error) {
    throw declaredIssuer(error, issuer) ?? fromOpenIdClient(error, 'discovery', issuer);
  }
  configure(config);
  // Kept only once openid-client accepted it (its issuer is this issuer).
  updateProviderCache(issuer, { ...(document ? { document } : {}), clockSkew: clockSkewFor(issuer) ?? 0 });
  return config;
}
