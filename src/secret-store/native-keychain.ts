// The keychain through @napi-rs/keyring (the keyring crate): Credential Manager on Windows, Keychain on
// macOS. Its calls run off this process's main thread. (Linux uses secret-service.ts instead: the
// library's Linux store connects to D-Bus synchronously, on the calling thread, where a hung bus would
// freeze the process.)
import { AsyncEntry, findCredentialsAsync } from '@napi-rs/keyring';

/** The OS keychain's entries for one service name, one per account (errors as the library throws them). */
export function nativeEntries(service: string) {
  return {
    get: (account: string): Promise<string | null> => new AsyncEntry(service, account).getPassword(),
    set: (account: string, value: string): Promise<void> => new AsyncEntry(service, account).setPassword(value),
    delete: (account: string): Promise<boolean> => new AsyncEntry(service, account).deleteCredential(),
    list: async (): Promise<string[]> => (await findCredentialsAsync(service)).map((c) => c.account),
  };
}
