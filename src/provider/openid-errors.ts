// Turns errors thrown by openid-client / oauth4webapi into ConnectErrors with stable codes.
// The original error is kept as a sanitized cause: its message only (openid-client's messages are
// fixed sentences), never its `cause` chain, which can hold response parameters such as the code.
import { ConnectError, ProviderError, describeProviderError } from '../common/errors.js';
import { placeOf } from './limited-fetch.js';

export type Step = 'discovery' | 'token' | 'userinfo' | 'revocation' | 'pushed authorization request' | 'device authorization';

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

/** A ConnectError raised by our fetch (limited-fetch.ts) under openid-client's wrapping, if any. */
function fetchError(error: unknown): ConnectError | undefined {
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 4; e = (e as OpenIdLikeError).cause, depth++) {
    if (e instanceof ConnectError) return e;
  }
  return undefined;
}

/** The HTTP status of the answer openid-client refused (it keeps the Response as the cause), if any. */
export function httpStatusOf(error: unknown): number | undefined {
  const cause = (error as OpenIdLikeError | undefined)?.cause;
  return cause instanceof Response ? cause.status : undefined;
}

/** "HTTP 503 at …", "not JSON (content type text/html) at …": what an unusable HTTP answer was. */
function responseProblem(err: OpenIdLikeError): string | undefined {
  const response = err.cause;
  if (!(response instanceof Response)) return undefined;
  const place = response.url ? ` at ${placeOf(response.url)}` : '';
  if (err.code === 'OAUTH_RESPONSE_IS_NOT_JSON') {
    return `the answer${place} is not JSON (content type ${response.headers.get('content-type') || 'none'})`;
  }
  if (!response.ok || /status code/.test(err.message ?? '')) return `the provider answered HTTP ${response.status}${place}`;
  return undefined;
}

export function fromOpenIdClient(error: unknown, step: Step, where?: string): ConnectError {
  const fromFetch = fetchError(error);
  if (fromFetch) {
    if (step === 'discovery' && fromFetch.code === 'invalid_response') {
      return new ConnectError('discovery_failed', `The provider's discovery document could not be used: ${fromFetch.message}`);
    }
    return fromFetch;
  }
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
  const problem = responseProblem(err);
  if (step === 'discovery') {
    return new ConnectError(
      'discovery_failed',
      `The provider's discovery document${problem ? '' : place} could not be used: ${problem ?? innerMessage(err)}.`,
      { cause },
    );
  }
  if (problem) return new ConnectError('invalid_response', `The provider's ${step} response was not usable: ${problem}.`, { cause });
  const detail = innerMessage(err);
  if (step === 'token' && (ID_TOKEN_CODES.has(err.code ?? '') || /JWT|JWS|ID Token|signature/i.test(detail))) {
    return new ConnectError('id_token_invalid', `The ID token failed validation: ${detail}.`, { cause });
  }
  if (step === 'userinfo' && (err.code === 'OAUTH_JSON_ATTRIBUTE_COMPARISON_FAILED' || /sub/.test(detail))) {
    return new ConnectError('userinfo_invalid', `The provider's user info failed validation: ${detail}.`, { cause });
  }
  return new ConnectError('invalid_response', `The provider's ${step} response was not valid: ${detail}.`, { cause });
}
