// Packaging with electron-builder, checked here without an Electron binary: `--dir` with a stub
// electronDist, then a look inside app.asar. (The fuses need the real binary: they are checked in the
// configuration here and flipped by electron-builder on a machine that has Electron.)
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { before, describe, test } from 'node:test';
import { ROOT } from './support/cli.js';

const require = createRequire(import.meta.url);
const out = mkdtempSync(join(tmpdir(), 'connect-package-'));
let files: string[] = [];

type BuilderConfig = Record<string, unknown> & {
  protocols: { name: string; schemes: string[] }[];
  electronFuses: Record<string, boolean>;
  win: { target: string[] };
  mac: Record<string, unknown>;
  linux: { target: string[] };
  nsis: { include: string; perMachine: boolean };
  files: string[];
};

/** The configuration as electron-builder loads it (a module derived from identity.json). */
async function builderConfig(): Promise<BuilderConfig> {
  return ((await import(pathToFileURL(join(ROOT, 'build/electron-builder.config.mjs')).href)) as { default: BuilderConfig }).default;
}

before(async () => {
  const stub = join(out, 'electron-dist');
  mkdirSync(join(stub, 'resources'), { recursive: true });
  writeFileSync(join(stub, 'electron'), '#!/bin/sh\necho stub\n');
  chmodSync(join(stub, 'electron'), 0o755);
  for (const file of ['LICENSE', 'LICENSES.chromium.html']) writeFileSync(join(stub, file), '');
  writeFileSync(join(stub, 'version'), '45.4.1');
  const { build, Platform } = (await import('electron-builder')) as typeof import('electron-builder');
  // electron-builder logs to stdout, which is the test runner's report here: keep it out.
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  await build({
    projectDir: ROOT,
    targets: Platform.LINUX.createTarget('dir'),
    config: {
      ...(await builderConfig()),
      electronDist: stub,
      electronVersion: '45.4.1',
      // The stub has no fuse sentinel to flip.
      electronFuses: null,
      directories: { output: join(out, 'release'), buildResources: 'build' },
      npmRebuild: false,
    },
  }).finally(() => {
    process.stdout.write = write;
  });
  const asar = require('@electron/asar') as { listPackage: (path: string) => string[] };
  files = asar.listPackage(join(out, 'release/linux-unpacked/resources/app.asar')).map((f) => f.replace(/\\/g, '/'));
});

describe('packaging', () => {
  test('app.asar holds main, preload, renderer and the core', () => {
    for (const file of [
      '/package.json',
      '/identity.json',
      '/dist/main/page-protocol.js',
      '/dist/main/os-scheme.js',
      '/dist/main/main.js',
      '/dist/main/preload.cjs',
      '/dist/main/security.js',
      '/dist/renderer/index.html',
      '/dist/renderer/app.js',
      '/dist/renderer/styles.css',
      '/dist/src/sign-in.js',
      '/dist/src/secret-store/keychain-helper.js',
    ]) {
      assert.ok(files.includes(file), `${file} is packaged`);
    }
  });

  test('only production dependencies: no tests, no demo provider, no source maps or declarations', () => {
    const forbidden = files.filter(
      (f) =>
        f.startsWith('/dist/test') ||
        /\/node_modules\/(oidc-provider|playwright-core|electron|electron-builder|typescript|eslint|@types)(\/|$)/.test(f) ||
        (f.startsWith('/dist/') && (f.endsWith('.map') || f.endsWith('.d.ts') || f.endsWith('.d.cts'))) ||
        /^\/(src|main|renderer|test)\//.test(f),
    );
    assert.deepEqual(forbidden, []);
    for (const dep of ['openid-client', '@napi-rs/keyring', 'koffi']) {
      assert.ok(files.includes(`/node_modules/${dep}`), `${dep} is packaged`);
    }
  });

  test('native modules are unpacked next to app.asar', () => {
    const unpacked = join(out, 'release/linux-unpacked/resources/app.asar.unpacked/node_modules');
    assert.ok(existsSync(join(unpacked, '@napi-rs/keyring-linux-x64-gnu/keyring.linux-x64-gnu.node')));
    assert.ok(existsSync(join(unpacked, '@koromix/koffi-linux-x64/linux_x64/koffi.node')));
  });

  test('the configuration declares the identity scheme, the fuses, and the platform targets', async () => {
    const config = await builderConfig();
    const { IDENTITY } = await import('../src/identity.js');
    assert.equal(config.appId, IDENTITY.appId);
    assert.equal(config.productName, IDENTITY.productName);
    // The scheme macOS will route to the app (Info.plist) is the one the app registers and accepts.
    assert.deepEqual(config.protocols, [{ name: `${IDENTITY.productName} sign-in`, schemes: [IDENTITY.scheme] }]);
    assert.deepEqual(config.electronFuses, {
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      enableCookieEncryption: true,
      grantFileProtocolExtraPrivileges: false,
    });
    assert.deepEqual(config.win.target, ['nsis']);
    // NSIS writes nothing for `protocols`: the include registers the scheme, per user.
    assert.equal(config.nsis.perMachine, false);
    assert.ok(existsSync(join(ROOT, config.nsis.include)));
    assert.equal(config.mac.hardenedRuntime, true);
    assert.deepEqual(config.linux.target, ['AppImage', 'deb']);
    assert.ok(existsSync(join(ROOT, 'build/entitlements.mac.plist')));
    // The icon electron-builder turns into .ico/.icns: a PNG of at least 512×512 (macOS needs that).
    const icon = readFileSync(join(ROOT, 'build/icon.png'));
    assert.equal(icon.subarray(1, 4).toString(), 'PNG');
    assert.ok(icon.readUInt32BE(16) >= 512 && icon.readUInt32BE(20) >= 512);
  });
});
