// urn:ietf:wg:oauth:2.0:oob: the provider shows the code on a page and the user pastes it into the
// app. The response carries no state: the code is accepted only for the pending attempt, PKCE binds
// it to this attempt's verifier, and `iss` is supplied from configuration.
import { sameString } from '../steps/authorization-response.js';
import { ConnectError } from '../common/errors.js';
import { OOB } from '../config/redirect-uri.js';
import { CandidateQueue, type AttemptContext, type PendingRedirect, type RedirectReceiver } from './receiver.js';

/**
 * What the user pasted, as response parameters: a bare code, `code=…`, a query string, the page's
 * `Success state=…&code=…` line, or the whole `urn:…?code=…` URI. Throws `invalid_code` or
 * `state_mismatch` without spending anything.
 */
export function parsePastedCode(input: string, context: AttemptContext): URLSearchParams {
  let text = input.trim();
  if (!text) throw new ConnectError('invalid_code', 'Nothing was pasted: paste the code shown in your browser.');
  text = text.replace(/^(Success|Denied)\s+/, '');
  const query = text.includes('?') ? text.slice(text.indexOf('?') + 1) : text;
  let params: URLSearchParams;
  if (query.includes('=')) {
    params = new URLSearchParams(query);
    if (!params.get('code') && !params.get('error')) {
      throw new ConnectError('invalid_code', 'What was pasted has no code in it: paste the code shown in your browser.');
    }
  } else {
    if (!query) throw new ConnectError('invalid_code', 'What was pasted has no code in it: paste the code shown in your browser.');
    if (/\s/.test(query) || query.length > 2048) {
      throw new ConnectError('invalid_code', 'That does not look like a code (a code is one word): paste just the code.');
    }
    params = new URLSearchParams({ code: query });
  }
  const state = params.get('state');
  if (state !== null && !sameString(state, context.state)) {
    throw new ConnectError('state_mismatch', 'That code belongs to another sign-in attempt (state mismatch); start a new sign-in or paste the right code.');
  }
  params.set('state', context.state);
  if (!params.has('iss')) params.set('iss', context.issuer);
  return params;
}

export class OobPasteReceiver implements RedirectReceiver {
  async listen(signal: AbortSignal, context: AttemptContext): Promise<PendingRedirect> {
    const queue = new CandidateQueue(signal);
    return {
      redirectUri: OOB,
      // A mistyped code fails at the token endpoint without spending the real one: paste again.
      retryable: true,
      next: () => queue.next(),
      submitCode: async (input: string) => queue.push(parsePastedCode(input, context)),
      close: async () => {},
    };
  }
}
