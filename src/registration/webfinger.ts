// WebFinger issuer discovery (OpenID Connect Discovery §2, RFC 7033): from `user@example.com`, an
// `acct:` URI or a URL, ask the host which OpenID Connect issuer serves that user. openid-client v6
// does not do this, so it is done here, strictly: https only (http on loopback), the JRD content
// type, an https issuer, and limits on size and time.
import { ConnectError } from '../common/errors.js';
import { limitedFetch, networkFailure } from '../provider/limited-fetch.js';
import { isHttpsOrLoopback, isLoopbackHost } from '../config/redirect-uri.js';

export const ISSUER_REL = 'http://openid.net/specs/connect/1.0/issuer';
const MAX_BYTES = 64 * 1024;

export interface WebFingerOptions {
  timeoutMs?: number;
  maxBytes?: number;
}

/** The WebFinger resource and the host to ask, from what the user typed (Discovery §2.1). */
export function webFingerTarget(input: string): { resource: string; origin: string } {
  const text = input.trim();
  const bad = (why: string) => new ConnectError('invalid_settings', `"${input}" ${why}.`);
  if (!text) throw bad('is empty: give an e-mail address, an acct: URI or an issuer URL');
  let resource: string;
  let host: string;
  if (/^acct:/i.test(text) || (/^[^/:?#]+@[^/?#]+$/.test(text) && !/^[a-z][a-z0-9+.-]*:\/\//i.test(text))) {
    resource = /^acct:/i.test(text) ? text : `acct:${text}`;
    host = resource.slice(resource.lastIndexOf('@') + 1);
    if (!host || /[\s/]/.test(host)) throw bad('has no host after "@"');
  } else {
    let url: URL;
    try {
      url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`);
    } catch {
      throw bad('is not an e-mail address, an acct: URI or a URL');
    }
    url.hash = '';
    resource = url.href;
    host = url.host;
  }
  const hostname = host.replace(/:\d+$/, '');
  const scheme = isLoopbackHost(hostname) ? 'http' : 'https';
  return { resource, origin: `${scheme}://${host}` };
}

/** The issuer that serves `input`, found with WebFinger. */
export async function webFingerIssuer(input: string, options: WebFingerOptions = {}): Promise<string> {
  const { resource, origin } = webFingerTarget(input);
  const url = new URL('/.well-known/webfinger', origin);
  url.searchParams.set('resource', resource);
  url.searchParams.set('rel', ISSUER_REL);
  const where = `${origin}/.well-known/webfinger`;
  const fail = (why: string, cause?: unknown) =>
    new ConnectError('discovery_failed', `WebFinger at ${where} did not name an issuer for ${resource}: ${why}.`, { cause });

  // Through the one fetch every provider request takes (limited-fetch.ts), with WebFinger's own,
  // smaller limit: an answer over it is refused as it arrives.
  const limit = options.maxBytes ?? MAX_BYTES;
  const timeoutMs = options.timeoutMs ?? 10_000;
  let response: Response;
  try {
    response = await limitedFetch(Math.max(1, Math.round(timeoutMs / 1000)), limit)(url.href, {
      headers: { Accept: 'application/jrd+json' },
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    if (error instanceof ConnectError && error.code === 'invalid_response') throw fail(`its answer is larger than ${limit} bytes`, error);
    const failure = networkFailure(url.href, error, Math.max(1, Math.round(timeoutMs / 1000)));
    throw new ConnectError(failure.code, `WebFinger at ${where}: ${failure.message}`, { cause: error });
  }
  if (response.status !== 200) throw fail(`it answered HTTP ${response.status}`);
  const type = (response.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/jrd+json') throw fail(`its answer is "${type || 'untyped'}", not application/jrd+json`);
  const body = await response.text();
  let jrd: { links?: Array<{ rel?: unknown; href?: unknown }> };
  try {
    jrd = JSON.parse(body) as typeof jrd;
  } catch (error) {
    throw fail('its answer is not valid JSON', error);
  }
  const link = Array.isArray(jrd?.links) ? jrd.links.find((l) => l && l.rel === ISSUER_REL) : undefined;
  if (!link || typeof link.href !== 'string') throw fail('its answer has no issuer link');
  let issuer: URL;
  try {
    issuer = new URL(link.href);
  } catch {
    throw fail(`the issuer "${String(link.href)}" is not a URL`);
  }
  if (!isHttpsOrLoopback(issuer)) {
    throw fail(`the issuer "${link.href}" is not an https URL`);
  }
  if (issuer.search || issuer.hash) throw fail(`the issuer "${link.href}" has a query or fragment`);
  return link.href;
}
