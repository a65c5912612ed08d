// Turns errors thrown by openid-client / oauth4webapi into ConnectErrors with stable codes.
// The original error is kept as a sanitized cause: its message only (openid-client's messages are
// fixed sentences), never its `cause` chain, which can hold response parameters such as the code.
import { ConnectError, ProviderError, describeProviderError } from './errors.js';

export type Step = 'discovery' | 'token' | 'userinfo' | 'revocation';

interface OpenIdLikeError {
  name?: string;
  code?: string;
  message?: string;
  error?: string;
  error_description?: string;
  cause?: unknown;
  status?: number;
}

function sanitizedCause(err: OpenIdLikeError): Error {
  return new Error(`${err.name ?? 'Error'}: ${err.message ?? ''}${err.code ? ` (${err.code})` : ''}`);
}

/** The innermost message of a processing error ("unexpected JWT "nonce" claim value"). */
function innerMessage(err: OpenIdLikeError): string {
  const inner = err.cause as OpenIdLikeError | undefined;
  if (inner && typeof inner === 'object' && typeof inner.message === 'string' && inner.message) return inner.message;
  return err.message ?? 'unknown error';
}

function networkReason(err: OpenIdLikeError): string {
  const cause = err.cause as { code?: string; message?: string } | undefined;
  return cause?.code ?? cause?.message ?? err.message ?? 'unknown network error';
}

const ID_TOKEN_CODES = new Set([
  'OAUTH_JWT_CLAIM_COMPARISON_FAILED',
  'OAUTH_JWT_TIMESTAMP_CHECK_FAILED',
  'OAUTH_KEY_SELECTION_FAILED',
]);

export function fromOpenIdClient(error: unknown, step: Step, where?: string): ConnectError {
  if (error instanceof ConnectError) return error;
  const err = (error ?? {}) as OpenIdLikeError;
  const cause = sanitizedCause(err);
  const place = where ? ` at ${where}` : '';

  if (typeof err.error === 'string' && err.error) {
    // ResponseBodyError (token, revocation, registration) or AuthorizationResponseError.
    return new ProviderError(err.error, describeProviderError(err.error, err.error_description), err.error_description, {
      cause,
    });
  }
  if (err.code === 'OAUTH_WWW_AUTHENTICATE_CHALLENGE') {
    const challenges = (err.cause ?? []) as Array<{ parameters?: Record<string, string> }>;
    const code = challenges[0]?.parameters?.error ?? 'invalid_token';
    return new ProviderError(code, describeProviderError(code, challenges[0]?.parameters?.error_description), undefined, {
      cause,
    });
  }
  if (err.code === 'OAUTH_ABORT' || err.name === 'AbortError') {
    return new ConnectError('cancelled', 'The request to the provider was cancelled.', { cause });
  }
  if (err.code === 'OAUTH_TIMEOUT' || err.name === 'TimeoutError') {
    return new ConnectError('network_error', `The provider did not answer in time${place}.`, { cause });
  }
  if (error instanceof TypeError && /fetch failed/i.test(err.message ?? '')) {
    return new ConnectError('network_error', `Could not reach the provider${place} (${networkReason(err)}).`, {
      cause,
    });
  }
  if (step === 'discovery') {
    return new ConnectError(
      'discovery_failed',
      `The provider's discovery document${place} could not be used: ${innerMessage(err)}.`,
      { cause },
    );
  }
  const detail = innerMessage(err);
  if (step === 'token' && (ID_TOKEN_CODES.has(err.code ?? '') || /JWT|JWS|ID Token|signature/i.test(detail))) {
    return new ConnectError('id_token_invalid', `The ID token failed validation: ${detail}.`, { cause });
  }
  if (step === 'userinfo' && (err.code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED' || /sub/.test(detail))) {
    return new ConnectError('userinfo_invalid', `The provider's user info failed validation: ${detail}.`, { cause });
  }
  return new ConnectError('invalid_response', `The provider's ${step} response was not valid: ${detail}.`, { cause });
}
