// Starts the built main process in a child Node process with the `electron` stand-in (see
// electron-harness.ts), and gives a test its events and the user's and the OS's actions.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InvokeMethod } from '../../src/app/app-api.js';
import { IDENTITY } from '../../src/config/identity.js';
import { ROOT } from './cli.js';
import type { Scenario } from './electron-standin.js';

const HARNESS = join(ROOT, 'dist/test/support/electron-harness.js');
const REGISTER = join(ROOT, 'dist/test/support/electron-standin-register.js');
/** The command the browser runs for a custom-scheme redirect, to hand it to the harness's "OS". */
export const OS_HANDLER = join(ROOT, 'dist/test/support/electron-os.js');

export type MainEvent = Record<string, unknown> & { type: string };

export interface RunningMain {
  child: ChildProcessWithoutNullStreams;
  events: MainEvent[];
  stderr(): string;
  /** The first event (already seen or still to come) that matches. */
  waitFor(match: (event: MainEvent) => boolean, what: string, timeoutMs?: number): Promise<MainEvent>;
  /** Calls an IPC method as the page (or a subframe, or another window) would; its result. */
  invoke(method: InvokeMethod, args?: unknown[], sender?: 'page' | 'subframe' | 'other' | 'navigated'): Promise<unknown>;
  command(command: Record<string, unknown>): void;
  /** The AppEvents the window was sent so far. */
  appEvents(): Record<string, unknown>[];
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export function scenario(overrides: Partial<Scenario> = {}): Scenario {
  const appData = mkdtempSync(join(tmpdir(), 'connect-appdata-'));
  const userData = join(appData, IDENTITY.folderName);
  mkdirSync(userData);
  return {
    platform: 'linux',
    packaged: false,
    args: [ROOT],
    declaredSchemes: [],
    registry: {},
    openUrlsBeforeReady: [],
    displays: [{ x: 0, y: 0, width: 1280, height: 800 }],
    appData,
    userData,
    anotherInstance: false,
    osPortFile: join(userData, 'os-port'),
    ...overrides,
  };
}

export function startMain(world: Scenario, env: NodeJS.ProcessEnv = {}): RunningMain {
  const child = spawn(process.execPath, ['--import', REGISTER, HARNESS], {
    env: { ...process.env, ...env, CONNECT_STANDIN: JSON.stringify(world) },
    stdio: ['pipe', 'pipe', 'pipe'],
  }) as ChildProcessWithoutNullStreams;
  const events: MainEvent[] = [];
  const waiters: { match: (e: MainEvent) => boolean; resolve: (e: MainEvent) => void }[] = [];
  let stderr = '';
  let buffer = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => {
    buffer += d.toString();
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (!line.startsWith('{')) continue;
      const event = JSON.parse(line) as MainEvent;
      events.push(event);
      for (const waiter of waiters.splice(0)) {
        if (waiter.match(event)) waiter.resolve(event);
        else waiters.push(waiter);
      }
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let nextId = 1;
  const waitFor: RunningMain['waitFor'] = (match, what, timeoutMs = 20_000) => {
    const seen = events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${what} within ${timeoutMs} ms; events: ${JSON.stringify(events.map((e) => e.type))}; stderr: ${stderr.slice(-2000)}`)),
        timeoutMs,
      );
      waiters.push({
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  };
  const command = (c: Record<string, unknown>) => child.stdin.write(`${JSON.stringify(c)}\n`);
  return {
    child,
    events,
    stderr: () => stderr,
    waitFor,
    command,
    async invoke(method, args = [], sender = 'page') {
      const id = nextId++;
      command({ cmd: 'invoke', id, method, args, sender });
      return (await waitFor((e) => e.type === 'result' && e.id === id, `the result of ${method}`, 90_000)).value;
    },
    appEvents: () => events.filter((e) => e.type === 'send' && e.channel === 'connect:event').map((e) => (e.args as Record<string, unknown>[])[0] as Record<string, unknown>),
    exited,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
