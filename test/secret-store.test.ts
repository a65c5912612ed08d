// The keychain seam against the real Secret Service (a throwaway GNOME Keyring in the test session).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import type { ConnectError } from '../src/errors.js';
import { chunkedStore } from '../src/secret-store/chunked.js';
import { keychainEntries, keychainStore } from '../src/secret-store/keychain.js';

const SERVICE = 'connect-desktop-tests';
const account = () => `test-${randomBytes(4).toString('hex')}`;

describe('OS keychain', () => {
  test('write, read, overwrite and delete an entry', async () => {
    const store = keychainStore(SERVICE);
    const name = account();
    assert.equal(await store.get(name), null);
    await store.set(name, 'first');
    assert.equal(await store.get(name), 'first');
    await store.set(name, 'second');
    assert.equal(await store.get(name), 'second');
    assert.equal(await store.delete(name), true);
    assert.equal(await store.get(name), null);
    assert.equal(await store.delete(name), false);
  });
  test('a token set of several kilobytes is one entry here (the Secret Service has no small limit)', async () => {
    const store = keychainStore(SERVICE);
    const raw = keychainEntries(SERVICE);
    const name = account();
    const tokenSet = JSON.stringify({ idToken: 'i'.repeat(6000), accessToken: 'a'.repeat(3000) });
    await store.set(name, tokenSet);
    assert.equal(await raw.get(name), tokenSet, 'stored as is, in one step');
    assert.deepEqual((await raw.list()).filter((entry) => entry.startsWith(name)), [name]);
    await store.delete(name);
  });
  // An unreachable keychain is tested through the CLI, in a process of its own (cli-login.test.ts):
  // the library keeps one D-Bus connection per process.
});

describe('values larger than one entry holds (Windows Credential Manager: 2,560 bytes)', () => {
  const raw = keychainEntries(SERVICE);

  test('are split across entries, read back whole, and the parts go with the value', async () => {
    const store = chunkedStore(raw, 50);
    const name = account();
    const big = 'x'.repeat(120) + '€'.repeat(30);
    await store.set(name, big);
    assert.equal(await store.get(name), big);
    const head = (await raw.get(name)) ?? '';
    assert.match(head, /^connect-chunks:v1:[0-9a-f]{12}:3:/, 'the entry itself is a small head');
    const generation = head.split(':')[2];
    assert.equal((await raw.get(`${name}~${generation}~2`))?.length, 50);

    // Overwriting with a small value removes the old parts.
    await store.set(name, 'small');
    assert.equal(await store.get(name), 'small');
    assert.equal(await raw.get(`${name}~${generation}~0`), null);

    // Overwriting large with large switches generations and leaves no stray parts behind.
    await store.set(name, big);
    const second = (await raw.get(name))?.split(':')[2];
    await store.set(name, `${big}!`);
    assert.equal(await store.get(name), `${big}!`);
    assert.equal(await raw.get(`${name}~${second}~0`), null);

    assert.equal(await store.delete(name), true);
    assert.equal(await raw.get(name), null);
  });

  test('a missing or altered part is reported as damaged, never returned', async () => {
    const store = chunkedStore(raw, 10);
    const name = account();
    await store.set(name, 'abcdefghijklmnopqrstuvwxyz');
    const generation = (await raw.get(name))?.split(':')[2];
    await raw.set(`${name}~${generation}~1`, 'tampered!!');
    await assert.rejects(store.get(name), (e: ConnectError) => e.code === 'stored_session_invalid');
    await raw.delete(`${name}~${generation}~1`);
    await assert.rejects(store.get(name), (e: ConnectError) => e.code === 'stored_session_invalid');
    await store.delete(name);
  });
});
