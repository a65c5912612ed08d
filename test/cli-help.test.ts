// A CLI that explains itself (issue #18): each command's own help (help COMMAND, COMMAND --help) with
// its options, examples, environment and exit status; "did you mean" for a mistyped command, option,
// shell or profile; shell completion that a real bash runs; --config wherever a profile is named.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { COMMANDS, OPTIONS_OF } from '../src/cli/args.js';
import { OPTION_TEXT } from '../src/cli/help.js';
import { keychainStore } from '../src/secret-store/keychain.js';
import type { StoredSession } from '../src/session/session.js';
import { TokenStore } from '../src/session/token-store.js';
import { CLI, jsonOf, runCli, testProfile } from './support/cli.js';

const store = new TokenStore(keychainStore());
const saved: string[] = [];

after(async () => {
  for (const profile of saved) await store.remove(profile);
});

describe('help for each command', () => {
  for (const command of COMMANDS) {
    test(`${command}: "help ${command}" and "${command} --help" print its options, examples, environment and exit status`, async () => {
      const viaHelp = await runCli(['help', command]);
      const viaFlag = await runCli([command, '--help']);
      assert.equal(viaHelp.code, 0);
      assert.equal(viaHelp.stdout, viaFlag.stdout);
      const text = viaHelp.stdout;
      assert.match(text, new RegExp(`^Usage: connect-login ${command}`));
      for (const option of OPTIONS_OF[command]) {
        assert.ok(OPTION_TEXT[option], `--${option} has a description`);
        assert.ok(text.includes(OPTION_TEXT[option] as string), `--${option} is listed`);
      }
      assert.match(text, /\nExamples:\n {2}\S/);
      assert.match(text, /\nEnvironment:\n {2}BROWSER .*\n {2}CONNECT_PROFILE .*\n {2}CONNECT_DEBUG /);
      assert.match(text, /\nExit status: 0 success; 1 .+; 2 bad usage\.\n$/);
    });
  }
});

describe('did you mean', () => {
  test('a mistyped command, option or shell: exit 2 with the likely one, in text and in JSON', async () => {
    const command = await runCli(['logn']);
    assert.equal(command.code, 2);
    assert.match(command.stderr, /^error: usage: unknown command "logn" \(did you mean "login"\?\)/m);
    const option = await runCli(['login', '--isuer', 'https://x.example', '--json']);
    assert.equal(option.code, 2);
    assert.match(String(jsonOf(option).error_description), /^unknown option "--isuer" \(did you mean "--issuer"\?\)$/);
    const shell = await runCli(['completion', 'bahs']);
    assert.match(shell.stderr, /completion needs one of: bash, zsh, powershell \(did you mean "bash"\?\)/);
    const nothingClose = await runCli(['frobnicate']);
    assert.doesNotMatch(nothingClose.stderr, /did you mean/);
  });

  test('status --profile with a mistyped name lists the known profiles and the likely one', async () => {
    const profile = testProfile('typo');
    saved.push(profile);
    const session: StoredSession = {
      version: 2, settings: { issuer: 'https://login.example.com', clientId: 'x', redirectUri: 'http://127.0.0.1/connect/oauth2callback', scope: 'openid' },
      scope: 'openid', sub: 'alice', claims: { sub: 'alice' }, accessToken: 'a', tokenType: 'Bearer', expiresAt: null, obtainedAt: 1,
    };
    await store.save(profile, session);
    const typo = `${profile.slice(0, -1)}${profile.endsWith('a') ? 'b' : 'a'}`;
    const text = await runCli(['status', '--profile', typo]);
    assert.equal(text.code, 1);
    assert.match(text.stdout, new RegExp(`^Profile "${typo}" is not signed in\\. Known profiles: .*"${profile}".*\\. Did you mean "${profile}"\\?$`, 'm'));
    // JSON keeps its contract: exactly the status and the profile (`status --all` lists every profile).
    assert.deepEqual(jsonOf(await runCli(['status', '--profile', typo, '--json'])), { status: 'signed_out', profile: typo });
  });
});

describe('shell completion', () => {
  const complete = (words: string[]) =>
    execFileSync(
      'bash',
      ['-c', `source <("${process.execPath}" "${CLI}" completion bash); COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _connect_login; echo "\${COMPREPLY[*]}"`],
      { encoding: 'utf8' },
    ).trim();

  test('bash completes commands, then the options of the command typed', () => {
    assert.equal(complete(['connect-login', 'lo']), 'login logout');
    assert.equal(complete(['connect-login', 'login', '--cl']), '--client-id --client-secret-env');
    assert.equal(complete(['connect-login', 'token', '--']), '--profile --config --help');
  });

  test('zsh and PowerShell scripts name every command and its options', async () => {
    for (const shell of ['zsh', 'powershell']) {
      const script = (await runCli(['completion', shell])).stdout;
      for (const command of COMMANDS) {
        assert.ok(script.includes(command), `${shell}: ${command}`);
        for (const option of OPTIONS_OF[command]) assert.ok(script.includes(`--${option}`), `${shell}: ${command} --${option}`);
      }
    }
    const zsh = (await runCli(['completion', 'zsh'])).stdout;
    assert.match(zsh, /^#compdef connect-login\n/);
    assert.match((await runCli(['completion', 'powershell'])).stdout, /Register-ArgumentCompleter -Native -CommandName 'connect-login'/);
  });
});

describe('--config wherever a profile is named', () => {
  test('status and token read the profile from --config', async () => {
    const profile = testProfile('config-profile');
    const file = join(mkdtempSync(join(tmpdir(), 'connect-config-')), 'settings.json');
    writeFileSync(file, JSON.stringify({ profile }));
    const status = jsonOf(await runCli(['status', '--config', file, '--json']));
    assert.deepEqual({ status: status.status, profile: status.profile }, { status: 'signed_out', profile });
    const token = await runCli(['token', '--config', file]);
    assert.match(token.stderr, new RegExp(`Profile "${profile}" is not signed in`));
  });
});
