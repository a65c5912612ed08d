// Runs the built main process (dist/main/main.js) under plain Node with the `electron` stand-in, as
// Electron would: the scenario's platform and command line, the main module evaluated first, then
// (macOS) URLs handed over before `ready`, then `ready`. Reports every event as a JSON line on
// stdout; takes the OS's and the user's actions as JSON lines on stdin:
//   {"cmd":"invoke","id":1,"method":"signIn","args":[],"sender":"page"|"subframe"|"other"|"navigated"}
//   {"cmd":"second-instance","argv":[...]}   {"cmd":"open-url","url":"..."}   {"cmd":"close"}
// and, as the OS's URL handler, POST / with a URL body on the port it writes to scenario.osPortFile.
//   node --import ./electron-standin-register.js electron-harness.js   (CONNECT_STANDIN=<scenario JSON>)
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CHANNELS, type InvokeMethod } from '../../src/app/app-api.js';
import { app, world, type Scenario } from './electron-standin.js';

/** The main module: the app's, or another (CONNECT_STANDIN_MAIN, e.g. examples/electron-main.mjs). */
const MAIN = process.env.CONNECT_STANDIN_MAIN ?? fileURLToPath(new URL('../../main/main.js', import.meta.url));
/** How long evaluating the main module may take before it counts as hung. */
const EVALUATION_LIMIT_MS = 5000;

const report = (event: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(event)}\n`);
world.report = report;
const scenario = JSON.parse(process.env.CONNECT_STANDIN ?? '{}') as Scenario;
world.scenario = scenario;
world.execPath = process.execPath;

// The process Electron would be: its platform, its command line, and whether it is a development run.
// The keychain's native binding is chosen by platform when it loads: load this machine's first, so
// the app's keychain calls reach the real Secret Service whatever platform the scenario plays.
await import('@napi-rs/keyring');
Object.defineProperty(process, 'platform', { value: scenario.platform });
process.argv = [process.execPath, ...scenario.args];
if (!scenario.packaged) (process as { defaultApp?: boolean }).defaultApp = true;

// The OS's side of a custom-scheme redirect: the browser's handler command posts the URL here.
const os = createServer((req, res) => {
  let body = '';
  req.on('data', (d: Buffer) => (body += d.toString()));
  req.on('end', () => {
    res.end();
    handOver(body);
  });
});
await new Promise<void>((resolve) => os.listen(0, '127.0.0.1', resolve));
os.unref();
writeFileSync(scenario.osPortFile, String((os.address() as AddressInfo).port));

/** The OS hands a URL to the running app: open-url on macOS; a second instance's argv elsewhere. */
function handOver(url: string): void {
  if (scenario.platform === 'darwin') app.emit('open-url', { preventDefault() {} }, url);
  // Windows starts `"app.exe" "%1"` (a development run: `"electron.exe" "<app path>" "%1"`), and
  // Chromium may add switches of its own.
  else app.emit('second-instance', {}, [process.execPath, '--original-process-start-time=1', ...scenario.args.filter((a) => !a.includes(':')), url], process.cwd(), {});
}

const evaluated = import(MAIN).then(
  () => 'done',
  (error: unknown) => {
    report({ type: 'main-threw', message: error instanceof Error ? error.message : String(error) });
    return 'threw';
  },
);
const outcome = await Promise.race([evaluated, new Promise((resolve) => setTimeout(() => resolve('hung'), EVALUATION_LIMIT_MS))]);
if (outcome === 'hung') {
  // Electron would wait for the module forever before `ready`: no window, ever.
  report({ type: 'main-did-not-finish-evaluating', ms: EVALUATION_LIMIT_MS });
  process.exit(3);
}
report({ type: 'main-evaluated' });

// macOS: a launch by URL hands it over before `ready` (applicationWillFinishLaunching).
app.emit('will-finish-launching');
for (const url of scenario.openUrlsBeforeReady) {
  if (app.listenerCount('open-url') === 0) report({ type: 'open-url-missed', url });
  else app.emit('open-url', { preventDefault() {} }, url);
}
app._emitReady();
report({ type: 'ready' });

const methods = CHANNELS as Record<InvokeMethod, string>;
createInterface({ input: process.stdin }).on('line', (line) => {
  const command = JSON.parse(line) as Record<string, unknown>;
  switch (command.cmd) {
    case 'invoke': {
      const handler = world.handlers.get(methods[command.method as InvokeMethod]);
      const window = world.windows[0];
      if (!handler || !window) return report({ type: 'result', id: command.id, missing: true });
      const frames = {
        page: { sender: window.webContents, senderFrame: window.webContents.mainFrame },
        subframe: { sender: window.webContents, senderFrame: { url: window.webContents.mainFrame.url } },
        other: { sender: {}, senderFrame: { url: window.webContents.mainFrame.url } },
        // The window's own main frame, showing something else (as if it had navigated away).
        navigated: { sender: window.webContents, senderFrame: { ...window.webContents.mainFrame, url: 'file:///app/dist/renderer/index.html' } },
      };
      void Promise.resolve(handler(frames[(command.sender as keyof typeof frames) ?? 'page'], ...((command.args as unknown[]) ?? []))).then((value) =>
        report({ type: 'result', id: command.id, value }),
      );
      return;
    }
    case 'second-instance':
      return void app.emit('second-instance', {}, command.argv, process.cwd(), {});
    case 'open-url':
      return void app.emit('open-url', { preventDefault() {} }, command.url);
    case 'close':
      return world.windows[0]?.close();
  }
});
