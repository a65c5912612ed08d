// The app's settings file (fileSettingsStore) on real files: a damaged file is never loaded as "not
// configured" nor replaced by a save; starting over keeps it as a backup; a full or read-only disk
// is a clear `settings_not_saved` with no temp file left and the old file intact (a real tmpfs,
// filled, and remounted read-only, in a user and mount namespace of its own).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SettingsFileError, fileSettingsStore, type StoredAppSettings } from '../src/app/app-settings.js';
import { ROOT } from './support/cli.js';

const GOOD: StoredAppSettings = { issuer: 'https://connect.example', clientId: 'com.example.app', scope: 'openid', redirectUri: 'http://127.0.0.1/connect/oauth2callback' };
const OTHER: StoredAppSettings = { ...GOOD, clientId: 'com.example.other' };

function settingsPath(): string {
  return join(mkdtempSync(join(tmpdir(), 'connect-app-settings-')), 'connect.config.json');
}

/** Each way a settings file is found damaged, made on disk. */
const DAMAGE: Record<string, (path: string) => void> = {
  'truncated JSON': (path) => writeFileSync(path, JSON.stringify(GOOD, null, 2).slice(0, 40)),
  'invalid JSON': (path) => writeFileSync(path, '{ issuer: https://connect.example }'),
  'JSON without the settings': (path) => writeFileSync(path, '["https://connect.example"]'),
  '10 MB of junk': (path) => writeFileSync(path, Buffer.alloc(10 * 1024 * 1024, 0x5a)),
  'a folder in its place': (path) => mkdirSync(path),
};

async function codeOf(work: () => Promise<unknown>): Promise<{ code: string; message: string; file?: string }> {
  try {
    await work();
  } catch (error) {
    assert.ok(error instanceof SettingsFileError, String(error));
    return { code: error.code, message: error.message, file: error.file };
  }
  return { code: 'no error', message: '' };
}

/** What is at a path, to compare before and after: the bytes of a file, or "folder". */
const snapshot = (path: string) => (statSync(path).isDirectory() ? 'folder' : readFileSync(path).toString('base64'));

describe('the app settings file', () => {
  test('missing: not configured (null); saved: read back, a byte-order mark allowed', async () => {
    const path = settingsPath();
    const store = fileSettingsStore(path);
    assert.equal(await store.load(), null);
    assert.equal(await store.startOver(), null, 'nothing to move aside');
    await store.save(GOOD);
    assert.deepEqual(await store.load(), GOOD);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(join(path, '..')), ['connect.config.json'], 'no temp file left');
    writeFileSync(path, `\uFEFF${JSON.stringify(GOOD)}`);
    assert.deepEqual(await store.load(), GOOD);
    assert.equal(await store.startOver(), null, 'settings that are fine are never moved');
    assert.ok(existsSync(path));
  });

  for (const [name, damage] of Object.entries(DAMAGE)) {
    test(`${name}: settings_damaged naming the file; a save is refused and the file unchanged; start over keeps it`, async () => {
      const path = settingsPath();
      damage(path);
      const before = snapshot(path);
      const store = fileSettingsStore(path);

      const loaded = await codeOf(() => store.load());
      assert.equal(loaded.code, 'settings_damaged');
      assert.equal(loaded.file, path);
      assert.ok(loaded.message.startsWith(`The settings file "${path}" `), loaded.message);
      assert.match(loaded.message, /It has been left as it is\.$/);

      const saved = await codeOf(() => store.save(OTHER));
      assert.equal(saved.code, 'settings_damaged');
      assert.match(saved.message, /the new settings were not saved: choose Start over/);
      assert.equal(snapshot(path), before, 'byte for byte as it was');
      assert.deepEqual(readdirSync(join(path, '..')), ['connect.config.json'], 'no temp file left');

      const backup = (await store.startOver()) as string;
      assert.ok(backup?.startsWith(`${path}.damaged-`), String(backup));
      assert.equal(snapshot(backup), before, 'the backup holds what the user had');
      assert.equal(existsSync(path), false);
      assert.equal(await store.load(), null);
      await store.save(OTHER);
      assert.deepEqual(await store.load(), OTHER);
      assert.equal(snapshot(backup), before, 'and the save did not touch it');
    });
  }

  test('the messages say what is wrong', async () => {
    const message = async (damage: (path: string) => void) => {
      const path = settingsPath();
      damage(path);
      return (await codeOf(() => fileSettingsStore(path).load())).message;
    };
    assert.match(await message(DAMAGE['truncated JSON'] as (p: string) => void), /is not valid JSON \(it may have been cut short/);
    assert.match(await message(DAMAGE['10 MB of junk'] as (p: string) => void), /is larger than 1 MB \(the limit for this file\)/);
    assert.match(await message(DAMAGE['a folder in its place'] as (p: string) => void), /is not a regular file \(a device, pipe or folder\)/);
    assert.match(await message(DAMAGE['JSON without the settings'] as (p: string) => void), /does not hold provider settings/);
    assert.match(await message((p) => writeFileSync(p, JSON.stringify({ ...GOOD, redirectUri: 'ftp://x' }))), /has a redirect URI this app cannot use/);
    // The parser's own message quotes the file; ours does not.
    const secretish = await message((p) => writeFileSync(p, '{"issuer": "x", "clientId": SECRET-LOOKING-TEXT}'));
    assert.ok(!secretish.includes('SECRET'), secretish);
  });

  test('starting over twice never overwrites an older backup', async () => {
    const path = settingsPath();
    writeFileSync(path, 'first');
    const store = fileSettingsStore(path);
    const first = await store.startOver();
    writeFileSync(path, 'second');
    const second = await store.startOver();
    assert.ok(first && second && first !== second);
    assert.equal(readFileSync(first, 'utf8'), 'first');
    assert.equal(readFileSync(second, 'utf8'), 'second');
  });
});

