// A forwarding HTTP proxy in front of the test browser: it sees every request, redirects included
// (Playwright's routing does not), so a test can act as a man in the middle (rewrite the redirect
// to the app) or as the OS (catch the provider's redirect to a custom scheme and hand it over).
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProxyOptions {
  /** Change a request before it is sent on. */
  rewrite?: (url: URL) => URL;
  /** Called with every redirect whose target is not http(s): what the OS would launch an app for. */
  onExternalRedirect?: (location: string) => void;
}

export interface Proxy {
  /** Chromium flags that send all its traffic, loopback included, through this proxy. */
  args: string[];
  close(): void;
}

export async function startProxy(options: ProxyOptions): Promise<Proxy> {
  const server: Server = createServer((req, res) => {
    let target = new URL(req.url ?? '');
    if (options.rewrite) target = options.rewrite(target);
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    const upstream = request(target, { method: req.method, headers }, (up) => {
      const location = up.headers.location ? new URL(up.headers.location, target) : undefined;
      const redirect = up.statusCode !== undefined && up.statusCode >= 300 && up.statusCode < 400;
      if (location && redirect && location.protocol !== 'http:' && location.protocol !== 'https:') {
        options.onExternalRedirect?.(location.href);
        // The browser itself would ask the OS; the OS's part is played by onExternalRedirect.
        res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end('<!doctype html><title>Handed to the app</title><h1>Handed to the app</h1>');
        up.resume();
        return;
      }
      res.writeHead(up.statusCode ?? 502, up.rawHeaders);
      up.pipe(res);
    });
    upstream.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    args: [`--proxy-server=http://127.0.0.1:${port}`, '--proxy-bypass-list=<-loopback>'],
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}
