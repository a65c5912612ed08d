// A folder only this user can use, for the hand-off socket and the profile locks.
import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { ConnectError } from './errors.js';

export function runtimeDir(env: NodeJS.ProcessEnv = process.env): string {
  // XDG_RUNTIME_DIR is a Unix convention; on Windows a stray one (MSYS, Cygwin) would be a Unix path.
  const base = process.platform !== 'win32' && env.XDG_RUNTIME_DIR ? env.XDG_RUNTIME_DIR : tmpdir();
  const dir = join(base, `connect-desktop-${process.getuid?.() ?? userInfo().username}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stat = lstatSync(dir);
  if (!stat.isDirectory() || (process.getuid && stat.uid !== process.getuid())) {
    throw new ConnectError('invalid_settings', `The folder ${dir} is not this user's own; connect-desktop will not use it.`);
  }
  if (process.platform !== 'win32') chmodSync(dir, 0o700);
  return dir;
}
