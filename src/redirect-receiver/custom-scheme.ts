// Custom URI scheme redirect (RFC 8252 §7.1): the OS launches the app with
// `<scheme>://connect/oauth2callback?code=…&state=…`; the app hands the URL to deliverRedirect().
import { sameString } from '../steps/authorization-response.js';
import { ConnectError } from '../common/errors.js';
import { CandidateQueue, type AttemptContext, type PendingRedirect, type RedirectReceiver } from './receiver.js';

/** Whether `url` is a response to `redirectUri` (scheme compared without case, as the OS does). */
export function matchesRedirectUri(url: URL, redirectUri: string): boolean {
  const expected = new URL(redirectUri);
  return (
    url.protocol.toLowerCase() === expected.protocol.toLowerCase() &&
    url.host.toLowerCase() === expected.host.toLowerCase() &&
    url.pathname === expected.pathname
  );
}

export class CustomSchemeReceiver implements RedirectReceiver {
  readonly #redirectUri: string;

  constructor(redirectUri: string) {
    this.#redirectUri = redirectUri;
  }

  async listen(signal: AbortSignal, context: AttemptContext): Promise<PendingRedirect> {
    const queue = new CandidateQueue(signal);
    const seen = new Set<string>();
    const redirectUri = this.#redirectUri;
    return {
      redirectUri,
      // A stale or forged URL is refused to whoever delivered it, and the attempt keeps waiting.
      retryable: true,
      next: () => queue.next(),
      deliverRedirect: async (raw: string) => {
        let url: URL;
        try {
          url = new URL(raw);
        } catch {
          throw new ConnectError('invalid_response', 'The URL handed to the app is not a valid URL; it was ignored.');
        }
        if (!matchesRedirectUri(url, redirectUri)) {
          throw new ConnectError('invalid_response', `The URL handed to the app is not its redirect URI (${redirectUri}); it was ignored.`);
        }
        if (seen.has(url.href)) {
          throw new ConnectError('redirect_replayed', 'This sign-in response was already handed to the app once; it was ignored.');
        }
        seen.add(url.href);
        const state = url.searchParams.get('state');
        if (state === null || !sameString(state, context.state)) {
          throw new ConnectError(
            'state_mismatch',
            'This sign-in response does not belong to the sign-in in progress (state mismatch); it was ignored.',
          );
        }
        return queue.push(url.searchParams);
      },
      close: async () => {},
    };
  }
}
