// Typed errors with stable codes. Callers branch on `code`, never on the message. Messages are
// written for the user and never contain a token, a code or a secret.
import { printable } from './printable.js';

/**
 * Codes raised by this client itself. Each one's cause and fix: docs/troubleshooting.md.
 *
 * - settings: `invalid_settings`, `insecure_issuer` (http off loopback), `insecure_endpoint` (an endpoint
 *   the provider names is plain http off loopback), `unsupported_redirect_uri`,
 *   `invalid_client_details` (a registration details file);
 * - the provider: `discovery_failed`, `network_error`, `invalid_response`, `token_request_failed`,
 *   `id_token_invalid`, `userinfo_invalid`;
 * - signing in: `browser_open_failed`, `port_in_use`, `timeout`, `cancelled`, `state_mismatch`,
 *   `issuer_mismatch` (RFC 9207), `no_pending_attempt`, `redirect_replayed`, `invalid_code`,
 *   `window_titles_unavailable`, `scheme_unavailable` (the OS will not hand this custom scheme to the app),
 *   `device_flow_unsupported` (the provider offers no sign-in on another device);
 * - tokens: `not_signed_in`, `token_expired`, `session_expired` (refresh token refused: signed out),
 *   `unsupported_token_type` (not a Bearer token), `resource_not_allowed` (fetch to an origin the
 *   profile does not allow);
 * - the keychain: `keychain_unavailable` (no plaintext fallback), `stored_session_invalid`;
 * - this machine: `runtime_dir_unavailable` (the private folder for locks and hand-offs cannot be
 *   made or written: read-only, full, not this user's), `settings_damaged` (the app's
 *   settings file cannot be understood; it is kept as it is), `settings_not_saved` (writing it failed);
 * - registration: `registration_unsupported`, `already_registered`;
 * - one at a time: `sign_in_in_progress` (this client is already signing in), `handoff_busy` (another
 *   sign-in of this profile is waiting for its browser response);
 * - `insecure_url`: a URL given in the settings or flags, other than the issuer (a resource origin,
 *   a registration endpoint), is plain http off loopback;
 * - `provider_error`: the provider answered with an OAuth error code that is not registered
 *   (`ProviderError.providerCode` has it).
 */
export const CLIENT_ERROR_CODES = [
  'invalid_settings',
  'insecure_issuer',
  'unsupported_redirect_uri',
  'discovery_failed',
  'network_error',
  'browser_open_failed',
  'port_in_use',
  'timeout',
  'cancelled',
  'state_mismatch',
  'issuer_mismatch',
  'invalid_response',
  'id_token_invalid',
  'userinfo_invalid',
  'token_request_failed',
  'keychain_unavailable',
  'stored_session_invalid',
  'not_signed_in',
  'token_expired',
  'no_pending_attempt',
  'redirect_replayed',
  'invalid_code',
  'window_titles_unavailable',
  'scheme_unavailable',
  'session_expired',
  'unsupported_token_type',
  'resource_not_allowed',
  'insecure_endpoint',
  'invalid_client_details',
  'registration_unsupported',
  'already_registered',
  'runtime_dir_unavailable',
  'settings_damaged',
  'settings_not_saved',
  'device_flow_unsupported',
  'sign_in_in_progress',
  'handoff_busy',
  'insecure_url',
  'provider_error',
] as const;
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];

/**
 * The OAuth error codes a provider may answer with, passed through as they came: RFC 6749 §4.1.2.1
 * and §5.2, RFC 6750 §3.1, OpenID Connect Core §3.1.2.6, RFC 7591 §3.2.2, RFC 8628 §3.5, RFC 9126,
 * RFC 9449, RFC 8707. Any other code a provider sends becomes `provider_error`, with the provider's
 * own code in `ProviderError.providerCode`.
 */
