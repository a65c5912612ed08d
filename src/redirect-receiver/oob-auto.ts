// urn:ietf:wg:oauth:2.0:oob:auto: the provider's result page carries `Success state=…&code=…` in its
// title, and the app reads it from the browser's window title. Only a title with this attempt's
// state is taken, each title once; every other title (stale tabs, other programs) is ignored.
import { ConnectError } from '../common/errors.js';
import { OOB_AUTO } from '../config/redirect-uri.js';
import { parseResultTitle } from '../window-titles/parse.js';
import { openWindowTitleSource } from '../window-titles/open.js';
import type { WindowTitleSource } from '../window-titles/source.js';
import { CandidateQueue, type AttemptContext, type PendingRedirect, type RedirectReceiver } from './receiver.js';

export class OobAutoReceiver implements RedirectReceiver {
  readonly #open: () => Promise<WindowTitleSource>;

  constructor(open: () => Promise<WindowTitleSource> = () => openWindowTitleSource()) {
    this.#open = open;
  }

  async listen(signal: AbortSignal, context: AttemptContext): Promise<PendingRedirect> {
    const source = await this.#open();
    const queue = new CandidateQueue(signal);
    const used = new Set<string>();
    const watch = source.watch((titles) => {
      for (const title of titles) {
        if (used.has(title)) continue;
        const result = parseResultTitle(title, context.state);
        if (result === null) continue;
        used.add(title);
        if (result === 'truncated') {
          context.notice?.(
            new ConnectError(
              'invalid_code',
              'The browser\'s window title was cut short, so the code in it is incomplete and was not used.',
            ),
          );
          continue;
        }
        // The provider's title need not name its issuer (`Success state=…&code=…`): it is supplied from
        // configuration then, and checked when it is there.
        if (!result.has('iss')) result.set('iss', context.issuer);
        // The outcome reaches the sign-in; a failed code (cut short without a mark) lets it keep watching.
        queue.push(result).catch(() => {});
      }
    });
    let stopped = false;
    const stop = () => {
      if (stopped) return;
      stopped = true;
      watch.close();
    };
    signal.addEventListener('abort', stop, { once: true });
    return {
      redirectUri: OOB_AUTO,
      retryable: true,
      next: () => queue.next(),
      close: async () => {
        signal.removeEventListener('abort', stop);
        stop();
      },
    };
  }
}
