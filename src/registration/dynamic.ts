// Dynamic client registration (RFC 7591) and its management (RFC 7592), for providers whose discovery
// document advertises a `registration_endpoint`: open registration, managed registration with an
// initial access token, or a software statement. What comes back is kept in the keychain with the
// profile; its secrets are never printed.
import { discover } from '../provider/discovery.js';
import { limitedFetch, networkFailure } from '../provider/limited-fetch.js';
import { ConnectError, ProviderError, describeProviderError } from '../common/errors.js';
import { isHttpsOrLoopback } from '../config/redirect-uri.js';
import { nowSeconds } from '../session/session.js';
import { resolveSettings } from '../config/settings.js';
import { IDENTITY } from '../config/identity.js';

export interface Registration {
  version: 1;
  issuer: string;
  clientId: string;
  clientSecret?: string;
  /** Seconds since the epoch; 0 or absent: the secret does not expire. */
  clientSecretExpiresAt?: number;
  registrationAccessToken?: string;
  registrationClientUri?: string;
  /** The registered metadata as the provider returned it, without the secrets. */
  metadata: Record<string, unknown>;
  registeredAt: number;
}

const SECRET_FIELDS = ['client_secret', 'registration_access_token'];
const TIMEOUT_MS = 30_000;

function checkUrl(label: string, value: string): URL {
  const url = new URL(value);
  if (isHttpsOrLoopback(url)) return url;
  throw new ConnectError('insecure_endpoint', `The ${label} "${value}" is not https; it will not be sent client metadata or tokens.`);
}

async function call(method: string, url: URL, token: string | undefined, body?: unknown): Promise<{ status: number; json: Record<string, unknown> | null }> {
  let response: Response;
  try {
    // Through the same fetch as every other provider request: answers over 1 MB are refused.
    response = await limitedFetch(TIMEOUT_MS / 1000)(url.href, {
      method,
      redirect: 'error',
      signal: AbortSignal.timeout(TIMEOUT_MS),
      headers: {
        Accept: 'application/json',
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (error) {
    throw networkFailure(url.href, error, TIMEOUT_MS / 1000);
  }
  const text = await response.text();
  let json: Record<string, unknown> | null = null;
  if (text) {
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json = null;
    }
  }
  if (response.status >= 400) {
    const challenge = /error="([^"]+)"(?:.*error_description="([^"]*)")?/.exec(response.headers.get('www-authenticate') ?? '');
    const code = typeof json?.error === 'string' ? json.error : (challenge?.[1] ?? (response.status === 401 ? 'invalid_token' : undefined));
    const description = typeof json?.error_description === 'string' ? json.error_description : challenge?.[2];
    if (code) throw new ProviderError(code, describeProviderError(code, description), description);
    throw new ConnectError('invalid_response', `The registration endpoint answered HTTP ${response.status}.`);
  }
  return { status: response.status, json };
}

function fromResponse(issuer: string, json: Record<string, unknown> | null, previous?: Registration): Registration {
  if (!json || typeof json.client_id !== 'string' || !json.client_id) {
    throw new ConnectError('invalid_response', 'The registration response has no client_id.');
  }
  const metadata = Object.fromEntries(Object.entries(json).filter(([key]) => !SECRET_FIELDS.includes(key)));
  const registration: Registration = { version: 1, issuer, clientId: json.client_id, metadata, registeredAt: previous?.registeredAt ?? nowSeconds() };
  const secret = typeof json.client_secret === 'string' ? json.client_secret : previous?.clientSecret;
  if (secret) registration.clientSecret = secret;
  if (typeof json.client_secret_expires_at === 'number') registration.clientSecretExpiresAt = json.client_secret_expires_at;
  else if (previous?.clientSecretExpiresAt !== undefined) registration.clientSecretExpiresAt = previous.clientSecretExpiresAt;
  const token = typeof json.registration_access_token === 'string' ? json.registration_access_token : previous?.registrationAccessToken;
  if (token) registration.registrationAccessToken = token;
  const uri = typeof json.registration_client_uri === 'string' ? json.registration_client_uri : previous?.registrationClientUri;
  if (uri) registration.registrationClientUri = checkUrl('registration client URI', uri).href;
  return registration;
}

export interface RegisterOptions {
  issuer: string;
  metadata: Record<string, unknown>;
  /** Managed registration: the bearer token the provider issued for registering. */
  initialAccessToken?: string;
  /** A signed software statement (RFC 7591 §2.3), sent as `software_statement`. */
  softwareStatement?: string;
}

/** Register a client at the provider's registration endpoint. */
export async function registerClient(options: RegisterOptions): Promise<Registration> {
  const settings = resolveSettings({ issuer: options.issuer, clientId: 'unregistered' });
  const server = (await discover(settings)).serverMetadata();
  if (!server.registration_endpoint) {
    throw new ConnectError(
      'registration_unsupported',
      `The provider at ${server.issuer} does not offer dynamic registration (its discovery has no registration_endpoint); ` +
        `send it the registration request instead (${IDENTITY.cliName} register --request-only).`,
    );
  }
  const endpoint = checkUrl('registration endpoint', server.registration_endpoint);
  const body = { ...options.metadata, ...(options.softwareStatement ? { software_statement: options.softwareStatement } : {}) };
  const { json } = await call('POST', endpoint, options.initialAccessToken, body);
  return fromResponse(server.issuer, json);
}

function managed(registration: Registration): { uri: URL; token: string } {
  if (!registration.registrationClientUri || !registration.registrationAccessToken) {
    throw new ConnectError(
      'registration_unsupported',
      'The provider did not give this registration a registration_client_uri and registration access token, so it cannot be read, changed or deleted from here (RFC 7592).',
    );
  }
  return { uri: checkUrl('registration client URI', registration.registrationClientUri), token: registration.registrationAccessToken };
}

/** RFC 7592 §2.1: the registration as the provider has it now. */
export async function readRegistration(registration: Registration): Promise<Registration> {
  const { uri, token } = managed(registration);
  return fromResponse(registration.issuer, (await call('GET', uri, token)).json, registration);
}

/** RFC 7592 §2.2: replace the registered metadata (the full set, with the client_id). */
export async function updateRegistration(registration: Registration, metadata: Record<string, unknown>): Promise<Registration> {
  const { uri, token } = managed(registration);
  const body = { ...metadata, client_id: registration.clientId, ...(registration.clientSecret ? { client_secret: registration.clientSecret } : {}) };
  return fromResponse(registration.issuer, (await call('PUT', uri, token, body)).json, registration);
}

/** RFC 7592 §2.3: delete the registration at the provider. */
export async function deleteRegistration(registration: Registration): Promise<void> {
  const { uri, token } = managed(registration);
  await call('DELETE', uri, token);
}

/** A sentence when the client secret expires within `withinSeconds` (or has expired), else null. */
export function secretExpiryWarning(registration: Registration, withinSeconds = 7 * 24 * 3600, now = nowSeconds()): string | null {
  const at = registration.clientSecretExpiresAt;
  if (!registration.clientSecret || !at) return null;
  if (at <= now) return `The client secret expired at ${new Date(at * 1000).toISOString()}; register the client again.`;
  if (at - now <= withinSeconds) return `The client secret expires at ${new Date(at * 1000).toISOString()}; register the client again before then.`;
  return null;
}
