// The Electron main process (dist/main/main.js) against Electron's documented lifecycle, on a machine
// without Electron: the `electron` stand-in (support/electron-standin.ts) enforces the rules that
// decide whether the app starts and hears the OS, and the rest is real: the core, the provider, the
// keychain, and chromium signing in. Each test asserts what the user would see: a window with the
// page, a sign-in that completes, a refusal shown in the window with advice.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { IDENTITY } from '../src/config/identity.js';
import { startTestProvider, type TestProvider } from './provider/provider.js';
import { ROOT, browserUser, profileTracker } from './support/cli.js';
import { schemeRegistrar } from '../main/os-scheme.js';
import { parseSavedBounds, placeWindow } from '../main/window-bounds.js';
import { OS_HANDLER, scenario, startMain, type RunningMain } from './support/electron-main.js';
import * as standin from './support/electron-standin.js';

const SCHEME_URI = `${IDENTITY.scheme}://connect/oauth2callback`;
let provider: TestProvider;
const profiles = profileTracker();
const running: RunningMain[] = [];

before(async () => {
  provider = await startTestProvider();
});

after(async () => {
  for (const main of running) await main.stop();
  await profiles.signOutAll();
  await provider.close();
});

/** A settings file for the app ($CONNECT_CONFIG), as a user or an administrator would write it. */
function config(settings: Record<string, unknown>): string {
  const file = join(mkdtempSync(join(tmpdir(), 'connect-app-config-')), 'connect.config.json');
  writeFileSync(file, JSON.stringify({ issuer: provider.issuer, clientId: provider.publicClientId, ...settings }));
  return file;
}

function start(world: ReturnType<typeof scenario>, env: NodeJS.ProcessEnv = {}): RunningMain {
  const main = startMain(world, env);
  running.push(main);
  return main;
}

const shown = (main: RunningMain) => main.waitFor((e) => e.type === 'show', 'the window shown');
const errorShown = (main: RunningMain, code: string) =>
  main.waitFor((e) => e.type === 'send' && (e.args as { type: string; error?: { code: string } }[])[0]?.error?.code === code, `"${code}" shown in the window`);

