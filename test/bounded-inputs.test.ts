// Every file the program reads is a regular file under 1 MB, read with that limit: `--config
// /dev/zero` used to grow to gigabytes of memory, and a FIFO hung for ever. Real files, a real FIFO,
// real devices, and connect-login as a separate process. A --config problem is reported as a usage
// mistake (`error: usage: …`, exit 2), as it always was; a registration file's as invalid_settings.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { BoundedFileError, MAX_INPUT_FILE_BYTES, readBoundedFileSync } from '../src/common/bounded-file.js';
import { runCli, testProfile, type CliResult } from './support/cli.js';

const dir = mkdtempSync(join(tmpdir(), 'connect-bounded-'));

function fifo(name: string): string {
  const path = join(dir, name);
  execFileSync('mkfifo', [path]);
  return path;
}

function bigFile(name: string): string {
  const path = join(dir, name);
  // Valid JSON all the way, so only the size can be what is refused.
  writeFileSync(path, `{"issuer": "https://connect.example", "pad": "${'x'.repeat(2 * 1024 * 1024)}"}`);
  return path;
}

/** connect-login with 5 s at most: a hang is a failure here, not a slow success. */
async function quickly(args: string[]): Promise<CliResult & { ms: number }> {
  const started = Date.now();
  const result = await runCli(args, {}, { timeoutMs: 5000 });
  return { ...result, ms: Date.now() - started };
}

function refused(result: CliResult & { ms: number }, expected: RegExp): void {
  assert.ok(result.ms < 5000, `answered in ${result.ms} ms`);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, expected);
  assert.equal(result.stdout, '');
}

describe('connect-login --config FILE', () => {
  test('/dev/zero: refused at once, naming the file (exit 2)', async () => {
    refused(await quickly(['login', '--config', '/dev/zero']), /^error: usage: The settings file "\/dev\/zero" is not a regular file \(a device, pipe or folder\)\.$/m);
  });

  test('a FIFO nobody writes to: refused at once instead of waiting', async () => {
    const path = fifo('config.fifo');
    refused(await quickly(['login', '--config', path]), new RegExp(`The settings file "${path}" is not a regular file`));
  });

  test('a folder: refused, naming the file', async () => {
    const path = join(dir, 'config-folder');
    mkdirSync(path);
    refused(await quickly(['login', '--config', path]), new RegExp(`The settings file "${path}" is not a regular file`));
  });

  test('a 2 MB file: refused, naming the limit', async () => {
    const path = bigFile('big-config.json');
    refused(await quickly(['login', '--config', path]), new RegExp(`The settings file "${path}" is larger than 1 MB \\(the limit for this file\\)\\.`));
  });
});

describe('registration files (details, software statement)', () => {
  test('register --request-only --details: /dev/zero, a FIFO and 2 MB are refused with invalid_settings (exit 2)', async () => {
    const out = join(dir, 'out');
    refused(
      await quickly(['register', '--request-only', '--details', '/dev/zero', '--out', out]),
      /^error: invalid_settings: The details file "\/dev\/zero" is not a regular file \(a device, pipe or folder\)\.$/m,
    );
    const pipe = fifo('details.fifo');
    refused(await quickly(['register', '--request-only', '--details', pipe, '--out', out]), new RegExp(`The details file "${pipe}" is not a regular file`));
    const big = bigFile('big-details.json');
    refused(await quickly(['register', '--request-only', '--details', big, '--out', out]), new RegExp(`The details file "${big}" is larger than 1 MB`));
  });

  test('register --software-statement /dev/zero: refused before anything is sent', async () => {
    const result = await quickly(['register', '--issuer', 'https://connect.example', '--software-statement', '/dev/zero', '--profile', testProfile('statement')]);
    refused(result, /The software statement file "\/dev\/zero" is not a regular file/);
  });
});

describe('readBoundedFileSync', () => {
  const problem = (path: string, limit?: number) => {
    try {
      readBoundedFileSync(path, limit);
    } catch (error) {
      assert.ok(error instanceof BoundedFileError);
      return error.problem;
    }
    return 'read';
  };

  test('each kind of file gets its own problem; the limit is exact', () => {
    const exact = join(dir, 'exact');
    writeFileSync(exact, 'a'.repeat(100));
    assert.equal(readBoundedFileSync(exact, 100), 'a'.repeat(100));
    assert.equal(problem(exact, 99), 'too_large');
    assert.equal(problem(join(dir, 'nothing-here')), 'missing');
    assert.equal(problem('/dev/zero'), 'not_regular');
    assert.equal(problem('/dev/null'), 'not_regular');
    assert.equal(problem(dir), 'not_regular');
    assert.equal(problem(fifo('unit.fifo')), 'not_regular');
    assert.equal(MAX_INPUT_FILE_BYTES, 1024 * 1024);
  });

  test('a byte-order mark is dropped; the text is otherwise as written', () => {
    const path = join(dir, 'bom.json');
    writeFileSync(path, '\uFEFF{"a":"é"}\r\n');
    assert.equal(readBoundedFileSync(path), '{"a":"é"}\r\n');
  });
});
