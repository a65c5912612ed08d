// What a user does on the provider's pages: oidc-provider's sign-in and consent screens, or, when the
// browser is on Glewlwyd's login app, what test/interop/glewlwyd-pages.ts does there.
import type { Page } from 'playwright-core';
import { actOnGlewlwydPages } from '../interop/glewlwyd-pages.js';

export interface ProviderPagesOptions {
  user: string;
  password: string;
  /** approve: sign in and consent; deny: press Cancel on the sign-in page. */
  action: 'approve' | 'deny';
  /** Stop once the browser reaches this origin (the app's loopback redirect). */
  stopAtOrigin?: string;
  timeoutMs?: number;
}

export type ProviderStep = 'login' | 'cancel' | 'consent' | 'logout';

/**
 * Sign in and consent (or cancel), or confirm a logout, until the flow leaves the provider's pages.
 * Resolves with the steps taken: a session the provider remembers (single sign-on) skips 'login'.
 */
export async function actOnProviderPages(page: Page, options: ProviderPagesOptions): Promise<ProviderStep[]> {
  const steps: ProviderStep[] = [];
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    await page.waitForLoadState('domcontentloaded');
    const here = new URL(page.url());
    if (options.stopAtOrigin && here.origin === options.stopAtOrigin) return steps;
    if (here.pathname.endsWith('/login.html')) {
      return [...steps, ...(await actOnGlewlwydPages(page, { ...options, timeoutMs: Math.max(1000, deadline - Date.now()) }))];
    }
    // The next page has committed (its load may never finish: the app's loopback closes at once).
    const moved = () => page.waitForURL((u) => u.href !== here.href, { waitUntil: 'commit' });
    if (await page.locator('input[name="login"]').count()) {
      if (options.action === 'deny') {
        steps.push('cancel');
        await Promise.all([moved(), page.locator('a[href*="/abort"]').click()]);
        continue;
      }
      steps.push('login');
      await page.fill('input[name="login"]', options.user);
      await page.fill('input[name="password"]', options.password);
      await Promise.all([moved(), page.click('button[type="submit"]')]);
      continue;
    }
    if (await page.locator('button[type="submit"]', { hasText: 'Continue' }).count()) {
      if (options.action === 'deny') {
        steps.push('cancel');
        await Promise.all([moved(), page.locator('a[href*="/abort"]').click()]);
        continue;
      }
      steps.push('consent');
      await Promise.all([moved(), page.click('button[type="submit"]')]);
      continue;
    }
    if (await page.locator('button[name="logout"][value="yes"]').count()) {
      steps.push('logout');
      await Promise.all([moved(), page.click('button[name="logout"][value="yes"]')]);
      continue;
    }
    // Anything else (an oob result page, an error page) is where the flow ends in the browser.
    return steps;
  }
  throw new Error('the provider pages did not lead anywhere in time');
}
