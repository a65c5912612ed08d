// The authorization URL carries the attempt's state, nonce and PKCE challenge, and the loopback port.
// On a command line (`xdg-open URL`, `$BROWSER URL`, `open URL`) any user of the machine can read it
// (/proc/PID/cmdline, ps) and finish the attempt with their own account, into this user's profile.
// So the browser is started on a launch page instead: a file only this user can read, in the private
// runtime folder, that sends the browser on to the URL. It is removed once the browser had time to
// read it, when this process exits, or (after a crash) by the next one.
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runtimeDir } from '../runtime-dir.js';

/** How long the browser has to read the page before it is removed. */
export const LAUNCH_PAGE_LIFETIME_MS = 120_000;
const PREFIX = 'launch-';

function escapeAttribute(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page: an immediate refresh to the URL, and a link for a browser that does not follow it. No script. */
export function launchPageHtml(url: string): string {
  const href = escapeAttribute(url);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<meta http-equiv="refresh" content="0;url=${href}">
<title>Opening the sign-in page…</title></head>
<body><p>Opening the sign-in page… <a href="${href}" rel="noreferrer">Continue</a></p></body></html>
`;
}

const live = new Set<string>();
let exitHook = false;

function remove(file: string): void {
  live.delete(file);
  try {
    unlinkSync(file);
  } catch {
    // already gone
  }
}

/** Pages left behind by a process that died before it could remove them. */
function sweep(dir: string): void {
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(PREFIX)) continue;
    const file = join(dir, name);
    try {
      if (Date.now() - statSync(file).mtimeMs > LAUNCH_PAGE_LIFETIME_MS) unlinkSync(file);
    } catch {
      // another process's, being removed
    }
  }
}

/**
 * Writes a launch page for `url` (mode 0600, in the 0700 runtime folder) and returns its file:// URL,
 * the only thing that goes on a command line.
 */
export function writeLaunchPage(url: string, dir: string = runtimeDir()): string {
  sweep(dir);
  const file = join(dir, `${PREFIX}${randomBytes(12).toString('hex')}.html`);
  writeFileSync(file, launchPageHtml(url), { mode: 0o600, flag: 'wx' });
  live.add(file);
  setTimeout(() => remove(file), LAUNCH_PAGE_LIFETIME_MS).unref();
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => [...live].forEach(remove));
  }
  return pathToFileURL(file).href;
}

/**
 * What Electron's shell.openExternal should be given for `url`. Linux: a launch page, since Electron
 * runs xdg-open with it as an argument. macOS hands it to the browser through LaunchServices and
 * Windows through ShellExecute: no command line another user can read, so the URL itself.
 */
export function externalUrl(url: string, platform: NodeJS.Platform = process.platform): string {
  return platform === 'linux' || platform === 'freebsd' || platform === 'openbsd' ? writeLaunchPage(url) : url;
}
