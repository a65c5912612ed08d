// The app's identity, from identity.json at the project root: the one place that names the app. The
// build (build/electron-builder.config.mjs) declares `scheme` to macOS and registers it on Windows and
// Linux; the app registers and accepts that same scheme at run time.
import { readFileSync } from 'node:fs';

export interface AppIdentity {
  /** The name users see: window title, installer, menus. */
  productName: string;
  /** Reverse-DNS application id (macOS bundle id, Windows AppUserModelID). */
  appId: string;
  /** The custom URI scheme the build declares (CFBundleURLTypes on macOS, the installer on Windows). */
  scheme: string;
}

const SCHEME = /^[a-z][a-z0-9+.-]*$/;
const APP_ID = /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;

/** Checks an identity file's contents; throws naming the first bad field. */
export function checkIdentity(value: unknown): AppIdentity {
  const v = (value ?? {}) as Record<string, unknown>;
  const text = (key: keyof AppIdentity) => {
    const field = v[key];
    if (typeof field !== 'string' || !field.trim()) throw new Error(`identity.json: "${key}" must be a non-empty string`);
    return field;
  };
  const identity = { productName: text('productName'), appId: text('appId'), scheme: text('scheme') };
  if (!SCHEME.test(identity.scheme)) {
    throw new Error('identity.json: "scheme" must be a lower-case URI scheme (a letter, then letters, digits, "+", "-" or ".")');
  }
  if (!APP_ID.test(identity.appId)) throw new Error('identity.json: "appId" must be a reverse-DNS id such as com.example.app');
  return identity;
}

/** dist/src/identity.js → identity.json two folders up (the project root, or the root of app.asar). */
export const IDENTITY: AppIdentity = checkIdentity(JSON.parse(readFileSync(new URL('../../identity.json', import.meta.url), 'utf8')));
