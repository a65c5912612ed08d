// The parts of the core that need no browser, run by the Windows build of Node: the platform's
// default redirect, the oob paste path, a settings file as Windows editors save it, and the folder
// for locks and the hand-off socket. (The loopback receiver and the profile lock run here too: their
// own test files are part of the Windows suite.)
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { readConfigFile, settingsFromConfig } from '../../src/config/config-file.js';
import type { ConnectError } from '../../src/common/errors.js';
import { desktopDefaultRedirectUri } from '../../src/config/redirect-defaults.js';
import { parsePastedCode } from '../../src/redirect-receiver/oob-paste.js';
import { OOB_AUTO } from '../../src/config/redirect-uri.js';
import { runtimeDir } from '../../src/session/runtime-dir.js';

const context = { state: 'S1', issuer: 'https://connect.example' };

describe('the core on Windows', () => {
  test('the desktop default redirect here is oob:auto, as the provider documents for Windows', () => {
    assert.equal(process.platform, 'win32');
    assert.equal(desktopDefaultRedirectUri(process.platform, 'com.example.app'), OOB_AUTO);
  });

  test('a code pasted from a Windows clipboard (with CRLF) is taken; an empty paste is refused clearly', () => {
    assert.equal(parsePastedCode('  abc123\r\n', context).get('code'), 'abc123');
    assert.equal(parsePastedCode('Success state=S1&code=abc123\r\n', context).get('code'), 'abc123');
    assert.throws(() => parsePastedCode('\r\n', context), (error: ConnectError) => {
      assert.equal(error.code, 'invalid_code');
      assert.equal(error.message, 'Nothing was pasted: paste the code shown in your browser.');
      return true;
    });
  });

  test('a settings file saved with CRLF line ends and a byte-order mark is read', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'connect-config-')), 'connect.json');
    writeFileSync(path, '\uFEFF{\r\n  "issuer": "https://connect.example",\r\n  "clientId": "com.example.app"\r\n}\r\n');
    const settings = settingsFromConfig(readConfigFile(path), {});
    assert.equal(settings.issuer, 'https://connect.example');
    assert.equal(settings.clientId, 'com.example.app');
  });

  test('a settings file that is not JSON names the file in its error', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'connect-config-')), 'connect.json');
    writeFileSync(path, '{ issuer: nope }\r\n');
    assert.throws(() => readConfigFile(path), (error: ConnectError) => {
      assert.equal(error.code, 'invalid_settings');
      assert.ok(error.message.startsWith(`The settings file "${path}" is not valid JSON`), error.message);
      return true;
    });
  });

  test('the runtime folder (locks, hand-off, launch pages) is an absolute folder of the user\'s, never relative to the working folder', () => {
    const dir = runtimeDir();
    assert.ok(existsSync(dir));
    // Node's tmpdir() is "undefined\\temp" when TEMP, TMP and SystemRoot are unset (as here, under
    // Wine from a Unix shell): such a folder would land wherever the program runs.
    assert.match(dir, /^[A-Za-z]:\\/, dir);
    if (/^[A-Za-z]:\\/.test(tmpdir())) assert.ok(dir.startsWith(tmpdir()), dir);
  });
});