describe('the app starts (Electron lifecycle)', () => {
  test('the main module finishes evaluating before ready; then a locked-down window loads the page from app://', async () => {
    const main = start(scenario(), { CONNECT_CONFIG: config({ profile: profiles.profileFor('start') }) });
    // The harness emits `ready` only once the module has evaluated (as Electron does): a module that
    // waited for `ready` at its top level would never get here.
    await shown(main);
    const window = main.events.find((e) => e.type === "window") as unknown as { options: { title: string; webPreferences: Record<string, unknown> } };
    assert.equal(window.options.title, IDENTITY.productName);
    assert.equal(window.options.webPreferences.sandbox, true);
    assert.equal(window.options.webPreferences.contextIsolation, true);
    assert.equal(window.options.webPreferences.nodeIntegration, false);
    const loaded = main.events.filter((e) => e.type === 'loaded').map((e) => [e.url, e.status]);
    assert.deepEqual(loaded, [
      ['app://connect/index.html', 200],
      ['app://connect/styles.css', 200],
      ['app://connect/app.js', 200],
    ]);
    // The page's own IPC is served; a subframe or another window gets nothing.
    const state = (await main.invoke('state')) as { ok: boolean; value: { signedIn: boolean; issuer: string } };
    assert.deepEqual([state.ok, state.value.signedIn, state.value.issuer], [true, false, provider.issuer]);
    assert.equal(((await main.invoke('state', [], 'subframe')) as { error: { code: string } }).error.code, 'forbidden');
    assert.equal(((await main.invoke('state', [], 'other')) as { error: { code: string } }).error.code, 'forbidden');
    assert.equal(((await main.invoke('state', [], 'navigated')) as { error: { code: string } }).error.code, 'forbidden');
  });

  test('a second launch hands over to the first and quits, opening nothing', async () => {
    const main = start(scenario({ anotherInstance: true }));
    assert.equal(await main.exited, 0);
    assert.deepEqual(
      main.events.filter((e) => ['window', 'quit'].includes(e.type)).map((e) => e.type),
      ['quit'],
    );
  });

  test('a settings file that cannot be read: a dialog says so and the app quits (no silent hang)', async () => {
    const broken = join(mkdtempSync(join(tmpdir(), 'connect-app-config-')), 'connect.config.json');
    writeFileSync(broken, '{ not json');
    const main = start(scenario(), { CONNECT_CONFIG: broken });
    const box = await main.waitFor((e) => e.type === 'error-box', 'an error dialog');
    assert.equal(box.title, `${IDENTITY.productName} could not start`);
    assert.match(String(box.content), /connect\.config\.json/);
    assert.equal(await main.exited, 1);
  });

  test('a damaged connect.config.json: every call says settings_damaged and where; "Start over" only from the page, keeping a backup', async () => {
    const world = scenario();
    const file = join(world.userData, 'connect.config.json');
    writeFileSync(file, '{"issuer": "https://connect.example", "clientId"');
    const main = start(world, { CONNECT_DEMO_ISSUER: '' });
    await shown(main);
    const state = (await main.invoke('state')) as { ok: boolean; error: { code: string; file: string } };
    assert.deepEqual([state.ok, state.error.code, state.error.file], [false, 'settings_damaged', file]);
    // The new channel has the same sender checks as every other.
    assert.equal(((await main.invoke('startOver', [], 'subframe')) as { error: { code: string } }).error.code, 'forbidden');
    assert.equal(((await main.invoke('startOver', [], 'other')) as { error: { code: string } }).error.code, 'forbidden');
    assert.equal(readFileSync(file, 'utf8'), '{"issuer": "https://connect.example", "clientId"');
    const over = (await main.invoke('startOver')) as { ok: boolean; value: { backup: string; settings: { configured: boolean } } };
    assert.ok(over.ok && over.value.backup.startsWith(`${file}.damaged-`), JSON.stringify(over));
    assert.equal(readFileSync(over.value.backup, 'utf8'), '{"issuer": "https://connect.example", "clientId"');
    assert.equal(existsSync(file), false);
    main.command({ cmd: 'close' });
    await main.exited;
  });

  test('window bounds saved on a display that is gone: the window opens on the connected display', async () => {
    const world = scenario({ displays: [{ x: 0, y: 0, width: 1280, height: 800 }] });
    writeFileSync(join(world.userData, 'window.json'), JSON.stringify({ x: 2200, y: 300, width: 900, height: 700 }));
    const main = start(world, { CONNECT_CONFIG: config({ profile: profiles.profileFor('bounds') }) });
    const window = (await main.waitFor((e) => e.type === "window", "the window")) as unknown as { options: { x: number; y: number; width: number; height: number } };
    const { x, y, width, height } = window.options;
    assert.deepEqual([width, height], [900, 700]);
    assert.ok(x >= 0 && y >= 0 && x + width <= 1280 && y + height <= 800, JSON.stringify(window.options));
    // Closing remembers where it was.
    main.command({ cmd: 'close' });
    await main.exited;
    assert.deepEqual(JSON.parse(readFileSync(join(world.userData, 'window.json'), 'utf8')), { x, y, width, height });
  });
});

describe('the system browser', () => {
  test('Linux: shell.openExternal gets a launch page (xdg-open\'s command line is public); macOS and Windows the URL', async () => {
    for (const [platform, protocol] of [['linux', 'file:'], ['darwin', 'http:'], ['win32', 'http:']] as const) {
      const main = start(scenario({ platform, packaged: true, args: [], declaredSchemes: [IDENTITY.scheme] }), {
        CONNECT_CONFIG: config({ redirectUri: 'http://127.0.0.1/connect/oauth2callback', profile: profiles.profileFor('external') }),
        BROWSER: '',
      });
      await shown(main);
      const signIn = main.invoke('signIn');
      const opened = await main.waitFor((e) => e.type === 'open-external', 'the browser opened');
      assert.equal(opened.protocol, protocol, platform);
      await main.invoke('cancelSignIn');
      assert.equal(((await signIn) as { error: { code: string } }).error.code, 'cancelled');
      await main.stop();
    }
  });
});

