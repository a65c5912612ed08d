// Packaging with electron-builder, checked here without an Electron binary: `--dir` with a stub
// electronDist, then a look inside app.asar. (The fuses need the real binary: they are checked in the
// configuration here and flipped by electron-builder on a machine that has Electron.)
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { ROOT } from './support/cli.js';
import { builderConfig as configOf, packageApp } from './support/package-app.js';

const builderConfig = () => configOf(ROOT);

let files: string[] = [];
let out = '';

before(async () => {
  const packaged = await packageApp(ROOT);
  files = packaged.files;
  out = join(packaged.unpacked, '../..');
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
      '/dist/src/steps/sign-in.js',
      '/dist/src/secret-store/secret-service.js',
      '/dist/src/secret-store/dbus.js',
      '/dist/src/secret-store/native-keychain.js',
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
    const { IDENTITY } = await import('../src/config/identity.js');
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
