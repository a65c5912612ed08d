// A stand-in for the user at the system browser. Tests set BROWSER to
//   node dist/test/support/browser-driver.js [--user NAME] [--action approve|deny] [--tamper T] --report FILE
// so the app opens the authorization URL in real chromium, and this program signs in on the real
// provider's pages as the user would, then records what the browser finally showed.
// --tamper changes the redirect on its way to the app (state=VALUE, drop-iss, iss=VALUE), through a
// small proxy in front of the browser, as a man in the middle would: Playwright's request routing does
// not see requests that a redirect leads to, and the provider reaches the app through a 303.
// The report holds where the browser landed (origin and path, no query) and what the page showed.
import { renameSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { launchChromium } from './chromium.js';
import { actOnProviderPages } from './provider-pages.js';

export interface DriverReport {
  ok: boolean;
  /** Where the browser ended: origin and path of the redirect (no query). */
  landedOn?: string;
  title?: string;
  heading?: string;
  text?: string;
  error?: string;
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    user: { type: 'string', default: 'alice' },
    password: { type: 'string', default: 'correct horse' },
    action: { type: 'string', default: 'approve' },
    tamper: { type: 'string' },
    report: { type: 'string' },
    timeout: { type: 'string', default: '60' },
  },
});

const authorizationUrl = new URL(positionals.at(-1) ?? '');
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

/** A forwarding HTTP proxy that tampers with requests to the app's redirect URI. */
async function tamperingProxy(): Promise<Server> {
  const proxy = createServer((req, res) => {
    let target = new URL(req.url ?? '');
    if (target.origin === redirectOrigin) target = tamper(target);
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    const upstream = request(target, { method: req.method, headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.rawHeaders);
      up.pipe(res);
    });
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return proxy;
}

const proxy = values.tamper ? await tamperingProxy() : undefined;
const proxyArgs = proxy
  ? [`--proxy-server=http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, '--proxy-bypass-list=<-loopback>']
  : [];
const browser = await launchChromium({ args: proxyArgs });
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(authorizationUrl.href);
  await actOnProviderPages(page, {
    user: values.user,
    password: values.password,
    action: values.action === 'deny' ? 'deny' : 'approve',
    stopAtOrigin: redirectOrigin,
    timeoutMs: Number(values.timeout) * 1000,
  });
  await page.waitForLoadState('load');
  const landed = new URL(page.url());
  report({
    ok: true,
    landedOn: `${landed.origin === 'null' ? landed.protocol : landed.origin}${landed.pathname}`,
    title: await page.title(),
    heading: (await page.locator('h1').first().textContent({ timeout: 5000 }).catch(() => null)) ?? '',
    text: (await page.locator('body').innerText({ timeout: 5000 }).catch(() => '')).trim(),
  });
} catch (error) {
  report({ ok: false, error: (error as Error).message });
  process.exitCode = 1;
} finally {
  await browser.close();
  proxy?.close();
}
