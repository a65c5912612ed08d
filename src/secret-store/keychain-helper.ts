// The keychain helper process (Linux): runs @napi-rs/keyring calls for its parent. The Secret
// Service is reached over D-Bus, and the library connects synchronously: a bus or keyring daemon
// that never answers would freeze the caller's event loop for good (and keep it from exiting). Here
// it can only freeze this helper, which the parent kills after its timeout.
import { AsyncEntry, findCredentialsAsync, type EntryOptions } from '@napi-rs/keyring';

export interface HelperRequest {
  id: number;
  op: 'get' | 'set' | 'delete' | 'list';
  service: string;
  account?: string;
  value?: string;
}

export type HelperResponse = { id: number; ok: true; value: string | boolean | string[] | null } | { id: number; ok: false; message: string };

const OPTIONS: EntryOptions = { linux: { store: 'secret-service' } };

export async function runKeychainOp(request: HelperRequest): Promise<string | boolean | string[] | null> {
  const entry = () => new AsyncEntry(request.service, request.account ?? '', OPTIONS);
  switch (request.op) {
    case 'get':
      return entry().getPassword();
    case 'set':
      await entry().setPassword(request.value ?? '');
      return null;
    case 'delete':
      return entry().deleteCredential();
    case 'list':
      return (await findCredentialsAsync(request.service)).map((c) => c.account);
  }
}

function answer(request: HelperRequest, reply: (response: HelperResponse) => void): void {
  runKeychainOp(request).then(
    (value) => reply({ id: request.id, ok: true, value }),
    (error: unknown) =>
      reply({ id: request.id, ok: false, message: error instanceof Error ? (error.message.split('\n')[0] ?? 'error') : String(error) }),
  );
}

interface ParentPort {
  on(event: 'message', listener: (event: { data: HelperRequest }) => void): void;
  postMessage(message: unknown): void;
}

if (process.argv.includes('--connect-keychain-helper')) {
  // An Electron utility process talks through process.parentPort; a Node child through process.send.
  const parentPort = (process as unknown as { parentPort?: ParentPort }).parentPort;
  if (parentPort) {
    parentPort.on('message', (event) => answer(event.data, (response) => parentPort.postMessage(response)));
  } else if (process.send) {
    process.on('message', (request: HelperRequest) => answer(request, (response) => process.send?.(response)));
    process.on('disconnect', () => process.exit(0));
  }
}
