// The page the browser shows after a loopback redirect: self-contained (no outside resources, no
// script), so it loads with the network down and leaks nothing through a Referer.
import type { SignInOutcome } from './receiver.js';
import { IDENTITY } from '../config/identity.js';

export const RESULT_PAGE_HEADERS: Record<string, string> = {
  'Content-Type': 'text/html; charset=utf-8',
  'Cache-Control': 'no-store',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  Connection: 'close',
};

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A response that is not for the attempt in progress (state missing or another attempt's) ends
 * nothing: the page says so without calling it a failure, and names no error.
 */
const NOT_OURS: SignInOutcome = {
  ok: true,
  heading: 'Nothing to do here',
  detail: 'This page is not for the sign-in the app is waiting for (it may be from an older tab). If you are signing in, finish in the newest sign-in tab.',
};

export function resultPage(given: SignInOutcome, appName = IDENTITY.productName): string {
  const outcome = !given.ok && given.code === 'state_mismatch' ? NOT_OURS : given;
  const ok = outcome.ok;
  const title = ok ? `${outcome.heading ?? 'Signed in'} - ${appName}` : `Sign-in failed - ${appName}`;
  const heading = ok ? (outcome.heading ?? 'You are signed in') : 'Sign-in did not complete';
  const detail = ok
    ? outcome.detail
      ? escapeHtml(outcome.detail)
      : `${outcome.displayName ? `Signed in as ${escapeHtml(outcome.displayName)}. ` : ''}You can close this tab and return to ${escapeHtml(appName)}.`
    : `${escapeHtml(outcome.message)} Return to ${escapeHtml(appName)} to try again.`;
  const colour = ok ? '#137333' : '#b3261e';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f6f7f9;color:#1f1f1f;margin:0;display:grid;place-items:center;min-height:100vh}
main{background:#fff;border-radius:12px;box-shadow:0 1px 4px rgba(0,0,0,.15);padding:2rem 2.5rem;max-width:28rem}
h1{font-size:1.4rem;margin:0 0 .75rem;color:${colour}}
p{line-height:1.5;margin:0}
</style></head>
<body><main><h1 id="result" data-ok="${ok}">${heading}</h1><p id="detail">${detail}</p>${
    ok ? '' : `<p><small>Error code: <code id="code">${escapeHtml(outcome.code)}</code></small></p>`
  }</main></body></html>`;
}
