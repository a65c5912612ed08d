// electron-builder `--dir` for Linux with a stand-in Electron dist (no binary can be downloaded
// here), for a project folder: what the packaged app.asar holds. Used by the packaging and rename tests.
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

export type BuilderConfig = Record<string, unknown> & {
  appId: string;
  productName: string;
  protocols: { name: string; schemes: string[] }[];
  electronFuses: Record<string, boolean>;
  win: { target: string[] };
  mac: Record<string, unknown>;
  linux: { target: string[] };
  nsis: { include: string; perMachine: boolean };
  files: string[];
};

/** The configuration as electron-builder loads it (a module derived from identity.json). */
export async function builderConfig(projectDir: string): Promise<BuilderConfig> {
  return ((await import(`${pathToFileURL(join(projectDir, 'build/electron-builder.config.mjs')).href}?${Date.now()}`)) as { default: BuilderConfig }).default;
}

export interface PackagedApp {
  /** The folder electron-builder wrote (release/linux-unpacked). */
  unpacked: string;
  /** Every path in app.asar, with forward slashes. */
  files: string[];
  /** A file's text from inside app.asar. */
  read(path: string): string;
}

export async function packageApp(projectDir: string): Promise<PackagedApp> {
  const out = mkdtempSync(join(tmpdir(), 'connect-package-'));
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
    projectDir,
    targets: Platform.LINUX.createTarget('dir'),
    config: {
      ...(await builderConfig(projectDir)),
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
  const asar = require('@electron/asar') as { listPackage(path: string): string[]; extractFile(archive: string, file: string): Buffer };
  const archive = join(out, 'release/linux-unpacked/resources/app.asar');
  return {
    unpacked: join(out, 'release/linux-unpacked'),
    files: asar.listPackage(archive).map((f) => f.replace(/\\/g, '/')),
    read: (path) => asar.extractFile(archive, path.replace(/^\//, '')).toString('utf8'),
  };
}
