// The app's provider settings: what the setup screen edits. Kept in a JSON file without secrets; a
// confidential client's secret goes to the keychain with the profile's client registration.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { FieldProblems, RedirectKindName, SettingsInput } from './app-api.js';
import { ConnectError } from './errors.js';
import { customSchemeRedirectUri } from './redirect-defaults.js';
import { DEFAULT_LOOPBACK_REDIRECT_URI, OOB, OOB_AUTO, classifyRedirectUri } from './redirect-uri.js';
import { resolveSettings, type ProviderSettings } from './settings.js';

/** Settings as stored: never a secret. */
export type StoredAppSettings = Omit<ProviderSettings, 'clientSecret'>;

export interface SettingsStore {
  load(): Promise<StoredAppSettings | null>;
  save(settings: StoredAppSettings): Promise<void>;
}

/** A JSON file only this user can read, replaced atomically. */
export function fileSettingsStore(path: string): SettingsStore {
  return {
    async load() {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch {
        return null;
      }
      try {
        const data = JSON.parse(text) as StoredAppSettings;
        return data && typeof data.issuer === 'string' && typeof data.clientId === 'string' ? data : null;
      } catch {
        return null;
      }
    },
    async save(settings) {
      const { clientSecret: _secret, ...safe } = settings as ProviderSettings;
      mkdirSync(dirname(path), { recursive: true });
      const temp = `${path}.${process.pid}.tmp`;
      writeFileSync(temp, `${JSON.stringify(safe, null, 2)}\n`, { mode: 0o600 });
      renameSync(temp, path);
    },
  };
}

export function memorySettingsStore(initial: StoredAppSettings | null = null): SettingsStore {
  let current = initial;
  return {
    load: async () => current,
    save: async (settings) => {
      current = { ...settings };
    },
  };
}

export function redirectKindOf(redirectUri: string): RedirectKindName {
  return classifyRedirectUri(redirectUri).kind;
}

/** The redirect URI for a kind (the custom scheme per the provider's docs: `<client-id>://…`). */
export function redirectUriFor(kind: RedirectKindName, clientId: string, keep?: string): string {
  if (keep && redirectKindOf(keep) === kind) return keep;
  switch (kind) {
    case 'loopback':
      return DEFAULT_LOOPBACK_REDIRECT_URI;
    case 'custom-scheme':
      return customSchemeRedirectUri(clientId);
    case 'oob-auto':
      return OOB_AUTO;
    case 'oob':
      return OOB;
  }
}

const KINDS: RedirectKindName[] = ['loopback', 'custom-scheme', 'oob-auto', 'oob'];

/** One message per field of the setup form; no network. */
export function checkSettingsInput(input: SettingsInput): FieldProblems {
  const problems: FieldProblems = {};
  const issuer = input.issuer?.trim() ?? '';
  if (!issuer) problems.issuer = 'Enter the provider\'s issuer URL, or your e-mail address to find it.';
  else if (!issuer.includes('@')) {
    try {
      resolveSettings({ issuer, clientId: 'x' });
    } catch (error) {
      problems.issuer = (error as ConnectError).message;
    }
  }
  const clientId = input.clientId?.trim() ?? '';
  if (!clientId) problems.clientId = 'Enter the client id the provider gave this app.';
  if (!KINDS.includes(input.redirectKind)) problems.redirectKind = 'Choose how the browser returns to the app.';
  else if (clientId && input.redirectKind === 'custom-scheme') {
    try {
      customSchemeRedirectUri(clientId);
    } catch (error) {
      problems.redirectKind = (error as ConnectError).message;
    }
  }
  const scopes = (input.scope ?? '').trim().split(/\s+/).filter(Boolean);
  if (!scopes.includes('openid')) problems.scope = 'The scopes must include "openid".';
  return problems;
}

export function problemsError(problems: FieldProblems): ConnectError {
  return new ConnectError('invalid_settings', Object.values(problems).join(' '));
}
