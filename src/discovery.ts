// Step 1 of the flow: learn the provider's endpoints (OpenID Connect discovery, or the explicit
// endpoints of a provider without it) and configure openid-client for this client.
import * as oidc from 'openid-client';
import { limitedFetch } from './limited-fetch.js';
import { fromOpenIdClient } from './openid-errors.js';
import type { ResolvedSettings } from './settings.js';

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

/** A configured openid-client for these settings. Throws `discovery_failed` or `network_error`. */
export async function discover(settings: ResolvedSettings): Promise<oidc.Configuration> {
  // Each request to the provider waits at most this long (the settings' requestTimeoutSeconds).
  const timeout = settings.requestTimeoutSeconds;
  const metadata: Partial<oidc.ClientMetadata> = {};
  if (settings.clientSecret) metadata.client_secret = settings.clientSecret;

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
    const config = new oidc.Configuration(server, settings.clientId, metadata, clientAuth(settings));
    config.timeout = timeout;
    config[oidc.customFetch] = limitedFetch(timeout) as oidc.CustomFetch;
    for (const step of hardening(settings)) step(config);
    return config;
  }

  try {
    return await oidc.discovery(new URL(settings.issuer), settings.clientId, metadata, clientAuth(settings), {
      execute: hardening(settings),
      timeout,
      [oidc.customFetch]: limitedFetch(timeout) as oidc.CustomFetch,
    });
  } catch (error) {
    throw fromOpenIdClient(error, 'discovery', settings.issuer);
  }
}
