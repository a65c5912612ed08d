// What a user does on Glewlwyd's pages (its login.html single-page app, English, see glewlwyd.ts):
// sign in with user name and password, grant the requested scopes, press Continue; or confirm an
// end-session (logout) prompt. The app draws itself after a few API calls, so each step waits for one
// of the views it knows rather than for the page load. Glewlwyd's pages offer no way to refuse (no
// Cancel; Continue without granting still gets the client a code, for openid alone): 'deny' walks
// away, leaving the browser on Glewlwyd's page, and the client never hears back.
import type { Page } from 'playwright-core';

export interface GlewlwydPagesOptions {
  user: string;
  password: string;
  action: 'approve' | 'deny';
  /** Stop once the browser reaches this origin (the app's loopback redirect). */
  stopAtOrigin?: string;
  timeoutMs?: number;
}

export type GlewlwydStep = 'login' | 'consent' | 'logout' | 'cancel';

const VIEW = {
  password: '#passwordForm #loginbut',
  proceed: 'button.btn-success:has-text("Continue")',
  endSession: 'h3:has-text("End session")',
  closed: 'h3:has-text("Session closed")',
  problem: '.card .alert-danger, .card .alert-warning',
};
type View = keyof typeof VIEW;
/** Shown with Continue when scopes wait for consent (alone, for a moment, while the app loads). */
const GRANT = 'button.btn-primary:has-text("Grant access")';

/** Which view the login app shows once it has settled (after a sign-in, Continue is drawn last). */
async function settledView(page: Page, timeout: () => number): Promise<View> {
  await page.locator(Object.values(VIEW).join(', ')).first().waitFor({ state: 'visible', timeout: timeout() });
  for (const view of Object.keys(VIEW) as View[]) {
    if (await page.locator(VIEW[view]).first().isVisible()) return view;
  }
  return settledView(page, timeout);
}

/**
 * Sign in and consent (or refuse), or confirm a logout, until the flow leaves Glewlwyd's pages.
 * Resolves with the steps taken: a session Glewlwyd remembers (single sign-on) skips 'login', a
 * grant it remembers skips 'consent'.
 */
export async function actOnGlewlwydPages(page: Page, options: GlewlwydPagesOptions): Promise<GlewlwydStep[]> {
  const steps: GlewlwydStep[] = [];
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const left = () => Math.max(deadline - Date.now(), 1);
  let glewlwyd: string | undefined;
  while (Date.now() < deadline) {
    await page.waitForLoadState('domcontentloaded');
    const here = new URL(page.url());
    if (options.stopAtOrigin && here.origin === options.stopAtOrigin) return steps;
    glewlwyd ??= here.origin;
    // Anything but the login app (the client's page, an error answer of the API) ends the flow here.
    if (here.origin !== glewlwyd || !here.pathname.endsWith('/login.html')) return steps;
    // The next page has committed (its load may never finish: the app's loopback closes at once).
    const moved = () => page.waitForURL((u) => u.href !== here.href, { waitUntil: 'commit', timeout: left() });
    const view = await settledView(page, left);
    if (options.action === 'deny' && (view === 'password' || view === 'proceed')) {
      steps.push('cancel');
      return steps;
    }
    if (view === 'password') {
      if (steps.filter((s) => s === 'login').length >= 2) throw new Error('Glewlwyd refused the user name or password');
      steps.push('login');
      if (await page.locator('#username').isEditable()) await page.fill('#username', options.user);
      await page.fill('#password', options.password);
      await page.click(VIEW.password);
      // The app redraws in place: wait for the password form to go.
      await page.locator(VIEW.password).waitFor({ state: 'detached', timeout: Math.min(left(), 10_000) }).catch(() => undefined);
      continue;
    }
    if (view === 'proceed') {
      if (await page.locator(GRANT).isVisible()) {
        steps.push('consent');
        // Each scope but openid has a box to tick (unticked, Grant would grant openid alone).
        for (const box of await page.locator('input[type="checkbox"][id^="grant-"]').all()) await box.check();
        await page.click(GRANT);
        await page.locator(GRANT).waitFor({ state: 'detached', timeout: left() });
      }
      const [gone] = await Promise.all([moved().then(() => 'left', (e: Error) => e), page.click(VIEW.proceed, { timeout: left() })]);
      // A redirect URI the browser cannot open (oob, a custom scheme) aborts the navigation: done too.
      if (gone instanceof Error && /net::ERR_/.test(gone.message)) return steps;
      if (gone instanceof Error) throw gone;
      continue;
    }
    if (view === 'endSession') {
      steps.push('logout');
      // Either Glewlwyd sends the browser to the post-logout redirect URI, or it says the session closed.
      const gone = moved().then(() => true, () => false);
      const closed = page.locator(VIEW.closed).waitFor({ timeout: left() }).then(() => true, () => false);
      // The first red button is Logout (the next one opens a menu of wider logouts).
      await page.locator('button.btn-danger:has-text("Logout")').first().click();
      await Promise.race([gone, closed]);
      continue;
    }
    // 'closed' (signed out, no post-logout redirect), or a problem the app shows: the flow ends here.
    if (view === 'problem') {
      const text = (await page.locator(VIEW.problem).first().textContent()) ?? '';
      if (steps.length === 0 && options.action === 'approve') throw new Error(`Glewlwyd's login page says: ${text.trim()}`);
    }
    return steps;
  }
  throw new Error("Glewlwyd's pages did not lead anywhere in time");
}
