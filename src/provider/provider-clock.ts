// The provider's clock, as its answers' `Date` headers tell it. ID-token checks compare the token's
// times (`exp`, `nbf`) with this computer's clock, so a clock that is hours off fails every sign-in
// with "expiration is past current timestamp". When the provider's clock and ours differ by more
// than a minute, discovery hands the difference to openid-client (its clockSkew) and CONNECT_DEBUG
// says so. A Date header has one-second resolution and the answer takes time to arrive, so smaller
// differences are noise and ignored; a cached answer (Age) and a difference of over a week are not
// believed. The difference is learned from the discovery document's answer, so a provider set up with
// explicit endpoints (no discovery) gets it only from earlier answers in the same process.
import { debug } from '../common/debug.js';

/** Differences up to this many seconds are left alone (openid-client tolerates 30 s itself). */
export const SKEW_THRESHOLD_SECONDS = 60;
/** A difference beyond this is not a clock that drifted but a header that lies: ignored. */
export const SKEW_LIMIT_SECONDS = 7 * 24 * 3600;

const skews = new Map<string, number>();

/**
 * Note the Date header of an answer from `url`, received at `receivedAt` (ms) for a request sent at
 * `sentAt` (ms). The provider wrote the header somewhere in between: the midpoint is our best guess.
 */
export function noteProviderDate(url: string, headers: Headers, sentAt: number, receivedAt: number): void {
  const date = headers.get('date');
  // An answer from a cache (it has an Age) carries the Date of when it was made, not of now.
  if (!date || headers.has('age')) return;
  const theirs = Date.parse(date);
  if (!Number.isFinite(theirs)) return;
  const origin = new URL(url).origin;
  const skew = Math.round((theirs - (sentAt + receivedAt) / 2) / 1000);
  if (Math.abs(skew) > SKEW_LIMIT_SECONDS) {
    debug(`clock: the Date header at ${origin} is ${Math.abs(skew)} s off this computer's clock; not believable, ignored`);
    return;
  }
  const previous = skews.get(origin);
  skews.set(origin, skew);
  if (Math.abs(skew) > SKEW_THRESHOLD_SECONDS && (previous === undefined || Math.abs(previous - skew) > 5)) {
    const way = skew > 0 ? 'behind' : 'ahead of';
    debug(`clock: this computer's clock is ${Math.abs(skew)} s ${way} the provider's at ${origin}; token times are checked against the provider's clock`);
  }
}

/**
 * Seconds to add to this computer's clock to get the provider's (0 when within the threshold), or
 * undefined when no answer from it has been seen in this process.
 */
export function clockSkewFor(url: string): number | undefined {
  const skew = skews.get(new URL(url).origin);
  if (skew === undefined) return undefined;
  return Math.abs(skew) > SKEW_THRESHOLD_SECONDS ? skew : 0;
}
