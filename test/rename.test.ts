// Making the template yours: `npm run rename` on a copy of the project, then the build, the derived
// builder configuration and the packaged app, checked for the old identity. And bad input: refused,
// nothing changed; missing input when not at a terminal: a clear error, never a prompt.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { before, describe, test } from 'node:test';
import { IDENTITY } from '../src/config/identity.js';
import { ROOT } from './support/cli.js';
import { builderConfig, packageApp } from './support/package-app.js';

const run = promisify(execFile);
const OLD = [IDENTITY.productName, IDENTITY.appId, IDENTITY.scheme];
const NEW = { productName: 'Acme Sign-In', appId: 'com.acme.signin', scheme: 'com.acme.desktop' };
let copy = '';

/** The project as a template user has it: its files (not node_modules, not the build), linked modules. */
async function copyProject(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'connect-template-'));
  const { stdout } = await run('git', ['ls-files', '--cached', '--others', '--exclude-standard'], { cwd: ROOT });
  for (const file of stdout.split('\n').filter(Boolean)) {
    try {
      if (!statSync(join(ROOT, file)).isFile()) continue;
    } catch {
      continue; // deleted in the work tree
    }
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(ROOT, file), join(dir, file));
  }
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

const rename = (cwd: string, args: string[]) =>
  run(process.execPath, ['build/rename.mjs', ...args], { cwd }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => e,
  );

/** Every file under `dir` whose text holds one of `needles`, with the needle. */
function mentions(dir: string, needles: string[]): string[] {
  const found: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(js|cjs|mjs|html|css|json)$/.test(name)) {
        const text = readFileSync(path, 'utf8');
        for (const needle of needles) if (text.includes(needle)) found.push(`${path.slice(dir.length)}: ${needle}`);
      }
    }
  };
  walk(dir);
  return found;
}

before(async () => {
  copy = await copyProject();
  // The rename runs from the build (it checks with the app's own rules, dist/src/config and what they import): those
  // compiled files are the project's own, from the same sources, so they are copied rather than
  // compiled again (the whole build comes after the rename, below).
  for (const part of ['dist/src/config', 'dist/src/common']) cpSync(join(ROOT, part), join(copy, part), { recursive: true });
});

describe('npm run rename', () => {
  test('bad input is refused, naming the field, and identity.json is left as it was', async () => {
    const before = readFileSync(join(copy, 'identity.json'), 'utf8');
    for (const [args, why] of [
      [['--product-name', 'X', '--app-id', 'nodots', '--scheme', 'x.y'], /appId/],
      [['--product-name', 'X', '--app-id', 'com.x.y', '--scheme', 'HTTP'], /scheme/],
      [['--product-name', 'X', '--app-id', 'com.x.y', '--scheme', 'https'], /scheme/],
      [['--product-name', 'X', '--app-id', 'com.x.y', '--scheme', 'x.y', '--icon', 'missing.png'], /icon/],
      [['--bogus'], /Unknown option/],
    ] as const) {
      const result = await rename(copy, [...args]);
      assert.equal(result.code, 2, args.join(' '));
      assert.match(result.stderr, why);
    }
    const missing = await rename(copy, ['--product-name', 'X']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /rename needs --app-id, --scheme \(not asked for: this is not a terminal\)/);
    assert.equal(readFileSync(join(copy, 'identity.json'), 'utf8'), before);
  });

  test('renamed, built and packaged: the old name, app id and scheme are nowhere in what ships', async () => {
    const result = await rename(copy, ['--product-name', NEW.productName, '--app-id', NEW.appId, '--scheme', NEW.scheme]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /register --request-only/);
    assert.match(result.stdout, /com\.acme\.desktop:\/\/connect\/oauth2callback/);
    const identity = JSON.parse(readFileSync(join(copy, 'identity.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(
      [identity.productName, identity.appId, identity.scheme, identity.folderName, identity.keychainService],
      [NEW.productName, NEW.appId, NEW.scheme, 'acme-sign-in', 'acme-sign-in'],
    );

    await run('npm', ['run', 'build', '--silent'], { cwd: copy });
    for (const part of ['dist/src', 'dist/main', 'dist/renderer']) assert.deepEqual(mentions(join(copy, part), OLD), [], part);
    assert.match(readFileSync(join(copy, 'dist/renderer/index.html'), 'utf8'), /<title>Acme Sign-In<\/title>/);

    const config = await builderConfig(copy);
    assert.deepEqual([config.appId, config.productName, config.protocols[0]?.schemes], [NEW.appId, NEW.productName, [NEW.scheme]]);
    assert.ok(!OLD.some((old) => JSON.stringify(config).includes(old)), 'the builder configuration is derived from the new identity');

    const packaged = await packageApp(copy);
    const shipped = packaged.files.filter((f) => /^\/(dist\/.*\.(js|cjs|html)|identity\.json)$/.test(f));
    assert.ok(shipped.length > 20, shipped.join(' '));
    const stale = shipped.filter((f) => OLD.some((old) => packaged.read(f).includes(old)));
    assert.deepEqual(stale, [], 'no file in app.asar names the old identity');
    assert.equal(JSON.parse(packaged.read('/identity.json')).scheme, NEW.scheme);
  });

  test('at a terminal it asks for what is missing, the current value as the default', async () => {
    // A terminal of its own (util-linux `script`), typed into line by line as a person would.
    const { spawn } = await import('node:child_process');
    const child = spawn('script', ['-qec', 'node build/rename.mjs --scheme com.acme.typed', '/dev/null'], { cwd: copy, stdio: ['pipe', 'pipe', 'pipe'] });
    let screen = '';
    child.stdout.on('data', (d: Buffer) => (screen += d.toString()));
    const answer = async (prompt: RegExp, text: string) => {
      for (let i = 0; i < 100 && !prompt.test(screen); i++) await new Promise((r) => setTimeout(r, 50));
      assert.match(screen, prompt);
      child.stdin.write(`${text}\r`);
    };
    const current = JSON.parse(readFileSync(join(copy, 'identity.json'), 'utf8')) as { appId: string };
    await answer(/Product name \(what users see\) \[[^\]]+\]: /, 'Typed Name');
    await answer(new RegExp(`App id \\(reverse DNS, e\\.g\\. com\\.example\\.app\\) \\[${current.appId.replace(/\./g, '\\.')}\\]: `), '');
    await new Promise((resolve) => child.on('exit', resolve));
    const identity = JSON.parse(readFileSync(join(copy, 'identity.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual([identity.productName, identity.appId, identity.scheme], ['Typed Name', current.appId, 'com.acme.typed']);
  });
});
