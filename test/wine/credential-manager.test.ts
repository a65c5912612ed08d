// The secret store on Windows, for real: @napi-rs/keyring's Windows build against Wine's Credential
// Manager, run by node.exe. A token set far larger than one credential holds (2,560 bytes) is split,
// read back by another process, and deleted; a value over the limit in one entry is refused with
// our typed error.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import type { ConnectError } from '../../src/common/errors.js';
import { DEFAULT_MAX_CHARS, maxEntryChars } from '../../src/secret-store/chunked.js';
import { keychainEntries, keychainStore } from '../../src/secret-store/keychain.js';
import type { StoredSession } from '../../src/session/session.js';
import { TokenStore } from '../../src/session/token-store.js';

const SERVICE = 'connect-desktop-wine-tests';
const run = promisify(execFile);
const digest = (text: string) => createHash('sha256').update(text).digest('hex');

/** Another node.exe reads the profile through the project's vault and prints what it found. */
async function readInAnotherProcess(profile: string): Promise<{ accessTokenDigest: string | null }> {
  const script = `
    const { TokenStore } = await import(${JSON.stringify(new URL('../../src/session/token-store.js', import.meta.url).href)});
    const { keychainStore } = await import(${JSON.stringify(new URL('../../src/secret-store/keychain.js', import.meta.url).href)});
    const { createHash } = await import('node:crypto');
    const session = await new TokenStore(keychainStore(${JSON.stringify(SERVICE)})).load(${JSON.stringify(profile)});
    const found = { accessTokenDigest: session ? createHash('sha256').update(session.accessToken).digest('hex') : null };
    (await import('node:fs')).writeFileSync(process.argv[1], JSON.stringify(found));`;
  const out = join(tmpdir(), `connect-read-${randomBytes(4).toString('hex')}.json`);
  await run(process.execPath, ['--input-type=module', '-e', script, out], { windowsHide: true });
  return JSON.parse(readFileSync(out, 'utf8')) as { accessTokenDigest: string | null };
}

describe('Windows Credential Manager', () => {
  test('one credential holds 1,000 characters here', () => {
    assert.equal(process.platform, 'win32');
    assert.equal(maxEntryChars(), DEFAULT_MAX_CHARS);
  });

  test('a 16 KB token set is saved, read back whole by another process, and deleted with all its parts', async () => {
    const store = new TokenStore(keychainStore(SERVICE));
    const profile = `wine-${randomBytes(4).toString('hex')}`;
    const session: StoredSession = {
      version: 2,
      settings: { issuer: 'https://connect.example', clientId: 'com.example.connect-desktop', redirectUri: 'urn:ietf:wg:oauth:2.0:oob:auto', scope: 'openid profile email offline_access' },
      scope: 'openid profile email offline_access',
      sub: 'alice',
      claims: { sub: 'alice', name: 'Zoë Ålander', groups: Array.from({ length: 200 }, (_, i) => `group-${i}`) },
      accessToken: randomBytes(8000).toString('base64url'),
      tokenType: 'Bearer',
      expiresAt: null,
      refreshToken: randomBytes(600).toString('base64url'),
      idToken: randomBytes(3000).toString('base64url'),
      obtainedAt: 1,
    };
    assert.ok(JSON.stringify(session).length > 16_000);
    await store.save(profile, session);
    assert.deepEqual(await store.load(profile), session);
    assert.deepEqual(await readInAnotherProcess(profile), { accessTokenDigest: digest(session.accessToken) });

    // The credential itself is a small head naming its parts, each under the 2,560-byte limit.
    const raw = keychainEntries(SERVICE);
    const account = `profile:${profile}:session`;
    const head = (await raw.get(account)) ?? '';
    const [, , generation = '', count = '0'] = head.split(':');
    assert.match(head, /^connect-chunks:v1:[0-9a-f]{12}:\d+:/);
    const parts = Array.from({ length: Number(count) }, (_, i) => `${account}~${generation}~${i}`);
    assert.ok(parts.length >= 16, `split over ${parts.length} credentials`);
    for (const part of parts) assert.ok(((await raw.get(part)) ?? '').length <= DEFAULT_MAX_CHARS);

    await store.remove(profile);
    assert.equal(await store.load(profile), null);
    assert.deepEqual(await readInAnotherProcess(profile), { accessTokenDigest: null });
    for (const part of parts) assert.equal(await raw.get(part), null, 'no part is left behind');
  });

  test('one credential over the limit is refused with a clear keychain_unavailable error, and the old value stays', async () => {
    const raw = keychainEntries(SERVICE);
    const name = `wine-${randomBytes(4).toString('hex')}`;
    await raw.set(name, 'small');
    await assert.rejects(raw.set(name, 'x'.repeat(1300)), (error: ConnectError) => {
      assert.equal(error.code, 'keychain_unavailable');
      assert.match(error.message, /^Could not write to the Windows Credential Manager: .+\. Tokens are kept only in the system keychain, never in a plain file/);
      return true;
    });
    assert.equal(await raw.get(name), 'small');
    await raw.delete(name);
  });
});
