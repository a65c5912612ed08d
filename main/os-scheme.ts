// The custom URI scheme and the OS: which app the browser's `<scheme>://…` redirect opens. Pure
// (Electron's app object is passed in), so a test can play each OS's documented rules:
// - macOS routes a scheme only to an app whose Info.plist declares it (CFBundleURLTypes, written at
//   build time from identity.json); setAsDefaultProtocolClient cannot add one, and a development run
//   (Electron's own bundle) declares none.
// - Windows: the installer registers the declared scheme (build/installer.nsh); the app may register
//   another at run time (HKCU\Software\Classes\<scheme>), and removes it again when it moves on.
//   removeAsDefaultProtocolClient only removes a registration that points at this executable.
// - Linux: the packaged app's .desktop file declares the scheme. A development run has no .desktop
//   file of its own (Electron would name the installed app's, connect-desktop.desktop), so it refuses.
// A development run never takes a scheme over from another app (the installed build), and removes
// what it registered when it quits.
import type { App } from 'electron';
import { ConnectError } from '../src/common/errors.js';
import { UNUSABLE_SCHEMES } from '../src/config/redirect-uri.js';

type ProtocolApp = Pick<App, 'setAsDefaultProtocolClient' | 'removeAsDefaultProtocolClient' | 'isDefaultProtocolClient' | 'getApplicationNameForProtocol'>;

export interface SchemeRegistrarOptions {
  app: ProtocolApp;
  platform: NodeJS.Platform;
  /** The scheme the build declares (identity.json). */
  declared: string;
  /** A development run (`electron .`, process.defaultApp): how the OS must start it. */
  development?: { path: string; args: string[] };
}

export interface SchemeRegistrar {
  /** Make the OS hand `scheme` URLs to this app; throws `scheme_unavailable` saying why it cannot. */
  receive(scheme: string): Promise<void>;
  /** The URL in a command line (a protocol launch on Windows and Linux) with a scheme this app takes. */
  urlIn(argv: string[]): string | undefined;
  /** Undo what a development run registered (when it quits). */
  release(): void;
}

const unavailable = (message: string) => new ConnectError('scheme_unavailable', message);

export function schemeRegistrar(options: SchemeRegistrarOptions): SchemeRegistrar {
  const { app, platform, declared, development } = options;
  // How the OS must start this app: nothing to add for a packaged app (Electron uses its own path).
  // Windows writes `"<path>" <args joined by spaces> "%1"` without quoting the arguments: an app path
  // with a space in it (C:\Users\John Smith\…) must be quoted here.
  const path = development?.path;
  const args = development && platform === 'win32' ? development.args.map((arg) => (/\s/.test(arg) ? `"${arg}"` : arg)) : development?.args;
  let current: string | undefined;
  /** A registration this process made that is not the installer's. */
  let own: string | undefined;

  const receive = async (wanted: string) => {
    const scheme = wanted.toLowerCase();
    if (scheme === current) return;
    const link = `${scheme}://`;
    if (development && platform === 'linux') {
      throw unavailable(
        `This development run cannot receive "${link}" URLs: on Linux the scheme is declared by the packaged app's .desktop file, ` +
          'and a development run has none of its own. Use the loopback redirect while developing, or build the app (npm run package).',
      );
    }
    if (platform === 'darwin') {
      if (development) {
        throw unavailable(
          `This development run cannot receive "${link}" URLs: macOS hands a scheme only to an app whose Info.plist declares it, ` +
            'and Electron\'s own app declares none. Use the loopback redirect while developing, or build the app (npm run package).',
        );
      }
      if (scheme !== declared) {
        throw unavailable(
          `macOS hands "${link}" URLs only to apps whose Info.plist declares that scheme, and this build declares "${declared}" ` +
            '(the scheme in identity.json when it was built). Use the loopback redirect, or build the app with this scheme.',
        );
      }
    }
    if (development && !app.isDefaultProtocolClient(scheme, path, args)) {
      const owner = app.getApplicationNameForProtocol(link);
      if (owner) {
        throw unavailable(
          `"${link}" URLs open ${owner}, and a development run does not take the scheme over from it (that app would stop ` +
            'receiving its sign-ins). Use the loopback redirect while developing, or uninstall the other app.',
        );
      }
    }
    if (!app.setAsDefaultProtocolClient(scheme, path, args)) {
      throw unavailable(`The system did not let this app handle "${link}" URLs. Use the loopback redirect.`);
    }
    // Moving on from a scheme registered at run time: give it back (never the installer's own).
    if (own && own !== scheme) app.removeAsDefaultProtocolClient(own, path, args);
    own = development || scheme !== declared ? scheme : undefined;
    current = scheme;
  };

  return {
    receive,
    urlIn(argv) {
      // Before the app knows its settings' scheme (a launch by URL), any custom-scheme URL counts: the
      // core then refuses what is not for it, and the window says so, instead of dropping it silently.
      const schemes = [current, declared].filter((s): s is string => !!s);
      const ours = (arg: string) => schemes.some((scheme) => arg.toLowerCase().startsWith(`${scheme}:`));
      const anyCustom = (arg: string) => {
        const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(arg)?.[1]?.toLowerCase();
        return !!scheme && !UNUSABLE_SCHEMES.includes(scheme);
      };
      return argv.find(ours) ?? (current ? undefined : argv.find(anyCustom));
    },
    release() {
      if (development && own) app.removeAsDefaultProtocolClient(own, path, args);
      own = undefined;
    },
  };
}
