// Reading an oob:auto result from a window title. The provider's page title is
// `Success state=<state>&code=<code>[&iss=…]` or `Denied state=<state>&error=<error>[…]`; the
// browser adds its own suffix (" - Chromium", " — Mozilla Firefox", " - Profile 1 - Microsoft Edge"),
// and the OS may cut a long title short.
import { sameString } from '../steps/authorization-response.js';

/** Longer titles are not the provider's (a code, state and iss fit in a few hundred characters). */
export const MAX_TITLE_CHARS = 4096;

/** The parameters of a title for this attempt, 'truncated' when its code was cut off, or null. */
export function parseResultTitle(title: string, expectedState: string): URLSearchParams | 'truncated' | null {
  if (title.length > MAX_TITLE_CHARS) return null;
  const match = /^(Success|Denied) (\S+)/.exec(title);
  if (!match) return null;
  // The query ends at the first white space (values are URL-encoded: they have none); a title
  // HTML-escaped once too often still reads right.
  const query = (match[2] as string).replace(/&amp;/g, '&');
  const cut = /(?:\u2026|\.\.\.)$/.test(query);
  const params = new URLSearchParams(query);
  if (params.getAll('state').length !== 1 || params.getAll('code').length > 1) return null;
  const state = params.get('state');
  if (state === null || !sameString(state, expectedState)) return null;
  if (match[1] === 'Success') {
    if (cut) return 'truncated';
    if (!params.get('code') || params.has('error')) return null;
  } else if (!params.get('error')) {
    return null;
  }
  return params;
}
