// A process that renews a profile's tokens and is killed (SIGKILL, as by a crash or kill -9) at a
// chosen keychain write: `node refresh-and-die.js PROFILE set:N|head|delete:N`. The vault is laid
// out as on Windows (a token set split over several entries, then committed), the layout with the
// most steps to interrupt.
import { getAccessToken } from '../../src/steps/access-token.js';
import { DEFAULT_MAX_CHARS, chunkedStore } from '../../src/secret-store/chunked.js';
import { keychainEntries } from '../../src/secret-store/keychain.js';
import type { SecretStore } from '../../src/secret-store/store.js';
import { TokenStore } from '../../src/session/token-store.js';

const [profile = '', point = ''] = process.argv.slice(2);
const [op, at] = point.split(':');
const counts = { set: 0, delete: 0 };
const inner = keychainEntries();
const dying: SecretStore = {
  ...inner,
  set: async (account, value) => {
    if (op === 'set' && counts.set++ === Number(at)) process.kill(process.pid, 'SIGKILL');
    // 'head': just before the entry that switches to the new token set (the commit) is written.
    if (op === 'head' && value.startsWith('connect-chunks:')) process.kill(process.pid, 'SIGKILL');
    return inner.set(account, value);
  },
  delete: async (account) => {
    if (op === 'delete' && counts.delete++ === Number(at)) process.kill(process.pid, 'SIGKILL');
    return inner.delete(account);
  },
};
// The signed-in token set, rewritten in the Windows layout (parts and a head) before the refresh.
const windowsLayout = new TokenStore(chunkedStore(inner, DEFAULT_MAX_CHARS));
const session = await windowsLayout.load(profile);
if (!session) throw new Error(`profile ${profile} is not signed in`);
await windowsLayout.save(profile, session);
await getAccessToken(new TokenStore(chunkedStore(dying, DEFAULT_MAX_CHARS)), profile, { force: true });
console.log('refreshed without dying');
