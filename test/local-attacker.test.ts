// Another user of the same machine, trying to hijack or stall this user's sign-in. The tests run as
// root; the attacker runs as `nobody` (setpriv), as a second local account would.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { startTestProvider, type TestProvider } from './provider/provider.js';
import { startCli, testProfile } from './support/cli.js';

const run = promisify(execFile);
let provider: TestProvider;

before(async () => {
  provider = await startTestProvider();
});
after(async () => {
  await provider.close();
});

/** A command as user `nobody`: its stdout, or the error it failed with. */
async function asNobody(command: string, args: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    const { stdout } = await run('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', command, ...args]);
    return { ok: true, out: stdout };
  } catch (error) {
    return { ok: false, out: String((error as { stderr?: string }).stderr ?? error) };
  }
}

describe('another local user and the authorization URL', () => {
  test('no process\'s command line carries the state or the PKCE challenge; the launch page is this user\'s alone', async () => {
    // The "browser": records what it was started with, and stays open without signing in.
    const dir = mkdtempSync(join(tmpdir(), 'connect-browser-'));
    const seen = join(dir, 'argv.json');
    const browser = join(dir, 'browser.mjs');
    writeFileSync(browser, `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(seen)}, JSON.stringify(process.argv.slice(2)));\nsetTimeout(() => {}, 20000);\n`);
    const login = startCli(
      ['login', '--issuer', provider.issuer, '--client-id', provider.publicClientId, '--profile', testProfile('cmdline'), '--timeout', '8', '--json'],
      { BROWSER: `node ${browser}` },
      { stdin: 'ignore' },
    );
    let stderr = '';
    login.child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    for (let i = 0; i < 200 && !existsSync(seen); i++) await new Promise((r) => setTimeout(r, 25));
    const [opened] = JSON.parse(readFileSync(seen, 'utf8')) as string[];
    // The user's own terminal shows the URL (only this user can read it); the browser got a file.
    const state = /[?&]state=([^&\s]+)/.exec(stderr)?.[1] as string;
    const challenge = /[?&]code_challenge=([^&\s]+)/.exec(stderr)?.[1] as string;
    assert.ok(state && challenge, stderr);
    assert.match(opened ?? '', /^file:\/\/.*\/launch-[0-9a-f]+\.html$/);

    // Every process's arguments, as any user can read them (/proc/PID/cmdline, ps).
    const everyone = (await asNobody('sh', ['-c', 'cat /proc/[0-9]*/cmdline 2>/dev/null | tr "\\0" " "'])).out;
    assert.ok(everyone.includes(fileURLToPath(opened as string)), 'the attacker does see the launch page\'s name');
    assert.ok(!everyone.includes(state) && !everyone.includes(challenge), 'but no state or challenge anywhere');

    // The page itself: this user's only, in a folder only this user can enter.
    const page = fileURLToPath(opened as string);
    assert.equal(statSync(page).mode & 0o777, 0o600);
    assert.equal(statSync(join(page, '..')).mode & 0o777, 0o700);
    const stolen = await asNobody('cat', [page]);
    assert.equal(stolen.ok, false);
    assert.match(stolen.out, /Permission denied/);
    // What the browser reads there is the URL, and nothing else.
    assert.match(readFileSync(page, 'utf8'), new RegExp(`state=${state}`));

    const result = await login.done;
    assert.equal(JSON.parse(result.stdout).error, 'timeout');
    assert.equal(existsSync(page), false, 'the launch page is gone once login exits');
  });
});

describe('another local user and the private folder', () => {
  for (const squat of ['a folder of theirs', 'a symlink to a folder of theirs'] as const) {
    test(`/tmp/connect-desktop-<uid> made first as ${squat}: the sign-in goes on, in a folder under the user's home`, async () => {
      const shared = mkdtempSync(join(tmpdir(), 'connect-shared-tmp-'));
      await run('chmod', ['1777', shared]);
      const squatted = join(shared, `connect-desktop-${process.getuid?.()}`);
      const theirs = join(shared, 'attacker');
      if (squat === 'a folder of theirs') assert.equal((await asNobody('mkdir', ['-m', '777', squatted])).ok, true);
      else {
        assert.equal((await asNobody('mkdir', ['-m', '777', theirs])).ok, true);
        assert.equal((await asNobody('ln', ['-s', theirs, squatted])).ok, true);
      }
      const home = mkdtempSync(join(tmpdir(), 'connect-home-'));
      const dir = mkdtempSync(join(tmpdir(), 'connect-browser-'));
      const seen = join(dir, 'argv.json');
      const browser = join(dir, 'browser.mjs');
      writeFileSync(browser, `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(seen)}, JSON.stringify(process.argv.slice(2)));\n`);
      const env = { XDG_RUNTIME_DIR: '', TMPDIR: shared, HOME: home, XDG_CACHE_HOME: '', BROWSER: `node ${browser}` };
      const login = startCli(
        ['login', '--issuer', provider.issuer, '--client-id', provider.publicClientId, '--profile', testProfile('squat'), '--timeout', '3', '--json'],
        env,
        { stdin: 'ignore' },
      );
      const result = await login.done;
      // It waited for the browser (and timed out, as nobody signed in): the folder was no obstacle.
      assert.equal(JSON.parse(result.stdout).error, 'timeout', result.stdout);
      const [opened] = JSON.parse(readFileSync(seen, 'utf8')) as string[];
      assert.ok(fileURLToPath(opened as string).startsWith(join(home, '.cache', 'connect-desktop', 'run')), opened);
      assert.equal(statSync(join(home, '.cache', 'connect-desktop', 'run')).mode & 0o777, 0o700);
      assert.deepEqual(readdirSync(squat === 'a folder of theirs' ? squatted : theirs), [], 'nothing was written where the other user could read it');
    });
  }
});
