// The provider's redirect-URI defaults and registration rules (docs/redirect-kinds.md), as a pure
// module used by the app, the CLI and registration.
import { ConnectError } from '../common/errors.js';
import { DEFAULT_LOOPBACK_REDIRECT_URI, OOB, OOB_AUTO, PROVIDER_DEFAULT_LOCALHOST_URI, UNUSABLE_SCHEMES, isLoopbackHost } from './redirect-uri.js';

export const TECHNOLOGIES = ['windows-desktop', 'mac', 'linux-desktop', 'ios', 'android', 'windows-phone', 'web'] as const;
export type Technology = (typeof TECHNOLOGIES)[number];
export type ApplicationType = 'native' | 'web';

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;

/** `<client-id>://connect/oauth2callback`, when the client id is a valid URI scheme (RFC 3986 §3.1). */
export function customSchemeRedirectUri(clientId: string): string {
  if (!SCHEME.test(clientId)) {
    throw new ConnectError(
      'unsupported_redirect_uri',
      `The client id "${clientId}" cannot be used as a URI scheme (a scheme is a letter followed by letters, digits, "+", "-" or "."); ` +
        'register a custom-scheme redirect URI explicitly.',
    );
  }
  return `${clientId.toLowerCase()}://connect/oauth2callback`;
}

/** The redirect URIs the provider sets up when a client does not choose one. */
export function defaultRedirectUris(technology: Technology, clientId: string): string[] {
  switch (technology) {
    case 'mac':
    case 'ios':
    case 'android':
    case 'windows-phone':
      return [customSchemeRedirectUri(clientId)];
    case 'web':
      return [PROVIDER_DEFAULT_LOCALHOST_URI];
    case 'windows-desktop':
      return [OOB, OOB_AUTO];
    case 'linux-desktop':
      // Not in the provider's docs: a Linux desktop can always listen on loopback.
      return [DEFAULT_LOOPBACK_REDIRECT_URI];
  }
}

export function technologyForPlatform(platform: NodeJS.Platform): Technology {
  if (platform === 'win32') return 'windows-desktop';
  if (platform === 'darwin') return 'mac';
  return 'linux-desktop';
}

/**
 * The redirect URI the desktop app uses on this platform when none is configured: Windows → oob:auto
 * (read from the window title), macOS → the custom scheme, Linux → loopback.
 */
export function desktopDefaultRedirectUri(platform: NodeJS.Platform, clientId: string): string {
  const technology = technologyForPlatform(platform);
  return technology === 'windows-desktop' ? OOB_AUTO : (defaultRedirectUris(technology, clientId)[0] as string);
}

/** The provider's rules for a redirect URI a client registers. Throws `unsupported_redirect_uri`. */
export function checkRegisteredRedirectUri(uri: string, applicationType: ApplicationType): void {
  const bad = (why: string) => new ConnectError('unsupported_redirect_uri', `The redirect URI "${uri}" ${why}.`);
  if (uri.startsWith('urn:')) {
    if (uri !== OOB && uri !== OOB_AUTO) throw bad(`is a URN other than ${OOB} and ${OOB_AUTO}`);
    if (applicationType === 'web') throw bad('is an out-of-band URN, which is for native clients');
    return;
  }
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw bad('is not a valid URI');
  }
  if (uri.includes('#')) throw bad('must not contain a fragment');
  if (url.protocol === 'http:' || url.protocol === 'https:') {
    const local = isLoopbackHost(url.hostname);
    if (applicationType === 'native') {
      if (url.protocol !== 'http:' || !local) throw bad('is a URL, so for a native client it must use http with localhost as the host');
    } else if (url.protocol === 'http:' && !local) {
      throw bad('must use https (plain http only on localhost, for testing)');
    }
    return;
  }
  if (applicationType === 'web') throw bad('uses a custom scheme, which is for native clients');
  const scheme = url.protocol.slice(0, -1);
  if (!SCHEME.test(scheme) || UNUSABLE_SCHEMES.includes(scheme.toLowerCase())) {
    throw bad(`uses "${scheme}", which is not usable as a custom scheme`);
  }
}
