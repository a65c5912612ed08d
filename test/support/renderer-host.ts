// The app's renderer outside Electron: its built files served to Chromium, with `window.connect`
// bridged (Playwright's exposeBinding) to a real ConnectApi in the test process, the same API the
// preload exposes. What the page can reach is exactly what it could reach in the app.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { CHANNELS, type AppEvent, type ConnectApi } from '../../src/app/app-api.js';
import { ROOT } from './cli.js';

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css' };

export class RendererHost {
  #server!: Server;
  #origin = '';

  static async start(): Promise<RendererHost> {
    const host = new RendererHost();
    const dir = join(ROOT, 'dist/renderer');
    host.#server = createServer((req, res) => {
      const path = normalize(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '') || 'index.html';
      readFile(join(dir, path)).then(
        (body) => {
          res.writeHead(200, { 'Content-Type': TYPES[extname(path)] ?? 'application/octet-stream' });
          res.end(body);
        },
        () => {
          res.writeHead(404);
          res.end();
        },
      );
    });
    await new Promise<void>((resolve) => host.#server.listen(0, '127.0.0.1', resolve));
    host.#origin = `http://127.0.0.1:${(host.#server.address() as AddressInfo).port}`;
    return host;
  }

  /** A window showing the renderer, talking to `api`. */
  async open(browser: Browser, api: ConnectApi, colorScheme: 'light' | 'dark' = 'light', options: { fakeClock?: boolean } = {}): Promise<Page> {
    const context = await browser.newContext({ colorScheme, viewport: { width: 760, height: 640 } });
    // A clock the test moves (page.clock.fastForward), for what the page does on timers.
    if (options.fakeClock) await context.clock.install();
    const page = await context.newPage();
    await page.exposeBinding('__connectCall', (_source, method: string, args: unknown[]) => {
      const fn = api[method as keyof ConnectApi] as (...a: unknown[]) => unknown;
      return fn(...args);
    });
    // Events go the other way, as the preload's ipcRenderer.on does: the page's listeners, called with the event.
    await page.addInitScript((methods: string[]) => {
      type Page = { __connectCall: (m: string, a: unknown[]) => Promise<unknown>; __connectEvent: (e: unknown) => void; connect: unknown };
      const w = globalThis as unknown as Page;
      const listeners: ((e: unknown) => void)[] = [];
      w.__connectEvent = (e) => listeners.forEach((listener) => listener(e));
      const calls = Object.fromEntries(methods.map((m) => [m, (...a: unknown[]) => w.__connectCall(m, a)]));
      w.connect = Object.freeze({ ...calls, onEvent: (listener: (e: unknown) => void) => void listeners.push(listener) });
    }, Object.keys(CHANNELS));
    api.onEvent((event: AppEvent) => {
      void page.evaluate((e) => (globalThis as unknown as { __connectEvent: (e: unknown) => void }).__connectEvent(e), event).catch(() => {});
    });
    await page.goto(`${this.#origin}/index.html`);
    return page;
  }

  close(): void {
    this.#server.close();
  }
}
