// The Windows installer's custom-scheme registration (build/installer.nsh), for real: run.sh compiles
// it into a minimal per-user installer with Debian's makensis (protocol-installer.nsi); here it is
// installed and uninstalled silently, and the registry read back with reg.exe, as Windows would
// route a `<scheme>://` URL: HKCU\Software\Classes\<scheme>\shell\open\command → the app with "%1".
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { IDENTITY } from '../../src/config/identity.js';

const run = promisify(execFile);
const INSTALLER = fileURLToPath(new URL('./protocol-installer.exe', import.meta.url));
const KEY = `HKCU\\Software\\Classes\\${IDENTITY.scheme}`;

/** `reg query KEY /s`: each key (as HKCU\…) with its REG_SZ values; null when the key does not exist. */
async function query(key: string): Promise<Map<string, Map<string, string>> | null> {
  let stdout: string;
  try {
    stdout = (await run('reg', ['query', key, '/s'], { windowsHide: true })).stdout;
  } catch {
    return null;
  }
  const keys = new Map<string, Map<string, string>>();
  let current: Map<string, string> | undefined;
  for (const line of stdout.split(/\r?\n/).map((l) => l.trim()).filter(Boolean)) {
    const value = /^(.+?)\s+REG_SZ\s*(.*)$/.exec(line);
    if (value && current) current.set(value[1] as string, value[2] as string);
    else if (!value) keys.set(line.replace(/^HKEY_CURRENT_USER/i, 'HKCU').toLowerCase(), (current = new Map()));
  }
  return keys;
}

/** NSIS uninstallers copy themselves to %TEMP% and return at once: wait for the key to go. */
async function gone(key: string): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if ((await query(key)) === null) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}

describe('Windows installer: the custom scheme', () => {
  test('installing registers the identity\'s scheme for this user; uninstalling removes it', async () => {
    assert.ok(existsSync(INSTALLER), 'run.sh compiled the installer');
    assert.equal(await query(KEY), null, 'no registration before');
    await run(INSTALLER, ['/S'], { windowsHide: true });
    const keys = (await query(KEY)) ?? new Map();
    const value = (name: string, key = KEY) => keys.get(key.toLowerCase())?.get(name);
    assert.equal(value('(Default)'), `URL:${IDENTITY.productName} sign-in`, JSON.stringify([...keys]));
    assert.equal(value('URL Protocol'), '', 'the "URL Protocol" value marks it a URL scheme');
    const command = value('(Default)', `${KEY}\\shell\\open\\command`) ?? '';
    assert.match(command, new RegExp(`^"[A-Z]:\\\\.*\\\\${IDENTITY.productName}\\.exe" "%1"$`, 'i'), command);

    const folder = command.replace(/^"(.*)\\[^\\]+" "%1"$/, '$1');
    await run(`${folder}\\Uninstall.exe`, ['/S'], { windowsHide: true });
    assert.equal(await gone(KEY), true, 'the uninstaller removed the registration');
  });
});