// A disk that is full, then read-only: a 64 KB tmpfs in a mount namespace of its own. We run as
// root in the test container, where chmod cannot make a folder unwritable; a user namespace with
// its own mounts can, without touching the host's.
const NAMESPACE = spawnSync('unshare', ['--user', '--map-root-user', '--mount', 'true']).status === 0;

describe('saving to a full or read-only disk', { skip: NAMESPACE ? false : 'unshare --user --mount is not allowed here (needed for a private tmpfs)' }, () => {
  test('full: settings_not_saved "the disk is full", no temp file, the old file intact; read-only: "read-only"', () => {
    const mountPoint = mkdtempSync(join(tmpdir(), 'connect-tmpfs-'));
    const script = `
      import { closeSync, openSync, readFileSync, readdirSync, writeSync } from 'node:fs';
      import { execFileSync } from 'node:child_process';
      import { join } from 'node:path';
      const { fileSettingsStore } = await import(${JSON.stringify(join(ROOT, 'dist/src/app/app-settings.js'))});
      const dir = process.env.MOUNT;
      const path = join(dir, 'app', 'connect.config.json');
      const store = fileSettingsStore(path);
      await store.save(${JSON.stringify(GOOD)});
      const old = readFileSync(path, 'utf8');
      // Fill the disk to the last byte.
      const fill = openSync(join(dir, 'fill'), 'w');
      try { for (;;) writeSync(fill, Buffer.alloc(4096)); } catch (error) { if (error.code !== 'ENOSPC') throw error; }
      closeSync(fill);
      const attempt = async () => {
        try { await store.save(${JSON.stringify(OTHER)}); return { code: 'saved' }; }
        catch (error) { return { code: error.code, message: error.message, file: error.file }; }
      };
      const full = await attempt();
      const afterFull = { files: readdirSync(join(dir, 'app')), same: readFileSync(path, 'utf8') === old };
      execFileSync('mount', ['-o', 'remount,ro', dir]);
      const readOnly = await attempt();
      const afterReadOnly = { files: readdirSync(join(dir, 'app')), same: readFileSync(path, 'utf8') === old };
      process.stdout.write(JSON.stringify({ full, afterFull, readOnly, afterReadOnly, loaded: await store.load() }));
    `;
    const out = execFileSync(
      'unshare',
      ['--user', '--map-root-user', '--mount', 'sh', '-c', 'mount -t tmpfs -o size=64k tmpfs "$MOUNT" && exec node --input-type=module -e "$SCRIPT"'],
      { env: { ...process.env, MOUNT: mountPoint, SCRIPT: script }, encoding: 'utf8', timeout: 30_000 },
    );
    const result = JSON.parse(out) as Record<string, { code: string; message: string; file: string; files: string[]; same: boolean }>;
    const path = join(mountPoint, 'app', 'connect.config.json');

    assert.equal(result.full?.code, 'settings_not_saved', out);
    assert.equal(result.full?.message, `The settings could not be saved to "${path}": the disk is full. Free some space, then try again. The settings you had are unchanged.`);
    assert.equal(result.full?.file, path);
    assert.deepEqual(result.afterFull?.files, ['connect.config.json'], 'no temp file left');
    assert.equal(result.afterFull?.same, true, 'the old file is intact');

    assert.equal(result.readOnly?.code, 'settings_not_saved', out);
    assert.match(result.readOnly?.message ?? '', /: the disk is read-only\. Make it writable, then try again\./);
    assert.deepEqual(result.afterReadOnly?.files, ['connect.config.json']);
    assert.equal(result.afterReadOnly?.same, true);
    assert.deepEqual(result.loaded, GOOD, 'the settings the user had are still the ones loaded');
    // The tmpfs lived in the namespace only: the host's folder is as empty as it was made.
    assert.deepEqual(readdirSync(mountPoint), []);
    execFileSync('rmdir', [mountPoint]);
  });
});
