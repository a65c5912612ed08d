// The JSON settings file shared by the CLI (--config FILE) and the app (connect.config.json).
import type { DpopMode } from '../provider/dpop.js';
import { BoundedFileError, readBoundedFileSync } from '../common/bounded-file.js';
import { ConnectError } from '../common/errors.js';
import type { ProviderEndpoints, ProviderSettings } from './settings.js';

export interface ConfigFile {
  issuer?: string;
  clientId?: string;
  /** Name of the environment variable that holds a confidential client's secret. */
  clientSecretEnv?: string;
  redirectUri?: string;
  scope?: string;
  profile?: string;
  /** Seconds to wait for the browser. */
  timeout?: number;
  endpoints?: ProviderEndpoints;
  /** Single sign-on logout: "browser" (default) or "token". */
  logoutMethod?: 'browser' | 'token';
  postLogoutRedirectUri?: string;
  /** Seconds to wait for each answer from the provider (default 30). */
  requestTimeout?: number;
  /** Origins besides the issuer's that `fetch` may send the access token to. */
  resourceOrigins?: string[];
  /** Sender-constrained tokens: "auto", "on" or "off" (DPoP, RFC 9449). */
  dpop?: DpopMode;
}

const KEYS: Record<keyof ConfigFile, 'string' | 'number' | 'object'> = {
  issuer: 'string',
  clientId: 'string',
  clientSecretEnv: 'string',
  redirectUri: 'string',
  scope: 'string',
  profile: 'string',
  timeout: 'number',
  endpoints: 'object',
  logoutMethod: 'string',
  postLogoutRedirectUri: 'string',
  requestTimeout: 'number',
  resourceOrigins: 'object',
  dpop: 'string',
};

export function readConfigFile(path: string): ConfigFile {
  const bad = (why: string) => new ConnectError('invalid_settings', `The settings file "${path}" ${why}.`);
  let text: string;
  try {
    // A regular file of at most 1 MB, without its byte-order mark: `--config /dev/zero` or a FIFO is refused at once.
    text = readBoundedFileSync(path);
  } catch (error) {
    throw bad(error instanceof BoundedFileError ? error.reason : `cannot be read (${String(error)})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    throw bad(`is not valid JSON: ${(error as Error).message}`);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw bad('must hold a JSON object');
  for (const [key, value] of Object.entries(data)) {
    const expected = KEYS[key as keyof ConfigFile];
    if (!expected) throw bad(`has an unknown key "${key}" (known: ${Object.keys(KEYS).join(', ')})`);
    if (typeof value !== expected || value === null) throw bad(`has "${key}" of the wrong type (expected a ${expected})`);
  }
  return data as ConfigFile;
}

/**
 * The provider settings a file describes, with the secret read from the variable it names.
 * Throws `invalid_settings` when that variable is empty or not set.
 */
export function settingsFromConfig(config: ConfigFile, env: NodeJS.ProcessEnv): ProviderSettings {
  let clientSecret: string | undefined;
  if (config.clientSecretEnv !== undefined) {
    clientSecret = env[config.clientSecretEnv];
    if (!clientSecret) {
      throw new ConnectError('invalid_settings', `--client-secret-env names ${config.clientSecretEnv}, but that environment variable is empty or not set`);
    }
  }
  return {
    issuer: config.issuer ?? '',
    clientId: config.clientId ?? '',
    ...(clientSecret ? { clientSecret } : {}),
    ...(config.redirectUri ? { redirectUri: config.redirectUri } : {}),
    ...(config.scope ? { scope: config.scope } : {}),
    ...(config.endpoints ? { endpoints: config.endpoints } : {}),
    ...(config.logoutMethod ? { logoutMethod: config.logoutMethod } : {}),
    ...(config.postLogoutRedirectUri ? { postLogoutRedirectUri: config.postLogoutRedirectUri } : {}),
    ...(config.requestTimeout !== undefined ? { requestTimeoutSeconds: config.requestTimeout } : {}),
    ...(config.resourceOrigins !== undefined ? { resourceOrigins: config.resourceOrigins } : {}),
    ...(config.dpop !== undefined ? { dpop: config.dpop } : {}),
  };
}
