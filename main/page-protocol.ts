// The window's page is served from a privileged custom protocol, app://connect/, instead of file://
// (Electron's security checklist, item 18): the page gets a real origin, which the IPC sender check
// compares exactly, and the file:// fuse that grants extra privileges can stay off. Type-only
// imports: nothing here loads Electron.
import type { CustomScheme } from 'electron';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';

export const PAGE_SCHEME = 'app';
const PAGE_HOST = 'connect';
export const PAGE_URL = `${PAGE_SCHEME}://${PAGE_HOST}/index.html`;

/**
 * Registered before `ready` (Electron allows it only then, and only once). `standard` gives the page
 * an origin (app://connect) and resolves its relative URLs; `secure` treats it like https.
 */
export const PAGE_SCHEME_PRIVILEGES: CustomScheme = { scheme: PAGE_SCHEME, privileges: { standard: true, secure: true } };

/** Whether a frame's URL is the app's page: app://connect/index.html, nothing else. */
export function isPageUrl(url: string | undefined): boolean {
  if (!url) return false;
  try {
    const u = new URL(url);
    return u.protocol === `${PAGE_SCHEME}:` && u.host === PAGE_HOST && u.pathname === '/index.html' && !u.username && !u.password;
  } catch {
    return false;
  }
}

const FILES: Record<string, string> = {
  '/index.html': 'text/html; charset=utf-8',
  '/app.js': 'text/javascript; charset=utf-8',
  '/styles.css': 'text/css; charset=utf-8',
};

/**
 * The protocol handler: the renderer's three files from `rendererDir`, by exact name (no path is ever
 * joined from the request beyond these), 404 for anything else.
 */
export function pageHandler(rendererDir: string): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url);
    const type = url.host === PAGE_HOST && request.method === 'GET' ? FILES[url.pathname] : undefined;
    if (!type || extname(url.pathname) === '') return new Response('Not found', { status: 404 });
    const body = await readFile(join(rendererDir, url.pathname.slice(1)));
    return new Response(body, { headers: { 'Content-Type': type, 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store' } });
  };
}
