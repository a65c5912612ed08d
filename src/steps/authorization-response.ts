// Step 4: check what came back to the redirect URI before anything else is done with it:
// `state` (CSRF, RFC 6749 §10.12), then `iss` (mix-up, RFC 9207), then an `error`, then the code.
import { timingSafeEqual } from 'node:crypto';
import { ConnectError, ProviderError, describeProviderError } from '../common/errors.js';

export interface ResponseExpectations {
  state: string;
  issuer: string;
  /** The provider advertised `authorization_response_iss_parameter_supported`. */
  issRequired: boolean;
}

/** Constant-time string comparison, for state values. */
export function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The CONNECT_DEBUG line for a response set aside as not this attempt's (the n-th of the attempt). */
export function setAsideLine(n: number): string {
  return `sign-in: a response without this attempt's state was set aside (${n} so far)`;
}

/** Returns the parameters when they carry a code for this attempt; throws a typed error otherwise. */
export function checkAuthorizationResponse(params: URLSearchParams, expected: ResponseExpectations): URLSearchParams {
  // `state_mismatch` means "not this attempt's response": the sign-in sets it aside and goes on.
  // RFC 6749 §3.1: no parameter more than once (which of two states or codes would be the real one?).
  const states = params.getAll('state');
  if (states.length === 0) {
    throw new ConnectError('state_mismatch', 'The sign-in response had no state; it was ignored and nothing was stored.');
  }
  if (states.length > 1) {
    throw new ConnectError('state_mismatch', 'The sign-in response repeats its "state" parameter; it was ignored and nothing was stored.');
  }
  if (!sameString(states[0] as string, expected.state)) {
    throw new ConnectError(
      'state_mismatch',
      'The sign-in response does not belong to this sign-in attempt (state mismatch); nothing was stored.',
    );
  }
  for (const name of ['iss', 'code', 'error']) {
    if (params.getAll(name).length > 1) {
      throw new ConnectError('invalid_response', `The sign-in response repeats its "${name}" parameter; it was refused and nothing was stored.`);
    }
  }
  const iss = params.get('iss');
  if (iss === null && expected.issRequired) {
    throw new ConnectError(
      'issuer_mismatch',
      'The sign-in response did not name its issuer, which this provider promises to do (RFC 9207); nothing was stored.',
    );
  }
  if (iss !== null && iss !== expected.issuer) {
    throw new ConnectError(
      'issuer_mismatch',
      'The sign-in response came from a different issuer than the one this app signs in with; nothing was stored.',
    );
  }
  const error = params.get('error');
  if (error !== null) {
    const description = params.get('error_description') ?? undefined;
    throw new ProviderError(error, describeProviderError(error, description), description);
  }
  if (!params.get('code')) {
    throw new ConnectError('invalid_response', 'The sign-in response carried neither a code nor an error.');
  }
  return params;
}
