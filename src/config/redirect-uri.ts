// The redirect-URI rules of the reference provider ("Choosing a redirect URI"): the registered
// redirect URI decides how the authorization result reaches the app.
import { ConnectError } from '../common/errors.js';

export const OOB = 'urn:ietf:wg:oauth:2.0:oob';
export const OOB_AUTO = 'urn:ietf:wg:oauth:2.0:oob:auto';
/** The loopback URI the CLI uses when none is given (any port: RFC 8252 §7.3). */
export const DEFAULT_LOOPBACK_REDIRECT_URI = 'http://127.0.0.1/connect/oauth2callback';
/** The provider's default redirect URI for web clients, also usable by native ones. */
export const PROVIDER_DEFAULT_LOCALHOST_URI = 'http://localhost:8081/connect/oauth2callback';

/** A loopback redirect URI without a port: any free port is chosen at sign-in. */
export function isAnyPortLoopback(redirect: RedirectKind): boolean {
  return redirect.kind === 'loopback' && redirect.port === null;
}

/** Said where an any-port loopback redirect URI may be what the provider refused (after a ';'). */
export const ANY_PORT_HINT =
  '; a provider that matches the port of a loopback redirect URI as well, as Glewlwyd does (RFC 8252 §7.3 asks it not to), ' +
  'refuses one with no port: register a fixed port, such as http://127.0.0.1:8765/connect/oauth2callback, and sign in with it';

export type RedirectKind =
  | {
      kind: 'loopback';
      /** The host to listen on: 127.0.0.1, [::1] or localhost (both). */
      host: '127.0.0.1' | '[::1]' | 'localhost';
      /** The fixed port the URI names, or null for "any port" (chosen at sign-in). */
      port: number | null;
      path: string;
    }
  | { kind: 'custom-scheme'; scheme: string; path: string }
  | { kind: 'oob-auto' }
  | { kind: 'oob' };

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Schemes that can never carry a redirect to an app: the web's own, and the browser's internal ones. */
export const UNUSABLE_SCHEMES: readonly string[] = ['http', 'https', 'javascript', 'data', 'file', 'vbscript', 'blob', 'about', 'urn', 'ws', 'wss', 'ftp'];

/** Classify a redirect URI, or throw `unsupported_redirect_uri` with the rule it breaks. */
export function classifyRedirectUri(uri: string): RedirectKind {
  if (uri === OOB_AUTO) return { kind: 'oob-auto' };
  if (uri === OOB) return { kind: 'oob' };
  const bad = (why: string) => new ConnectError('unsupported_redirect_uri', `The redirect URI "${uri}" ${why}.`);
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw bad('is not a valid URI');
  }
  if (url.hash || uri.includes('#')) throw bad('must not contain a fragment');
  if (url.search) throw bad('must not contain a query');
  if (url.protocol === 'https:') {
    throw bad('is an https URL: a desktop app cannot receive it; use a loopback, custom-scheme or oob redirect URI');
  }
  if (url.protocol === 'http:') {
    if (!LOOPBACK_HOSTS.has(url.hostname)) {
      throw bad('uses http with a host that is not loopback (use 127.0.0.1 or localhost)');
    }
    if (url.username || url.password) throw bad('must not contain user information');
    return {
      kind: 'loopback',
      host: url.hostname as '127.0.0.1' | '[::1]' | 'localhost',
      port: url.port === '' ? null : Number(url.port),
      path: url.pathname,
    };
  }
  const scheme = url.protocol.slice(0, -1);
  if (UNUSABLE_SCHEMES.includes(scheme)) {
    throw bad(`uses the "${scheme}" scheme, which cannot carry a redirect to the app`);
  }
  return { kind: 'custom-scheme', scheme, path: `${url.host}${url.pathname}` };
}

/** Hosts on which plain http is acceptable for an issuer or a redirect. */
export function isLoopbackHost(hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127(?:\.\d{1,3}){3}$/.test(hostname);
}

/** The transport rule for every URL a token, code or secret travels to: https, or plain http only to this machine. */
export function isHttpsOrLoopback(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && isLoopbackHost(url.hostname));
}
