// The authorization URL carries the attempt's state, nonce and PKCE challenge, and the loopback port.
// On a command line (`xdg-open URL`, `$BROWSER URL`, `open URL`) any user of the machine can read it
// (/proc/PID/cmdline, ps) and finish the attempt with their own account, into this user's profile.
// So the browser is started on a launch page instead: a file only this user can read, in the private
// runtime folder, that sends the browser on to the URL. It is removed once the browser had time to
// read it, when this process exits, or (after a crash) by the next one.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { IDENTITY } from '../config/identity.js';
import { ownPrivateFolder, runtimeDir } from '../session/runtime-dir.js';
import { shellWords } from './shell-words.js';

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
 * Linux browsers packaged as a snap or a Flatpak see neither /tmp, /run/user nor hidden folders in
 * the home folder, only their own: ~/snap/<name>/ and ~/.var/app/<id>/. Given the browser's desktop
 * file id (`firefox_firefox.desktop`, `org.mozilla.firefox.desktop`) or command, the private folder
 * inside its own, or undefined for an ordinary browser.
 */
export function sandboxFolderFor(browser: string | undefined, home: string = homedir()): string | undefined {
  if (!browser) return undefined;
  const name = `${IDENTITY.folderName}-launch`;
  const snap = /^([a-z0-9][a-z0-9-]*)_[^/]*\.desktop$/.exec(browser)?.[1] ?? /^\/snap\/bin\/([a-z0-9][a-z0-9-]*)(\.|$)/.exec(browser)?.[1];
  if (snap && existsSync(join(home, 'snap', snap))) return join(home, 'snap', snap, 'common', name);
  const flatpak = /^([A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+){2,})\.desktop$/.exec(browser)?.[1];
  if (flatpak && existsSync(join(home, '.var', 'app', flatpak))) return join(home, '.var', 'app', flatpak, 'cache', name);
  return undefined;
}

/** The desktop's handler for HTML, asked once per process (xdg-mime runs synchronously). */
let htmlHandler: { id: string | undefined } | undefined;

/** Which browser will open the page on Linux: $BROWSER's command, else the desktop's handler for HTML. */
function linuxBrowser(env: NodeJS.ProcessEnv): string | undefined {
  const configured = env.BROWSER?.trim();
  if (configured) {
    const [file, ...args] = shellWords(configured);
    if (file && basename(file) === 'flatpak' && args[0] === 'run' && args[1]) return `${args[1]}.desktop`;
    return file?.startsWith('/snap/bin/') ? file : undefined;
  }
  if (!htmlHandler) {
    try {
      const id = execFileSync('xdg-mime', ['query', 'default', 'text/html'], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }).trim();
      htmlHandler = { id };
    } catch {
      htmlHandler = { id: undefined };
    }
  }
  return htmlHandler.id;
}

/** Where the launch page goes: where the browser can read it, and only this user can. */
function launchFolder(env: NodeJS.ProcessEnv): string {
  if (process.platform === 'linux') {
    const sandboxed = sandboxFolderFor(linuxBrowser(env));
    if (sandboxed && ownPrivateFolder(sandboxed)) return sandboxed;
  }
  return runtimeDir(env);
}

/**
 * Writes a launch page for `url` (mode 0600, in a private folder the browser can read) and returns
 * its file:// URL, the only thing that goes on a command line.
 */
export function writeLaunchPage(url: string, dir: string = launchFolder(process.env)): string {
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

/**
 * Whether a command that opens the browser must get a launch page instead of the URL: wherever
 * another user can read command lines (Linux, the BSDs, macOS: `ps`). Not on Windows, where other
 * users cannot read a process's command line, and where %TEMP% is not checked like a Unix folder.
 */
export function needsLaunchPage(platform: NodeJS.Platform = process.platform): boolean {
  return platform !== 'win32';
}