describe('URLs the OS hands over (custom scheme)', () => {
  test('Windows, packaged: the sign-in completes when the OS starts a second instance with the URL', async () => {
    const profile = profiles.profileFor('win-scheme');
    const world = scenario({ platform: 'win32', packaged: true, args: [] });
    const user = browserUser({ user: 'alice', schemeHandler: [process.execPath, OS_HANDLER, world.osPortFile] });
    const main = start(world, { CONNECT_CONFIG: config({ redirectUri: SCHEME_URI, profile }), BROWSER: user.BROWSER });
    await shown(main);
    const result = (await main.invoke('signIn')) as { ok: boolean; value: { signedIn: boolean; sub: string } };
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.deepEqual([result.value.signedIn, result.value.sub], [true, 'alice']);
    // The scheme was registered for this app (the installer's scheme, so it stays when the app quits).
    assert.ok(main.events.some((e) => e.type === 'set-protocol-client' && e.scheme === IDENTITY.scheme && e.ok === true));
  });

  test('macOS, packaged: a URL handed over before ready (a launch by URL) is shown as refused, with advice', async () => {
    const url = `${SCHEME_URI}?code=stale&state=from-before-the-restart`;
    const world = scenario({ platform: 'darwin', packaged: true, args: [], declaredSchemes: [IDENTITY.scheme], openUrlsBeforeReady: [url] });
    const main = start(world, { CONNECT_CONFIG: config({ redirectUri: SCHEME_URI, profile: profiles.profileFor('mac-early') }) });
    const sent = await errorShown(main, 'no_pending_attempt');
    const error = (sent.args as { error: { message: string; advice: string } }[])[0]?.error;
    assert.match(error?.advice ?? '', /Start the sign-in from this window/);
    assert.doesNotMatch(JSON.stringify(main.events), /from-before-the-restart|stale/, 'the URL\'s state and code appear nowhere');
    assert.ok(!main.events.some((e) => e.type === 'open-url-missed'));
  });

  test('Windows and Linux: a protocol launch while the app was not running carries the URL in its own argv', async () => {
    for (const platform of ['win32', 'linux'] as const) {
      const url = `${SCHEME_URI}?code=stale&state=cold-start`;
      const world = scenario({ platform, packaged: true, args: [url] });
      const main = start(world, { CONNECT_CONFIG: config({ redirectUri: SCHEME_URI, profile: profiles.profileFor('cold') }), CHROME_DESKTOP: 'connect-desktop.desktop' });
      await errorShown(main, 'no_pending_attempt');
      await main.stop();
    }
  });

  test('macOS: a scheme the build did not declare is refused before the browser opens, and saving it too', async () => {
    const opened = join(mkdtempSync(join(tmpdir(), 'connect-browser-')), 'opened');
    const world = scenario({ platform: 'darwin', packaged: true, args: [], declaredSchemes: [IDENTITY.scheme] });
    const other = 'com.example.other-client://connect/oauth2callback';
    const main = start(world, { CONNECT_CONFIG: config({ redirectUri: other, profile: profiles.profileFor('mac-undeclared') }), BROWSER: `touch ${opened}` });
    await shown(main);
    const result = (await main.invoke('signIn')) as { ok: boolean; error: { code: string; message: string; advice: string } };
    assert.equal(result.ok, false);
    assert.equal(result.error.code, 'scheme_unavailable');
    assert.match(result.error.message, new RegExp(`this build declares "${IDENTITY.scheme.replace(/\./g, '\\.')}"`));
    assert.match(result.error.advice, /loopback/);
    assert.equal(existsSync(opened), false, 'the browser never opened');
    assert.ok(!main.events.some((e) => e.type === 'set-protocol-client' && e.scheme === 'com.example.other-client' && e.ok));
    const saved = (await main.invoke('saveSettings', [{ issuer: provider.issuer, clientId: 'com.example.other-client', scope: 'openid', redirectKind: 'custom-scheme' }])) as {
      ok: boolean;
      error: { code: string };
    };
    assert.equal(saved.error.code, 'scheme_unavailable');
    // The one-click switch: loopback is accepted.
    const switched = (await main.invoke('saveSettings', [{ issuer: provider.issuer, clientId: provider.publicClientId, scope: 'openid', redirectKind: 'loopback' }])) as {
      ok: boolean;
    };
    assert.equal(switched.ok, true);
  });

  test('a development run does not take the scheme over from the installed app, and gives back its own on quit', async () => {
    const installed = { name: 'CONNECT Desktop', path: 'C:\\Users\\u\\AppData\\Local\\Programs\\connect-desktop\\CONNECT Desktop.exe', args: [] };
    const taken = start(scenario({ platform: 'win32', registry: { [IDENTITY.scheme]: installed } }), {
      CONNECT_CONFIG: config({ redirectUri: SCHEME_URI, profile: profiles.profileFor('dev-taken') }),
      BROWSER: 'false',
    });
    await shown(taken);
    const refused = (await taken.invoke('signIn')) as { error: { code: string; message: string } };
    assert.equal(refused.error.code, 'scheme_unavailable');
    assert.match(refused.error.message, /open CONNECT Desktop, and a development run does not take the scheme over/);
    assert.ok(!taken.events.some((e) => e.type === 'set-protocol-client'), 'the installed app keeps its registration');

    const free = start(scenario({ platform: 'win32' }), { CONNECT_CONFIG: config({ redirectUri: SCHEME_URI, profile: profiles.profileFor('dev-free') }) });
    await shown(free);
    const set = await free.waitFor((e) => e.type === 'set-protocol-client', 'the registration');
    assert.deepEqual([set.ok, set.args], [true, [resolve(ROOT)]], 'a development run registers itself as `electron <app path>`');
    free.command({ cmd: 'close' });
    await free.waitFor((e) => e.type === 'remove-protocol-client' && e.scheme === IDENTITY.scheme, 'the registration removed on quit');
  });
});

