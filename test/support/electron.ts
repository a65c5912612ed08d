// Where the Electron binary is, if this machine has one. Never requires the `electron` package: that
// would try to download the binary, which these build machines cannot do.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.js';

export function electronBinary(): string | undefined {
  const pkg = join(ROOT, 'node_modules/electron');
  const pathFile = join(pkg, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : undefined;
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  const candidate = override ? join(override, relative ?? 'electron') : relative ? join(pkg, 'dist', relative) : undefined;
  return candidate && existsSync(candidate) ? candidate : undefined;
}

export const NO_ELECTRON =
  'Electron binary not installed on this machine (it cannot be downloaded here); ' +
  'run `npx install-electron` on a desktop to run the Electron tests';
