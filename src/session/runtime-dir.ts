// A folder only this user can use, for the hand-off socket, the profile locks and the browser's
// launch pages. It must be one no other local user could have made or pointed elsewhere first: in a
// shared /tmp anyone can create /tmp/connect-desktop-<uid> (as a folder of theirs, or a symlink)
// before this user does. So each candidate is checked (a real folder, not a link, owned by this user,
// mode 0700), and the next one is tried when it fails: $XDG_RUNTIME_DIR (per user, made by the
// login manager), the temp folder (per user on macOS and Windows), then ~/.cache/connect-desktop/run.
import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import { homedir, tmpdir, userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { ConnectError } from '../common/errors.js';
import { IDENTITY } from '../config/identity.js';

/** Why a failed file operation failed, in words (for messages that name the folder before it). */
export function fileSystemCause(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EROFS':
      return 'the folder is read-only';
    case 'ENOSPC':
      return 'the disk is full';
    case 'EDQUOT':
      return "the user's disk quota is used up";
    case 'EACCES':
    case 'EPERM':
      return 'this user is not allowed to write there';
    case 'ENOENT':
      return 'the folder does not exist (any more)';
    default:
      return code ? `the system refused (${code})` : String((error as Error | undefined)?.message ?? error);
  }
}

/** Why `dir` cannot be this user's private folder (made if needed), or null when it is one. */
function privateFolderProblem(dir: string): string | null {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    return `${dir} cannot be made (${fileSystemCause(error)})`;
  }
  try {
    const stat = lstatSync(dir);
    if (!stat.isDirectory() || stat.isSymbolicLink()) return `${dir} is a link or not a folder`;
    if (process.getuid && stat.uid !== process.getuid()) return `${dir} belongs to another user`;
    if (process.platform !== 'win32') {
      try {
        chmodSync(dir, 0o700);
      } catch (error) {
        return `${dir} cannot be made private (${fileSystemCause(error)})`;
      }
      if ((lstatSync(dir).mode & 0o077) !== 0) return `${dir} stays open to others`;
    }
    return null;
  } catch (error) {
    return `${dir} cannot be checked (${fileSystemCause(error)})`;
  }
}

/** Makes `dir` (and its parents) if needed; true when it is a real folder of this user's, mode 0700. */
export function ownPrivateFolder(dir: string): boolean {
  return privateFolderProblem(dir) === null;
}

/** The folders tried, in order. */
export function runtimeDirCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const name = `${IDENTITY.folderName}-${process.getuid?.() ?? userInfo().username}`;
  const unix = process.platform !== 'win32';
  // XDG_RUNTIME_DIR is a Unix convention; on Windows a stray one (MSYS, Cygwin) would be a Unix path.
  // Only absolute folders: Node's tmpdir() on Windows is "undefined\\temp" (relative to wherever
  // the process runs) when TEMP, TMP and SystemRoot are all unset, as under Wine from a Unix shell.
  return [
    ...(unix && env.XDG_RUNTIME_DIR ? [join(env.XDG_RUNTIME_DIR, name)] : []),
    join(tmpdir(), name),
    ...(unix ? [join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), IDENTITY.folderName, 'run')] : []),
    ...(!unix ? [join(env.LOCALAPPDATA || homedir(), IDENTITY.folderName, 'run')] : []),
  ].filter((dir) => isAbsolute(dir));
}

/** This user's private folder; throws `runtime_dir_unavailable`, saying why for each candidate, when none can be. */
export function runtimeDir(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = runtimeDirCandidates(env);
  const problems: string[] = [];
  for (const dir of candidates) {
    const problem = privateFolderProblem(dir);
    if (!problem) return dir;
    problems.push(problem);
  }
  throw new ConnectError(
    'runtime_dir_unavailable',
    `None of the folders ${candidates.join(', ')} can be this user's private folder (each is missing and cannot be made, ` +
      `belongs to someone else, is a link, or is open to others): ${problems.join('; ')}.`,
  );
}
