// Loopback redirect receiver (RFC 8252 §7.3): an HTTP listener on the loopback interface only,
// opened for one attempt, answering exactly one request on the callback path, then closed.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { abortError } from '../abort.js';
import { ConnectError } from '../errors.js';
import type { RedirectKind } from '../redirect-uri.js';
import type { Candidate, PendingRedirect, RedirectReceiver, SignInOutcome } from './receiver.js';
import { RESULT_PAGE_HEADERS, resultPage } from './result-page.js';

type Loopback = Extract<RedirectKind, { kind: 'loopback' }>;

export interface LoopbackOptions {
  /** How long the result page may wait for the outcome before showing a neutral one. Default 30 s. */
  finishTimeoutMs?: number;
  appName?: string;
}

function listenOn(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', onError);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

function portError(error: NodeJS.ErrnoException, host: string, port: number): ConnectError {
  if (error.code === 'EADDRINUSE') {
    return new ConnectError(
      'port_in_use',
      `Port ${port} on ${host} is already in use by another program, so the sign-in result cannot be received. ` +
        'Close that program, or register a loopback redirect URI without a port so any free port can be used.',
      { cause: error },
    );
  }
  return new ConnectError('port_in_use', `Could not listen on ${host} port ${port} (${error.code ?? error.message}).`, {
    cause: error,
  });
}

/** The Host header of a request to this listener from the browser: a loopback name and our port. */
function loopbackHostHeader(host: string | undefined, port: number): boolean {
  if (!host) return false;
  const name = host.toLowerCase();
  return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`].includes(name);
}

export class LoopbackReceiver implements RedirectReceiver {
  readonly #redirect: Loopback;
  readonly #options: LoopbackOptions;

  constructor(redirect: Loopback, options: LoopbackOptions = {}) {
    this.#redirect = redirect;
    this.#options = options;
  }

  async listen(signal: AbortSignal): Promise<PendingRedirect> {
    // The attempt's state is checked by the sign-in: a loopback listener answers one request only.
    if (signal.aborted) throw abortError(signal);
    const { host, path } = this.#redirect;
    let captured: { res: ServerResponse } | undefined;
    let resolveResponse!: (params: URLSearchParams) => void;
    let rejectResponse!: (error: unknown) => void;
    const response = new Promise<URLSearchParams>((resolve, reject) => {
      resolveResponse = resolve;
      rejectResponse = reject;
    });
    response.catch(() => {});

    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      // Strictly the registered path, in origin form (`/path?query`): not `//host/path` or
      // `http://host/path`, which a URL parser would also read as that path. And only for a loopback
      // Host: a page that rebinds its own DNS name to 127.0.0.1 cannot make the listener answer it.
      const target = req.url ?? '';
      const q = target.indexOf('?');
      const pathname = q === -1 ? target : target.slice(0, q);
      if (captured || req.method !== 'GET' || pathname !== path || !loopbackHostHeader(req.headers.host, port)) {
        // Anything else (favicon, probes) gets a 404 and does not spend the listener.
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
        res.end('Not found\n');
        return;
      }
      captured = { res };
      resolveResponse(new URLSearchParams(q === -1 ? '' : target.slice(q + 1)));
    };

    const servers: Server[] = [];
    const hosts = host === 'localhost' ? ['127.0.0.1', '::1'] : [host === '[::1]' ? '::1' : host];
    let port = this.#redirect.port ?? 0;
    try {
      for (const [index, address] of hosts.entries()) {
        const server = createServer(onRequest);
        try {
          port = await listenOn(server, address, port);
          servers.push(server);
        } catch (error) {
          const err = error as NodeJS.ErrnoException;
          // localhost: IPv6 may be missing on this machine; 127.0.0.1 alone is enough then.
          if (index > 0 && (err.code === 'EADDRNOTAVAIL' || err.code === 'EAFNOSUPPORT')) continue;
          throw portError(err, address, port);
        }
      }
    } catch (error) {
      await Promise.all(servers.map(closeServer));
      throw error;
    }

    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      signal.removeEventListener('abort', onAbort);
      if (captured && !captured.res.writableEnded) {
        captured.res.writeHead(200, RESULT_PAGE_HEADERS);
        captured.res.end(
          resultPage({ ok: false, code: 'cancelled', message: 'The app stopped waiting for this sign-in.' }, this.#options.appName),
        );
      }
      await Promise.all(servers.map(closeServer));
    };
    const onAbort = () => {
      rejectResponse(abortError(signal));
      void close();
    };
    signal.addEventListener('abort', onAbort, { once: true });

    const displayHost = host === '[::1]' ? '[::1]' : host;
    const finishTimeoutMs = this.#options.finishTimeoutMs ?? 30_000;
    const settle = async (outcome: SignInOutcome) => {
      if (captured && !captured.res.writableEnded) {
        const res = captured.res;
        await new Promise<void>((resolve) => {
          res.writeHead(200, RESULT_PAGE_HEADERS);
          res.end(resultPage(outcome, this.#options.appName), () => resolve());
          setTimeout(resolve, finishTimeoutMs).unref();
        });
      }
      await close();
    };
    return {
      redirectUri: `http://${displayHost}:${port}${path}`,
      // One request, one answer: a failed response ends the attempt.
      retryable: false,
      next: () => response.then((params): Candidate => ({ params, settle })),
      close,
    };
  }
}
