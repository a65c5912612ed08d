// One chromium profile shared by several sign-ins in a test, as a user's everyday browser is: the
// provider's single sign-on cookie persists between them.
import type { Browser, BrowserContext } from 'playwright-core';
import type { BrowserOpener } from '../../src/browser/opener.js';
import { launchChromium } from './chromium.js';
import { actOnProviderPages, type ProviderPagesOptions, type ProviderStep } from './provider-pages.js';

export class SharedBrowser {
  #browser!: Browser;
  #context!: BrowserContext;
  /** What the user did on the provider's pages, one entry per opened URL. */
  readonly visits: Array<Promise<ProviderStep[]>> = [];

  static async start(): Promise<SharedBrowser> {
    const shared = new SharedBrowser();
    shared.#browser = await launchChromium();
    shared.#context = await shared.#browser.newContext();
    return shared;
  }

  /** The system browser for the app under test: opens the URL and acts as the user. */
  opener(options: Partial<ProviderPagesOptions> = {}): BrowserOpener {
    return {
      open: async (url) => {
        const page = await this.#context.newPage();
        const visit = (async () => {
          await page.goto(url);
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

  lastVisit(): Promise<ProviderStep[]> {
    return this.visits.at(-1) ?? Promise.resolve([]);
  }

  async close(): Promise<void> {
    await this.#browser.close();
  }
}
