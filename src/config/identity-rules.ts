// The rules an identity.json must meet, apart from reading it: src/identity.ts reads the file with
// them, and `npm run rename` (build/rename.mjs, from the build) checks a new identity with them.
import type { AppIdentity, DefaultProvider } from './identity.js';
import { UNUSABLE_SCHEMES } from './redirect-uri.js';

const SCHEME = /^[a-z][a-z0-9+.-]*$/;
const APP_ID = /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/;
const FOLDER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}[A-Za-z0-9_-]$|^[A-Za-z0-9]$/;
/** Names Windows keeps for devices: not usable as a folder name there. */
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;
/** A name for menus, installers and registry values: no control characters, quotes or path characters. */
// eslint-disable-next-line no-control-regex -- refusing control characters is the point
const PRODUCT_NAME = /^[^\u0000-\u001f\u007f"\\$/:*?<>|`]{1,64}$/;
const KINDS = ['loopback', 'custom-scheme', 'oob-auto', 'oob'];

/** Checks an identity file's contents; throws naming the first bad field. */
export function checkIdentity(value: unknown): AppIdentity {
  const v = (value ?? {}) as Record<string, unknown>;
  const text = (key: keyof AppIdentity) => {
    const field = v[key];
    if (typeof field !== 'string' || !field.trim()) throw new Error(`identity.json: "${key}" must be a non-empty string`);
    return field;
  };
  const identity: AppIdentity = {
    productName: text('productName'),
    appId: text('appId'),
    scheme: text('scheme'),
    folderName: text('folderName'),
    keychainService: text('keychainService'),
    cliName: text('cliName'),
    icon: text('icon'),
    defaultProvider: null,
  };
  if (!SCHEME.test(identity.scheme) || UNUSABLE_SCHEMES.includes(identity.scheme)) {
    throw new Error('identity.json: "scheme" must be a lower-case URI scheme of its own (a letter, then letters, digits, "+", "-" or ".")');
  }
  if (!APP_ID.test(identity.appId)) throw new Error('identity.json: "appId" must be a reverse-DNS id such as com.example.app');
  if (!PRODUCT_NAME.test(identity.productName) || identity.productName !== identity.productName.trim()) {
    throw new Error('identity.json: "productName" must be 1 to 64 characters, without quotes, "$", "`", path characters (\\ / : * ? < > |) or control characters');
  }
  for (const key of ['folderName', 'keychainService', 'cliName'] as const) {
    if (!FOLDER.test(identity[key]) || RESERVED.test(identity[key])) {
      throw new Error(`identity.json: "${key}" must be a plain name (letters, digits, ".", "_", "-"; at most 64; not ending in "."; not a Windows device name)`);
    }
  }
  const provider = v.defaultProvider as Record<string, unknown> | null | undefined;
  if (provider) {
    if (typeof provider.issuer !== 'string' || typeof provider.clientId !== 'string') {
      throw new Error('identity.json: "defaultProvider" needs "issuer" and "clientId"');
    }
    if (provider.redirectKind !== undefined && !KINDS.includes(provider.redirectKind as string)) {
      throw new Error(`identity.json: "defaultProvider.redirectKind" must be one of ${KINDS.join(', ')}`);
    }
    try {
      const url = new URL(provider.issuer);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http(s)');
    } catch {
      throw new Error('identity.json: "defaultProvider.issuer" must be the provider\'s issuer URL');
    }
    // The custom scheme is <client-id>://…, and the app receives only the scheme its build declares.
    if (provider.redirectKind === 'custom-scheme' && provider.clientId.toLowerCase() !== identity.scheme) {
      throw new Error('identity.json: "defaultProvider" uses the custom scheme, so its "clientId" must be the "scheme" (the redirect is <client-id>://connect/oauth2callback)');
    }
    identity.defaultProvider = provider as unknown as DefaultProvider;
  }
  return identity;
}

