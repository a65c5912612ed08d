// The out-of-band result pages of the reference provider. oidc-provider answers an authorization
// request for an oob redirect URI with a 303 to the URN; this Koa middleware turns that redirect into
// the HTML page the provider documents:
// - urn:ietf:wg:oauth:2.0:oob:auto: the title carries `Success state=…&code=…&iss=…` (or
//   `Denied state=…&error=…`) for the desktop client to read from the window title;
// - urn:ietf:wg:oauth:2.0:oob: the same title, and the code shown in the body for the user to copy.
import type { Context, Next } from 'koa';

export const OOB = 'urn:ietf:wg:oauth:2.0:oob';
export const OOB_AUTO = 'urn:ietf:wg:oauth:2.0:oob:auto';

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The page title: `Success …` or `Denied …`, values URL-encoded as in a query string. */
export function oobTitle(params: URLSearchParams): string {
  const error = params.get('error');
  const fields = new URLSearchParams();
  const state = params.get('state');
  if (state !== null) fields.set('state', state);
  if (error !== null) {
    fields.set('error', error);
    const description = params.get('error_description');
    if (description !== null) fields.set('error_description', description);
  } else {
    fields.set('code', params.get('code') ?? '');
  }
  const iss = params.get('iss');
  if (iss !== null) fields.set('iss', iss);
  return `${error === null ? 'Success' : 'Denied'} ${fields.toString()}`;
}

export function oobPage(redirectUri: string, params: URLSearchParams): string {
  const title = escapeHtml(oobTitle(params));
  const error = params.get('error');
  let body: string;
  if (error !== null) {
    body = `<h1>Sign-in was not completed</h1><p>${escapeHtml(
      params.get('error_description') ?? error,
    )}</p><p>You can close this window and return to the application.</p>`;
  } else if (redirectUri === OOB_AUTO) {
    body =
      '<h1>Signed in</h1><p>The application is picking up the result. You can close this window and return to it.</p>';
  } else {
    body = `<h1>Copy this code into the application</h1>
<p>Switch to the application that asked you to sign in and paste this code when it asks for it:</p>
<p><textarea id="code" readonly rows="3" cols="60" aria-label="Authorization code">${escapeHtml(
      params.get('code') ?? '',
    )}</textarea></p>
<p>State: <code id="state">${escapeHtml(params.get('state') ?? '')}</code></p>`;
  }
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<title>${title}</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}textarea{width:100%;font-family:monospace}</style>
</head><body>${body}</body></html>`;
}

export function oobResultPages() {
  return async function oobResultPagesMiddleware(ctx: Context, next: Next): Promise<void> {
    await next();
    if (ctx.status !== 302 && ctx.status !== 303) return;
    const location = ctx.response.get('Location');
    if (!location.startsWith(`${OOB}?`) && !location.startsWith(`${OOB_AUTO}?`)) return;
    const [redirectUri = '', query = ''] = location.split('?', 2);
    ctx.remove('Location');
    ctx.status = 200;
    ctx.type = 'html';
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
    ctx.body = oobPage(redirectUri, new URLSearchParams(query));
  };
}
