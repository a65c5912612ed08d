// The window-title seam: the titles of the desktop's top-level windows, for oob:auto. One
// implementation per OS (x11.ts, win32.ts, darwin.ts), chosen in openWindowTitleSource().
import { ConnectError } from '../errors.js';

export interface TitleWatch {
  close(): void;
}

export interface WindowTitleSource {
  readonly name: string;
  /**
   * Calls `onTitles` with every top-level window title now, and again whenever they may have
   * changed (on an OS event where there is one, else on a poll), until the watch is closed.
   */
  watch(onTitles: (titles: string[]) => void): TitleWatch;
  /** All top-level window titles, once. */
  titles(): string[];
}

/** `onTitles`, called only when the titles differ from the last ones it was called with (for polling sources). */
export function whenChanged(onTitles: (titles: string[]) => void): (titles: string[]) => void {
  let last: string | undefined;
  return (titles) => {
    const key = titles.join('\u0000');
    if (key === last) return;
    last = key;
    onTitles(titles);
  };
}

/**
 * Who runs this process, which changes how titles are read:
 * - `terminal` (the default: the CLI, a library user's script): on Windows the source checks its
 *   thread for win events itself, since nothing else does; on macOS the Screen Recording permission
 *   belongs to the terminal app, and the help says so.
 * - `app` (the Electron app): on Windows Chromium's message loop already delivers win events to the
 *   main thread, so the source must not check the thread from a timer; on macOS the source asks
 *   for the permission (CGRequestScreenCaptureAccess), which lists the app in System Settings.
 */
export type TitleSourceHost = 'terminal' | 'app';

let host: TitleSourceHost = 'terminal';

/** Set once at start-up by the Electron app (`app`); the CLI keeps the default. */
export function setWindowTitleHost(value: TitleSourceHost): void {
  host = value;
}

export async function openWindowTitleSource(platform: NodeJS.Platform = process.platform): Promise<WindowTitleSource> {
  switch (platform) {
    case 'win32':
      return (await import('./win32.js')).win32TitleSource({ checkThread: host === 'terminal' });
    case 'darwin':
      return (await import('./darwin.js')).darwinTitleSource({ host });
    case 'linux':
    case 'freebsd':
    case 'openbsd':
      return (await import('./x11.js')).x11TitleSource();
    default:
      throw new ConnectError('window_titles_unavailable', `Reading window titles is not supported on ${platform}; choose another redirect kind.`);
  }
}
