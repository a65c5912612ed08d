// The app's identity, from identity.json at the project root: the one place that names the app. The
// build (build/electron-builder.config.mjs) declares `scheme` to macOS and registers it on Windows and
// Linux; the app registers and accepts that same scheme at run time. `npm run rename` rewrites it
// (build/rename.mjs), checking it with the same rules (identity-rules.ts).
import { readFileSync } from 'node:fs';
import { checkIdentity } from './identity-rules.js';

export { checkIdentity };

export interface AppIdentity {
  /** The name users see: window title, installer, menus. */
  productName: string;
  /** Reverse-DNS application id (macOS bundle id, Windows AppUserModelID). */
  appId: string;
  /** The custom URI scheme the build declares (CFBundleURLTypes on macOS, the installer on Windows). */
  scheme: string;
  /** The app's data folder (settings, window size) and the name of its private runtime folder. */
  folderName: string;
  /** The keychain service its tokens are kept under. */
  keychainService: string;
  /** The command-line tool's name, as its messages and help name it. */
  cliName: string;
  /** The icon electron-builder turns into each platform's format (a PNG, 512×512 or larger). */
  icon: string;
  /** The provider a first run starts with (null: the setup screen asks). */
  defaultProvider: DefaultProvider | null;
}

export interface DefaultProvider {
  issuer: string;
  clientId: string;
  /** How the browser returns to the app; omitted: the platform's default. */
  redirectKind?: 'loopback' | 'custom-scheme' | 'oob-auto' | 'oob';
}

/** dist/src/config/identity.js → identity.json three folders up (the project root, or the root of app.asar). */
export const IDENTITY: AppIdentity = checkIdentity(JSON.parse(readFileSync(new URL('../../../identity.json', import.meta.url), 'utf8')));
