// Step 1 of the flow: learn the provider's endpoints (OpenID Connect discovery, or the explicit
// endpoints of a provider without it) and configure openid-client for this client.
import * as oidc from 'openid-client';
import { ConnectError } from './errors.js';
import { limitedFetch } from './limited-fetch.js';
import { fromOpenIdClient } from './openid-errors.js';
import { clockSkewFor } from './provider-clock.js';
import { isHttpsOrLoopback } from './redirect-uri.js';
import type { ResolvedSettings } from './settings.js';

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

/** A configured openid-client for these settings. Throws `discovery_failed` or `network_error`. */
export async function discover(settings: ResolvedSettings, options: DiscoverOptions = {}): Promise<oidc.Configuration> {
  // Each request to the provider waits at most this long (the settings' requestTimeoutSeconds).
  const timeout = settings.requestTimeoutSeconds;
  const metadata: Partial<oidc.ClientMetadata> = {};
  if (settings.clientSecret) metadata.client_secret = settings.clientSecret;
  if (options.clockToleranceSeconds !== undefined) metadata[oidc.clockTolerance] = options.clockToleranceSeconds;
  // The provider's clock as far as it is known (provider-clock.ts); openid-client reads the metadata
  // when it builds the configuration, after the discovery document (and its Date header) arrived.
  const skew = () => {
    const seconds = clockSkewFor(settings.issuer);
    if (seconds) metadata[oidc.clockSkew] = seconds;
  };
  const fetch = limitedFetch(timeout);
  const learningFetch = async (url: string, init: RequestInit) => {
    const response = await fetch(url, init);
    skew();
    return response;
  };

  if (settings.endpoints) {
    const e = settings.endpoints;
    const server: oidc.ServerMetadata = {
      issuer: settings.issuer,
      authorization_endpoint: e.authorization,
      token_endpoint: e.token,
      jwks_uri: e.jwks,
      ...(e.userinfo ? { userinfo_endpoint: e.userinfo } : {}),
      ...(e.revocation ? { revocation_endpoint: e.revocation } : {}),
      ...(e.endSession ? { end_session_endpoint: e.endSession } : {}),
      code_challenge_methods_supported: ['S256'],
    };
    skew();
    const config = new oidc.Configuration(server, settings.clientId, metadata, clientAuth(settings));
    config.timeout = timeout;
    config[oidc.customFetch] = fetch as oidc.CustomFetch;
    for (const step of hardening(settings)) step(config);
    return checkEndpoints(config);
  }

  let config: oidc.Configuration;
  try {
    config = await oidc.discovery(new URL(settings.issuer), settings.clientId, metadata, clientAuth(settings), {
      execute: hardening(settings),
      timeout,
      [oidc.customFetch]: learningFetch as oidc.CustomFetch,
    });
  } catch (error) {
    throw fromOpenIdClient(error, 'discovery', settings.issuer);
  }
  config[oidc.customFetch] = fetch as oidc.CustomFetch;
  return checkEndpoints(config);
}
