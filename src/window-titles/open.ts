// Which window-title source this OS has (the seam is source.ts), and how the process hosting it
// wants titles read. Apart from source.ts so that the per-OS files, which import source.ts, are not
// imported back by it.
import { ConnectError } from '../common/errors.js';
import type { WindowTitleSource } from './source.js';

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
