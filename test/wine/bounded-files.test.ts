// Bounded input files on Windows (node.exe under Wine): there is no O_NONBLOCK or O_NOCTTY there,
// and a folder cannot be opened as a file at all (EISDIR), so the same refusals come another way.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { SettingsFileError, fileSettingsStore } from '../../src/app/app-settings.js';
import { BoundedFileError, readBoundedFileSync } from '../../src/common/bounded-file.js';
import { readConfigFile } from '../../src/config/config-file.js';
import type { ConnectError } from '../../src/common/errors.js';

const problem = (path: string, limit?: number) => {
  try {
    readBoundedFileSync(path, limit);
    return 'read';
  } catch (error) {
    assert.ok(error instanceof BoundedFileError, String(error));
    return error.problem;
  }
};

describe('bounded input files on Windows', () => {
  test('a folder, a missing file and a file over the limit each get their own problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'connect-bounded-'));
    assert.equal(problem(dir), 'not_regular');
    assert.equal(problem(join(dir, 'missing.json')), 'missing');
    const file = join(dir, 'ten.txt');
    writeFileSync(file, '0123456789');
    assert.equal(readBoundedFileSync(file, 10), '0123456789');
    assert.equal(problem(file, 9), 'too_large');
    assert.throws(() => readConfigFile(dir), (error: ConnectError) => {
      assert.equal(error.code, 'invalid_settings');
      assert.equal(error.message, `The settings file "${dir}" is not a regular file (a device, pipe or folder).`);
      return true;
    });
  });

  test('the app settings file: a folder in its place is damaged, kept, and moved aside on start over', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'connect-app-settings-')), 'connect.config.json');
    mkdirSync(path);
    writeFileSync(join(path, 'inside.txt'), 'kept');
    const store = fileSettingsStore(path);
    await assert.rejects(store.load(), (error: SettingsFileError) => error.code === 'settings_damaged' && error.file === path);
    await assert.rejects(store.save({ issuer: 'https://connect.example', clientId: 'com.example.app' }), (error: SettingsFileError) => error.code === 'settings_damaged');
    const backup = await store.startOver();
    assert.ok(backup && !backup.includes(':', 2), `no ':' in a Windows file name after the drive: ${backup}`);
    assert.equal(readFileSync(join(backup, 'inside.txt'), 'utf8'), 'kept');
    await store.save({ issuer: 'https://connect.example', clientId: 'com.example.app' });
    assert.deepEqual(await store.load(), { issuer: 'https://connect.example', clientId: 'com.example.app' });
    assert.ok(existsSync(path));
  });
});
