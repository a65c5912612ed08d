// Where the Electron binary is, if this machine has one: the same rule as the `electron` package's
// own (node_modules/electron/index.js), without its fallback of downloading the binary, which these
// build machines cannot do. ELECTRON_OVERRIDE_DIST_PATH names an unpacked Electron folder.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './cli.js';

/** The executable inside an unpacked Electron, as the package's install.js writes it to path.txt. */
function executableIn(platform: NodeJS.Platform): string {
  if (platform === 'win32') return 'electron.exe';
  if (platform === 'darwin') return 'Electron.app/Contents/MacOS/Electron';
  return 'electron';
}

export function electronBinary(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string | undefined {
  const pkg = join(ROOT, 'node_modules/electron');
  const pathFile = join(pkg, 'path.txt');
  const relative = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : executableIn(platform);
  const override = env.ELECTRON_OVERRIDE_DIST_PATH;
  const candidate = override ? join(override, relative) : join(pkg, 'dist', relative);
  return existsSync(candidate) ? candidate : undefined;
}

export const NO_ELECTRON =
  'Electron binary not installed on this machine (it cannot be downloaded here); ' +
  'run `npx install-electron` on a desktop, or set ELECTRON_OVERRIDE_DIST_PATH to an unpacked Electron, to run the Electron tests';

/** What `npm start` and `npm run app` say when there is no binary, instead of a download's stack trace. */
export function noElectronAdvice(env: NodeJS.ProcessEnv = process.env): string {
  const where = env.ELECTRON_OVERRIDE_DIST_PATH
    ? `ELECTRON_OVERRIDE_DIST_PATH is ${env.ELECTRON_OVERRIDE_DIST_PATH}, but there is no ${executableIn(process.platform)} in it.`
    : 'The electron package downloads its binary when it is installed, and that download has not happened here (no network, or install scripts were skipped).';
  return [
    'error: the Electron binary is missing, so the app cannot start.',
    `  ${where}`,
    '  To get one: on a machine with network access run `npx install-electron`, or point',
    '  ELECTRON_OVERRIDE_DIST_PATH at an unpacked Electron 45 (the folder that holds its executable).',
    '  The CLI and the library work without Electron: `npm run provider` starts the demo provider, then',
    '  `node dist/src/bundle/connect-login.js login --issuer http://127.0.0.1:9090 --client-id com.example.connect-desktop`.',
  ].join('\n');
}
