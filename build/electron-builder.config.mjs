// electron-builder configuration (`npm run package`), derived from identity.json: the app's name, id,
// custom URI scheme and icon are written there once (`npm run rename` rewrites them). Windows and macOS installers; Linux for development.
import { readFileSync } from 'node:fs';
// The app's own rules for identity.json (from the build, which `npm run package` runs first).
import { checkIdentity } from '../dist/src/config/identity-rules.js';

const identity = checkIdentity(JSON.parse(readFileSync(new URL('../identity.json', import.meta.url), 'utf8')));

export default {
  appId: identity.appId,
  productName: identity.productName,
  copyright: `Copyright © ${identity.productName} contributors`,
  directories: { output: 'release', buildResources: 'build' },
  files: [
    'package.json',
    'identity.json',
    'dist/src/**',
    'dist/main/**',
    'dist/renderer/**',
    '!dist/**/*.map',
    '!dist/**/*.d.ts',
    '!dist/**/*.d.cts',
    '!dist/test/**',
    // Type declarations are for library users (a dependency of the npm package), not for the app.
    '!**/node_modules/@types/**',
  ],
  // Native modules (the keychain and window-title bindings) cannot load from inside app.asar.
  asarUnpack: ['**/*.node'],
  // Electron fuses (the security checklist): no running as plain Node, no NODE_OPTIONS or inspector
  // flags, the app only from its integrity-checked app.asar, cookies encrypted, and file:// pages get
  // no extra privileges (the window's page is served from app://, see main/page-protocol.ts).
  electronFuses: {
    runAsNode: false,
    enableNodeOptionsEnvironmentVariable: false,
    enableNodeCliInspectArguments: false,
    enableEmbeddedAsarIntegrityValidation: true,
    onlyLoadAppFromAsar: true,
    enableCookieEncryption: true,
    grantFileProtocolExtraPrivileges: false,
  },
  // The custom URI scheme redirect (<scheme>://connect/oauth2callback). macOS: CFBundleURLTypes in
  // Info.plist, the only schemes macOS will ever route to the app. Linux: MimeType in the .desktop
  // file. Windows: the NSIS target ignores `protocols`; build/installer.nsh registers the scheme.
  protocols: [{ name: `${identity.productName} sign-in`, schemes: [identity.scheme] }],
  mac: {
    category: 'public.app-category.productivity',
    hardenedRuntime: true,
    entitlements: 'build/entitlements.mac.plist',
    entitlementsInherit: 'build/entitlements.mac.plist',
    target: ['dmg', 'zip'],
    icon: identity.icon,
  },
  win: { target: ['nsis'], icon: identity.icon },
  nsis: {
    oneClick: false,
    perMachine: false,
    include: 'build/installer.nsh',
  },
  linux: {
    target: ['AppImage', 'deb'],
    category: 'Utility',
    maintainer: `${identity.productName} contributors`,
    icon: identity.icon,
  },
};
