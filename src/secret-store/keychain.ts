// The OS keychain through @napi-rs/keyring's keytar-compatible entry API: Credential Manager on
// Windows, Keychain on macOS, Secret Service on Linux. On Linux the store is pinned to Secret Service:
// the library's default silently falls back to the kernel keyring, which loses everything at logout.
import { AsyncEntry, type EntryOptions } from '@napi-rs/keyring';
import { ConnectError } from '../errors.js';
import { chunkedStore } from './chunked.js';
import type { SecretStore } from './store.js';

export const DEFAULT_SERVICE = 'connect-desktop';

const ENTRY_OPTIONS: EntryOptions = { linux: { store: 'secret-service' } };

function storeName(platform: NodeJS.Platform): string {
  if (platform === 'win32') return 'Windows Credential Manager';
  if (platform === 'darwin') return 'macOS Keychain';
  return 'Secret Service keyring (GNOME Keyring, KWallet)';
}

function unavailable(action: string, error: unknown): ConnectError {
  const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
  return new ConnectError(
    'keychain_unavailable',
    `Could not ${action} the ${storeName(process.platform)}: ${reason}. Tokens are kept only in the system keychain, ` +
      'never in a plain file; unlock or start the keychain and try again.',
    { cause: error },
  );
}

/** The OS keychain, with values too large for one entry (Windows) split across several. */
export function keychainStore(service: string = DEFAULT_SERVICE): SecretStore {
  return chunkedStore(keychainEntries(service));
}

/** One keychain entry per account, as the OS stores it. */
export function keychainEntries(service: string = DEFAULT_SERVICE): SecretStore {
  const entry = (account: string) => new AsyncEntry(service, account, ENTRY_OPTIONS);
  return {
    async get(account) {
      try {
        return await entry(account).getPassword();
      } catch (error) {
        throw unavailable('read from', error);
      }
    },
    async set(account, value) {
      try {
        await entry(account).setPassword(value);
      } catch (error) {
        throw unavailable('write to', error);
      }
    },
    async delete(account) {
      try {
        return await entry(account).deleteCredential();
      } catch (error) {
        throw unavailable('delete from', error);
      }
    },
  };
}