describe('npm start and npm run app', () => {
  const START = join(ROOT, 'dist/test/provider/start-app.js');
  const run = (args: string[], env: NodeJS.ProcessEnv) =>
    promisify(execFile)(process.execPath, [START, ...args], { env: { ...process.env, ...env }, timeout: 60_000 }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );

  test('without an Electron binary: what is missing and what to do, no download attempt or stack trace', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'connect-no-electron-'));
    const result = await run([], { ELECTRON_OVERRIDE_DIST_PATH: empty, CONNECT_DEMO_PORT: '0' });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /the Electron binary is missing, so the app cannot start/);
    assert.match(result.stderr, new RegExp(`ELECTRON_OVERRIDE_DIST_PATH is ${empty}`));
    assert.match(result.stderr, /The CLI and the library work without Electron/);
    assert.doesNotMatch(result.stderr, /fetch failed|Downloading| {4}at /);
    assert.equal(result.stdout, '', 'the demo provider was not started for nothing');
  });

  test('with ELECTRON_OVERRIDE_DIST_PATH: the demo provider, then that Electron with the app and the demo issuer', async () => {
    const dist = mkdtempSync(join(tmpdir(), 'connect-electron-dist-'));
    const executable = join(dist, 'electron');
    // An "Electron" that prints what it was started with and asks the demo provider for its discovery document.
    writeFileSync(executable, `#!/bin/sh\necho "args: $*"\nnode -e 'fetch(process.env.CONNECT_DEMO_ISSUER + "/.well-known/openid-configuration").then(r => r.json()).then(d => console.log("issuer: " + d.issuer))'\n`);
    chmodSync(executable, 0o755);
    const result = await run([], { ELECTRON_OVERRIDE_DIST_PATH: dist, CONNECT_DEMO_PORT: '0' });
    assert.equal(result.code, 0, result.stderr);
    const issuer = /Demo provider: (\S+)/.exec(result.stdout)?.[1];
    assert.ok(issuer, result.stdout);
    assert.match(result.stdout, new RegExp(`args: ${ROOT.replace(/\/$/, '')}/?\n`));
    assert.match(result.stdout, new RegExp(`issuer: ${issuer}`));
  });
});

