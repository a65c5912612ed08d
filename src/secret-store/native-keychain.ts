// The keychain through @napi-rs/keyring (the keyring crate): Credential Manager on Windows, Keychain on
// macOS. Its calls run off this process's main thread. (Linux uses secret-service.ts instead: the
// library's Linux store connects to D-Bus synchronously, on the calling thread, where a hung bus would
// freeze the process.)
import { AsyncEntry, findCredentialsAsync } from '@napi-rs/keyring';

export type NativeOp = { op: 'get' | 'delete'; service: string; account: string } | { op: 'set'; service: string; account: string; value: string } | { op: 'list'; service: string };

export async function runNativeOp(request: NativeOp): Promise<string | boolean | string[] | null> {
  switch (request.op) {
    case 'get':
      return new AsyncEntry(request.service, request.account).getPassword();
    case 'set':
      await new AsyncEntry(request.service, request.account).setPassword(request.value);
      return null;
    case 'delete':
      return new AsyncEntry(request.service, request.account).deleteCredential();
    case 'list':
      return (await findCredentialsAsync(request.service)).map((c) => c.account);
  }
}