export const OAUTH_ERROR_CODES = [
  'invalid_request',
  'unauthorized_client',
  'access_denied',
  'unsupported_response_type',
  'invalid_scope',
  'server_error',
  'temporarily_unavailable',
  'invalid_client',
  'invalid_grant',
  'unsupported_grant_type',
  'invalid_token',
  'insufficient_scope',
  'interaction_required',
  'login_required',
  'account_selection_required',
  'consent_required',
  'invalid_request_uri',
  'invalid_request_object',
  'request_not_supported',
  'request_uri_not_supported',
  'registration_not_supported',
  'invalid_redirect_uri',
  'invalid_client_metadata',
  'invalid_software_statement',
  'unapproved_software_statement',
  'authorization_pending',
  'slow_down',
  'expired_token',
  'invalid_target',
  'invalid_dpop_proof',
  'use_dpop_nonce',
] as const;
export type OAuthErrorCode = (typeof OAUTH_ERROR_CODES)[number];

/** Every code a ConnectError can carry: this client's own, or a provider's registered OAuth code. */
export type ErrorCode = ClientErrorCode | OAuthErrorCode;

export class ConnectError extends Error {
  override readonly name: string = 'ConnectError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Whether a value (from another process, a file) is one of the codes a ConnectError carries. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && ((CLIENT_ERROR_CODES as readonly string[]).includes(value) || (OAUTH_ERROR_CODES as readonly string[]).includes(value));
}

/** The provider's code as this client's closed set has it: itself when registered, else `provider_error`. */
export function providerErrorCode(code: string): OAuthErrorCode | 'provider_error' {
  return (OAUTH_ERROR_CODES as readonly string[]).includes(code) ? (code as OAuthErrorCode) : 'provider_error';
}

/** The authorization server answered with an OAuth error (authorization, token or registration endpoint). */
export class ProviderError extends ConnectError {
  override readonly name = 'ProviderError';
  /** The provider's own `error_description`, if it sent one. */
  readonly description: string | undefined;
  /** The provider's own error code, as it sent it (printable, at most 100 characters). */
  readonly providerCode: string;

  constructor(code: string, message: string, description?: string, options?: { cause?: unknown }) {
    super(providerErrorCode(code), message, options);
    this.description = description;
    this.providerCode = printable(code, 100);
  }
}

export function isConnectError(value: unknown, code?: ErrorCode): value is ConnectError {
  return value instanceof ConnectError && (code === undefined || value.code === code);
}

const PROVIDER_SENTENCES: Record<string, string> = {
  access_denied: 'Sign-in was cancelled or access was denied at the provider.',
  login_required: 'The provider requires you to sign in.',
  consent_required: 'The provider needs your consent for this app.',
  interaction_required: 'The provider needs you to interact with its sign-in page.',
  invalid_request: 'The provider rejected the sign-in request as malformed.',
  invalid_scope: 'The provider does not allow the requested scopes.',
  unauthorized_client: 'The provider does not allow this client to sign in this way.',
  unsupported_response_type: 'The provider does not support the authorization code flow for this client.',
  server_error: 'The provider had an internal error.',
  temporarily_unavailable: 'The provider is temporarily unavailable.',
  invalid_grant:
    'The provider rejected the authorization code or refresh token (expired, already used, or issued to another client).',
  invalid_client: 'The provider did not accept this client (wrong client id or secret).',
  unsupported_grant_type: 'The provider does not allow this grant type for this client.',
  invalid_redirect_uri: 'The provider refused a redirect URI of this registration.',
  invalid_client_metadata: 'The provider refused the client metadata of this registration.',
  invalid_software_statement: 'The provider refused the software statement.',
  unapproved_software_statement: 'The provider does not accept this software statement.',
  invalid_token: 'The provider refused the token (missing, expired, or revoked).',
  expired_token: 'The code expired before it was entered on the other device.',
};

/** A human sentence for a provider error code, with the provider's own description appended. */
export function describeProviderError(code: string, description?: string | null): string {
  // Provider text is shown to the user: short, printable and on one line.
  const sentence = PROVIDER_SENTENCES[code] ?? `The provider answered with the error "${printable(code, 100)}".`;
  const extra = description ? printable(description, 200) : '';
  return extra && extra !== sentence ? `${sentence} (${extra})` : sentence;
}

/** The error for a code or URL that arrived with no sign-in waiting for it. */
export function noPendingAttempt(what: string): ConnectError {
  return new ConnectError('no_pending_attempt', `${what} arrived while no sign-in was waiting for it; it was ignored.`);
}
