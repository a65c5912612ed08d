// A stand-in for the user at the system browser. Tests set BROWSER to
//   node dist/test/support/browser-driver.js [--user NAME] [--action approve|deny] [--tamper T] --report FILE
// so the app opens the authorization URL in real chromium, and this program signs in on the real
// provider's pages as the user would, then records what the browser finally showed.
// --tamper changes the redirect on its way to the app (state=VALUE, drop-iss, iss=VALUE), through a
// small proxy in front of the browser, as a man in the middle would: Playwright's request routing does
// not see requests that a redirect leads to, and the provider reaches the app through a 303.
// --headful shows a real window (oob:auto reads its title); --hold-until FILE keeps it open until FILE exists.
// --scheme-handler CMD plays the OS for a custom-scheme redirect: CMD gets the URL as its last argument.
// The report holds where the browser landed (origin and path, no query) and what the page showed.
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { parseArgs } from 'node:util';
import { launchChromium } from './chromium.js';
import { shellWords } from '../../src/browser/shell-words.js';
import { launchTarget } from './launch-target.js';
import { actOnProviderPages } from './provider-pages.js';
import { startProxy } from './proxy.js';

export interface DriverReport {
  ok: boolean;
  /** Where the browser ended: origin and path of the redirect (no query). */
  landedOn?: string;
  title?: string;
  heading?: string;
  text?: string;
  /** The code an oob page shows for copying, as the user would copy it. */
  shownCode?: string;
  error?: string;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    user: { type: 'string', default: 'alice' },
    password: { type: 'string', default: 'correct horse' },
    action: { type: 'string', default: 'approve' },
    tamper: { type: 'string' },
    'scheme-handler': { type: 'string' },
    headful: { type: 'boolean', default: false },
    'hold-until': { type: 'string' },
    report: { type: 'string' },
    timeout: { type: 'string', default: '60' },
  },
});

// What the app handed over: a launch page's file:// URL (src/browser/launch-page.ts). Opening it
// sends the browser on to the authorization URL, which the driver also reads from it, as the
// browser does, to know where the app's redirect goes.
const opened = positionals.at(-1) ?? '';
const authorizationUrl = new URL(launchTarget(opened));
const redirectUri = authorizationUrl.searchParams.get('redirect_uri') ?? '';
const redirectOrigin = redirectUri.startsWith('http') ? new URL(redirectUri).origin : '';

function report(result: DriverReport): void {
  if (!values.report) return;
  writeFileSync(`${values.report}.tmp`, JSON.stringify(result, null, 2));
  renameSync(`${values.report}.tmp`, values.report);
}

function tamper(url: URL): URL {
  const how = values.tamper;
  if (!how) return url;
  if (how === 'drop-iss') url.searchParams.delete('iss');
  else if (how.startsWith('state=')) url.searchParams.set('state', how.slice(6));
  else if (how.startsWith('iss=')) url.searchParams.set('iss', how.slice(4));
  return url;
}

let handedOver: Promise<void> | undefined;
const proxy =
  values.tamper || values['scheme-handler']
    ? await startProxy({
        rewrite: (url) => (url.origin === redirectOrigin ? tamper(url) : url),
        onExternalRedirect: (location) => {
          // Play the OS: launch the registered handler command with the URL as one more argument.
          const [file, ...args] = shellWords(values['scheme-handler'] ?? 'true');
          handedOver = new Promise((resolve) => {
            execFile(file as string, [...args, location], () => resolve());
          });
        },
      })
    : undefined;
const browser = await launchChromium({ args: proxy?.args ?? [], headless: !values.headful });
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(opened);
  // The launch page's refresh takes the browser on to the provider.
  if (opened.startsWith('file:')) await page.waitForURL((url) => url.protocol !== 'file:');
  await actOnProviderPages(page, {
    user: values.user,
    password: values.password,
    action: values.action === 'deny' ? 'deny' : 'approve',
    stopAtOrigin: redirectOrigin,
    timeoutMs: Number(values.timeout) * 1000,
  });
  await page.waitForLoadState('load');
  await handedOver;
  const landed = new URL(page.url());
  report({
    ok: true,
    landedOn: `${landed.origin === 'null' ? landed.protocol : landed.origin}${landed.pathname}`,
    title: await page.title(),
    heading: (await page.locator('h1').first().textContent({ timeout: 5000 }).catch(() => null)) ?? '',
    text: (await page.locator('body').innerText({ timeout: 5000 }).catch(() => '')).trim(),
    ...((await page.locator('textarea#code').count()) ? { shownCode: await page.locator('textarea#code').inputValue() } : {}),
  });
  // oob:auto: keep the window (and its title) up until the test has seen the app pick it up.
  const release = values['hold-until'];
  for (let i = 0; release && i < 600 && !existsSync(release); i++) await new Promise((r) => setTimeout(r, 100));
} catch (error) {
  report({ ok: false, error: (error as Error).message });
  process.exitCode = 1;
} finally {
  await browser.close();
  proxy?.close();
}
