// Large values over several keychain entries. Windows Credential Manager holds at most 2,560 bytes
// per credential (and keyring stores UTF-16 there), while a token set with an ID token and claims
// easily passes that. (macOS Keychain and the Secret Service take far more: there a token set is one
// entry, written in one step.) A value longer than `maxChars` is written as parts under a fresh generation
// name, then the head entry is switched to point at them (the commit), then the old parts are
// removed: a crash at any point leaves either the old value or the new one readable.
import { ConnectError } from '../common/errors.js';
import type { SecretStore } from './store.js';

const MARK = 'connect-chunks:v1:';
/** 1,000 UTF-16 characters = 2,000 bytes: under Credential Manager's 2,560-byte limit. */
export const DEFAULT_MAX_CHARS = 1000;

/** The most characters one entry of this platform's keychain takes here. */
export function maxEntryChars(platform: NodeJS.Platform = process.platform): number {
  return platform === 'win32' ? DEFAULT_MAX_CHARS : 16_000;
}

interface Head {
  generation: string;
  count: number;
  digest: string;
}

function parseHead(value: string | null): Head | null {
  if (value === null || !value.startsWith(MARK)) return null;
  const [generation = '', count = '', digest = ''] = value.slice(MARK.length).split(':');
  const n = Number(count);
  if (!/^[0-9a-f]{12}$/.test(generation) || !Number.isInteger(n) || n < 1 || n > 1000 || !digest) return null;
  return { generation, count: n, digest };
}

const partName = (account: string, generation: string, index: number) => `${account}~${generation}~${index}`;
// node:crypto is loaded only for values split into parts: a start that reads one entry does without it.
const digestOf = async (value: string) => (await import('node:crypto')).createHash('sha256').update(value).digest('base64url');

export function chunkedStore(inner: SecretStore, maxChars: number = DEFAULT_MAX_CHARS): SecretStore {
  const removeParts = async (account: string, head: Head | null) => {
    if (!head) return;
    for (let i = 0; i < head.count; i++) await inner.delete(partName(account, head.generation, i));
  };

  return {
    async get(account) {
      const raw = await inner.get(account);
      if (raw === null || !raw.startsWith(MARK)) return raw;
      const head = parseHead(raw);
      const parts: string[] = [];
      for (let i = 0; head && i < head.count; i++) {
        const part = await inner.get(partName(account, head.generation, i));
        if (part === null) break;
        parts.push(part);
      }
      const value = parts.join('');
      if (!head || parts.length !== head.count || (await digestOf(value)) !== head.digest) {
        throw new ConnectError('stored_session_invalid', 'A saved keychain entry is incomplete or damaged; sign in again.');
      }
      return value;
    },

    async set(account, value) {
      const previous = parseHead(await inner.get(account));
      if (value.length <= maxChars && !value.startsWith(MARK)) {
        await inner.set(account, value);
      } else {
        const generation = (await import('node:crypto')).randomBytes(6).toString('hex');
        const count = Math.ceil(value.length / maxChars);
        for (let i = 0; i < count; i++) {
          await inner.set(partName(account, generation, i), value.slice(i * maxChars, (i + 1) * maxChars));
        }
        await inner.set(account, `${MARK}${generation}:${count}:${await digestOf(value)}`);
      }
      await removeParts(account, previous);
    },

    async list() {
      return (await inner.list()).filter((account) => !/~[0-9a-f]{12}~\d+$/.test(account));
    },

    async delete(account) {
      const head = parseHead(await inner.get(account));
      const existed = await inner.delete(account);
      await removeParts(account, head);
      return existed;
    },
  };
}
