// One chromium profile shared by several sign-ins in a test, as a user's everyday browser is: the
// provider's single sign-on cookie persists between them.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import type { BrowserOpener } from '../../src/browser/opener.js';
import { launchChromium } from './chromium.js';
import { actOnProviderPages, type ProviderPagesOptions, type ProviderStep } from './provider-pages.js';

export class SharedBrowser {
  #browser!: Browser;
  #context!: BrowserContext;
  /** What the user did on the provider's pages, one entry per opened URL. */
  readonly visits: Array<Promise<ProviderStep[]>> = [];

  static async start(contextOptions: BrowserContextOptions = {}): Promise<SharedBrowser> {
    const shared = new SharedBrowser();
    shared.#browser = await launchChromium();
    shared.#context = await shared.#browser.newContext(contextOptions);
    return shared;
  }

  /** A new tab in this browser, for a test that acts on the pages itself. */
  page(): Promise<Page> {
    return this.#context.newPage();
  }

  /** The system browser for the app under test: opens the URL and acts as the user. */
  opener(options: Partial<ProviderPagesOptions> = {}): BrowserOpener {
    return {
      open: async (url) => {
        const page = await this.#context.newPage();
        const visit = (async () => {
          await page.goto(url);
          // A launch page (from connect-login's BROWSER command) takes the browser on to the provider.
          if (url.startsWith('file:')) await page.waitForURL((u) => u.protocol !== 'file:');
          const steps = await actOnProviderPages(page, { user: 'alice', password: 'pw', action: 'approve', ...options });
          await page.close();
          return steps;
        })();
        // A failed visit shows in lastVisit() (and in the sign-in waiting for it), not as a crash.
        visit.catch(() => {});
        this.visits.push(visit);
      },
    };
  }

  #relay: Server | undefined;
  #relayOptions: Array<Partial<ProviderPagesOptions>> = [];

  /**
   * A BROWSER command line for a child process (connect-login): it hands the URL to this browser, as
   * xdg-open hands a URL to the user's running browser.
   */
  async command(options: Partial<ProviderPagesOptions> = {}): Promise<string> {
    if (!this.#relay) {
      this.#relay = createServer((req, res) => {
        let body = '';
        req.on('data', (c: Buffer) => (body += c.toString()));
        req.on('end', () => {
          const { id, url } = JSON.parse(body) as { id: number; url: string };
          void this.opener(this.#relayOptions[id] ?? {}).open(url);
          res.end();
        });
      });
      await new Promise<void>((resolve) => this.#relay?.listen(0, '127.0.0.1', resolve));
    }
    const id = this.#relayOptions.push(options) - 1;
    const port = (this.#relay.address() as AddressInfo).port;
    const script = fileURLToPath(new URL('./open-url.js', import.meta.url));
    return `node '${script}' ${port} ${id}`;
  }

  lastVisit(): Promise<ProviderStep[]> {
    return this.visits.at(-1) ?? Promise.resolve([]);
  }

  async close(): Promise<void> {
    this.#relay?.close();
    await this.#browser.close();
  }
}