describe('the rules main.ts applies, one OS at a time', () => {

  /** The stand-in's app object playing one OS, with a registry to start from. */
  function os(platform: 'linux' | 'win32' | 'darwin', packaged: boolean, registry: Record<string, { name: string; path: string; args: string[] }> = {}) {
    standin.world.scenario = scenario({ platform, packaged, declaredSchemes: [IDENTITY.scheme], registry });
    standin.world.execPath = '/opt/app/connect';
    return standin.world.scenario.registry;
  }
  const dev = { path: '/opt/electron/electron', args: ['/src/my app'] };

  test('macOS: only the declared scheme, only when packaged', async () => {
    os('darwin', true);
    const packaged = schemeRegistrar({ app: standin.app, platform: 'darwin', declared: IDENTITY.scheme });
    await packaged.receive(IDENTITY.scheme);
    await assert.rejects(packaged.receive('com.example.other'), (e: { code: string; message: string }) => e.code === 'scheme_unavailable' && /Info\.plist/.test(e.message));
    os('darwin', false);
    const development = schemeRegistrar({ app: standin.app, platform: 'darwin', declared: IDENTITY.scheme, development: dev });
    await assert.rejects(development.receive(IDENTITY.scheme), (e: { message: string }) => /Electron's own app declares none/.test(e.message));
  });

  test('Windows, packaged: another scheme is registered at run time and given back when the app moves on, never the installer\'s', async () => {
    const registry = os('win32', true);
    const schemes = schemeRegistrar({ app: standin.app, platform: 'win32', declared: IDENTITY.scheme });
    await schemes.receive('com.example.other');
    assert.ok(registry['com.example.other']);
    await schemes.receive(IDENTITY.scheme);
    assert.equal(registry['com.example.other'], undefined, 'the run-time scheme is given back');
    await schemes.receive('com.example.third');
    assert.ok(registry[IDENTITY.scheme], 'the installer\'s scheme stays');
    schemes.release();
    assert.ok(registry['com.example.third'], 'a packaged app keeps its registration when it quits (the browser can start it)');
  });

  test('Windows, development run: registers itself as `electron <app>`, never over another app, and gives it back on quit', async () => {
    const installed = { name: 'CONNECT Desktop', path: 'C:\\Program Files\\CONNECT Desktop\\CONNECT Desktop.exe', args: [] };
    const registry = os('win32', false, { [IDENTITY.scheme]: installed });
    const schemes = schemeRegistrar({ app: standin.app, platform: 'win32', declared: IDENTITY.scheme, development: dev });
    await assert.rejects(schemes.receive(IDENTITY.scheme), (e: { message: string }) => /open CONNECT Desktop/.test(e.message));
    assert.deepEqual(registry[IDENTITY.scheme], installed);
    await schemes.receive('com.example.free');
    // Windows joins the arguments unquoted into `"<exe>" <args> "%1"`: a path with a space is quoted.
    assert.deepEqual(registry['com.example.free'], { name: 'Electron', path: dev.path, args: ['"/src/my app"'] });
    schemes.release();
    assert.equal(registry['com.example.free'], undefined);
    assert.deepEqual(registry[IDENTITY.scheme], installed, 'still the installed app\'s');
  });

  test('Linux: a development run has no .desktop file of its own, so it registers nothing and says so', async () => {
    const registry = os('linux', false);
    const schemes = schemeRegistrar({ app: standin.app, platform: 'linux', declared: IDENTITY.scheme, development: dev });
    await assert.rejects(schemes.receive(IDENTITY.scheme), (e: { code: string; message: string }) => e.code === 'scheme_unavailable' && /\.desktop file/.test(e.message));
    assert.deepEqual(registry, {}, 'Electron would have named the installed app\'s desktop file');
    os('linux', true);
    await schemeRegistrar({ app: standin.app, platform: 'linux', declared: IDENTITY.scheme }).receive(IDENTITY.scheme);
  });

  test('the URL in a command line: only a scheme this app takes, wherever Chromium put its switches', async () => {
    os('win32', true);
    const schemes = schemeRegistrar({ app: standin.app, platform: 'win32', declared: IDENTITY.scheme });
    const url = `${IDENTITY.scheme.toUpperCase()}://connect/oauth2callback?code=c&state=s`;
    assert.equal(schemes.urlIn(['C:\\app.exe', '--original-process-start-time=1', url]), url);
    assert.equal(schemes.urlIn(['C:\\app.exe', 'https://evil.example/?x=' + IDENTITY.scheme, 'file:///C:/x']), undefined);
    // Before the settings' scheme is known (a launch by URL), another custom scheme is taken too, to be
    // refused where the user sees it; once it is known, only it and the declared one.
    const other = 'com.example.client-id://connect/oauth2callback?code=c&state=s';
    assert.equal(schemes.urlIn(['C:\\app.exe', other]), other);
    await schemes.receive('com.example.client-id');
    assert.equal(schemes.urlIn(['C:\\app.exe', 'com.example.third://x']), undefined);
  });

  test('window placement: a saved place off every display comes back centred on the primary one, shrunk to fit', () => {
    const laptop = { x: 0, y: 0, width: 1440, height: 860 };
    const monitor = { x: 1440, y: 0, width: 2560, height: 1400 };
    // On the monitor, which is still there: kept.
    assert.deepEqual(placeWindow({ x: 2000, y: 100, width: 1200, height: 900 }, [laptop, monitor]), { x: 2000, y: 100, width: 1200, height: 900 });
    // The monitor is gone: centred on the laptop, no larger than it.
    assert.deepEqual(placeWindow({ x: 2000, y: 100, width: 1200, height: 900 }, [laptop]), { x: 120, y: 0, width: 1200, height: 860 });
    // Only the title bar's corner on screen is not enough; a window hanging off an edge is pulled in.
    assert.deepEqual(placeWindow({ x: 1400, y: 820, width: 800, height: 600 }, [laptop]), { x: 320, y: 130, width: 800, height: 600 });
    assert.deepEqual(placeWindow({ x: 1000, y: 10, width: 800, height: 600 }, [laptop]), { x: 640, y: 10, width: 800, height: 600 });
    // A display left of the primary (negative coordinates) counts.
    assert.deepEqual(placeWindow({ x: -1500, y: 50, width: 800, height: 600 }, [laptop, { x: -1920, y: 0, width: 1920, height: 1040 }]), {
      x: -1500, y: 50, width: 800, height: 600,
    });
    // First run: the default size, centred.
    assert.deepEqual(placeWindow(undefined, [laptop]), { x: 340, y: 90, width: 760, height: 680 });
    // The saved file: garbage, a negative or absurd size, or a place without numbers is not used.
    for (const text of ['', 'null', '{', '{"width":-5,"height":600}', '{"width":1e9,"height":600}', '[]']) assert.equal(parseSavedBounds(text), undefined, text);
    assert.deepEqual(parseSavedBounds('{"width":800,"height":600,"x":"1","y":2}'), { width: 800, height: 600 });
  });
});
