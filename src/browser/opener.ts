// The browser-opener seam: opens the authorization URL in the user's system browser (never a
// webview inside the app, RFC 8252 §8.12). Sign-in does not wait for the browser to exit.
import { spawn } from 'node:child_process';
import { ConnectError } from '../common/errors.js';
import { needsLaunchPage, writeLaunchPage } from './launch-page.js';
import { shellWords } from './shell-words.js';

export interface BrowserOpener {
  /** Resolves once the browser has been started; rejects with `browser_open_failed`. */
  open(url: string): Promise<void>;
}

/** The command that opens a URL with the OS default browser on this platform. */
export function defaultBrowserCommand(platform: NodeJS.Platform = process.platform): string[] {
  switch (platform) {
    case 'win32':
      // rundll32 hands the URL to the default handler without cmd.exe's quoting rules for "&".
      return ['rundll32.exe', 'url.dll,FileProtocolHandler'];
    case 'darwin':
      return ['open'];
    default:
      return ['xdg-open'];
  }
}

/**
 * The system browser: `$BROWSER` when set (a command line split into words as a shell would),
 * otherwise the OS default. The command gets a launch page's file:// URL, never the URL itself
 * (launch-page.ts: a command line is readable by every user of the machine).
 */
export function systemBrowser(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): BrowserOpener {
  const configured = env.BROWSER?.trim();
  const command = configured ? shellWords(configured) : defaultBrowserCommand(platform);
  const source = configured ? 'the BROWSER environment variable' : 'the system';
  return {
    open: (url) =>
      new Promise<void>((resolve, reject) => {
        const [file, ...args] = command;
        if (!file) {
          reject(new ConnectError('browser_open_failed', 'The BROWSER environment variable is set but empty of a command.'));
          return;
        }
        let page: string;
        try {
          page = needsLaunchPage(platform) ? writeLaunchPage(url) : url;
        } catch (error) {
          reject(new ConnectError('browser_open_failed', `Could not write the page that opens the browser (${(error as NodeJS.ErrnoException).code ?? 'error'}). Open the sign-in URL yourself.`));
          return;
        }
        const child = spawn(file, [...args, page], { stdio: 'ignore', detached: true, windowsHide: false });
        child.once('error', (error: NodeJS.ErrnoException) => {
          reject(
            new ConnectError(
              'browser_open_failed',
              `Could not start the browser "${file}" from ${source} (${error.code ?? error.message}). Open the sign-in URL yourself.`,
            ),
          );
        });
        child.once('spawn', () => {
          child.unref();
          resolve();
        });
      }),
  };
}
