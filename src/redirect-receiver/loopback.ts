// Loopback redirect receiver (RFC 8252 §7.3): an HTTP listener on the loopback interface only,
// opened for one attempt, answering exactly one request on the callback path, then closed.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { abortError } from '../common/abort.js';
import { ConnectError } from '../common/errors.js';
import type { RedirectKind } from '../config/redirect-uri.js';
import { sameString, setAsideLine } from '../steps/authorization-response.js';
import { debug } from '../common/debug.js';
import type { AttemptContext, Candidate, PendingRedirect, RedirectReceiver, SignInOutcome } from './receiver.js';
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

/** Stops listening and drops every connection: an idle or half-open socket must not keep it open. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeAllConnections();
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

/** Responses on the callback path waiting for the sign-in; more are refused (a flood is not ours). */
const MAX_WAITING = 16;

export class LoopbackReceiver implements RedirectReceiver {
  readonly #redirect: Loopback;
  readonly #options: LoopbackOptions;

  constructor(redirect: Loopback, options: LoopbackOptions = {}) {
    this.#redirect = redirect;
    this.#options = options;
  }

  async listen(signal: AbortSignal, context?: AttemptContext): Promise<PendingRedirect> {
    // The sign-in checks each response's state: one that is not this attempt's (a stale tab, or a
    // request from anyone else on this machine) gets a neutral page and the attempt goes on.
    if (signal.aborted) throw abortError(signal);
    const { host, path } = this.#redirect;
    const appName = this.#options.appName;
    const finishTimeoutMs = this.#options.finishTimeoutMs ?? 30_000;
    const queued: Candidate[] = [];
    const waiters: { resolve: (c: Candidate) => void; reject: (e: unknown) => void }[] = [];
    /** Answers not yet written, so that closing can answer them. */
    const open = new Set<ServerResponse>();
    let closed = false;
    let setAside = 0;

    const answer = (res: ServerResponse, outcome: SignInOutcome) =>
      new Promise<void>((resolve) => {
        if (res.writableEnded || res.destroyed) return resolve();
        open.delete(res);
        res.writeHead(200, RESULT_PAGE_HEADERS);
        res.end(resultPage(outcome, appName), () => resolve());
        setTimeout(resolve, finishTimeoutMs).unref();
      });

    const onRequest = (req: IncomingMessage, res: ServerResponse) => {
      // Strictly the registered path, in origin form (`/path?query`): not `//host/path` or
      // `http://host/path`, which a URL parser would also read as that path. And only for a loopback
      // Host: a page that rebinds its own DNS name to 127.0.0.1 cannot make the listener answer it.
      const target = req.url ?? '';
      const q = target.indexOf('?');
      const pathname = q === -1 ? target : target.slice(0, q);
      if (closed || req.method !== 'GET' || pathname !== path || !loopbackHostHeader(req.headers.host, port)) {
        // Anything else (favicon, probes) gets a 404 and changes nothing.
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'close' });
        res.end('Not found\n');
        return;
      }
      const params = new URLSearchParams(q === -1 ? '' : target.slice(q + 1));
      // Not this attempt's (no state, two, or another): the neutral page at once, never queued, so a
      // flood of them cannot crowd out the browser's own response.
      const states = params.getAll('state');
      if (context && (states.length !== 1 || !sameString(states[0] as string, context.state))) {
        debug(setAsideLine(++setAside));
        void answer(res, { ok: false, code: 'state_mismatch', message: 'Not this attempt.' });
        return;
      }
      if (queued.length >= MAX_WAITING) {
        res.writeHead(503, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'close' });
        res.end('Busy\n');
        return;
      }
      open.add(res);
      const candidate: Candidate = {
        params,
        // The attempt's own response ends it: answered, then the listener closes. One set aside
        // (not this attempt's) gets its neutral page and the listener goes on.
        settle: async (outcome) => {
          await answer(res, outcome);
          if (outcome.ok || outcome.code !== 'state_mismatch') await close();
        },
      };
      const waiter = waiters.shift();
      if (waiter) waiter.resolve(candidate);
      else queued.push(candidate);
    };

    const servers: Server[] = [];
    const hosts = host === 'localhost' ? ['127.0.0.1', '::1'] : [host === '[::1]' ? '::1' : host];
    let port = this.#redirect.port ?? 0;
    try {
      for (const [index, address] of hosts.entries()) {
        // A connection that sends nothing, or half a request, is dropped after 10 s (checked every
        // second), and never keeps the attempt from ending: closing drops every connection.
        const server = createServer({ headersTimeout: 10_000, requestTimeout: 15_000, keepAliveTimeout: 1000, connectionsCheckingInterval: 1000 }, onRequest);
        // A browser needs a handful; a local flood does not get to use up this process's file handles.
        server.maxConnections = 64;
        // Garbage after a request on the same connection (pipelined) must not cut off the answer that
        // request is waiting for: Node's default would answer 400 and close the socket at once.
        server.on('clientError', (_error, socket) => {
          if ([...open].some((res) => res.socket === socket)) return;
          if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
          else socket.destroy();
        });
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

    const close = async () => {
      if (closed) return;
      closed = true;
      signal.removeEventListener('abort', onAbort);
      for (const waiter of waiters.splice(0)) waiter.reject(abortError(signal));
      queued.length = 0;
      const stopped: SignInOutcome = { ok: false, code: 'cancelled', message: 'The app stopped waiting for this sign-in.' };
      await Promise.all([...open].map((res) => answer(res, stopped)));
      await Promise.all(servers.map(closeServer));
    };
    const onAbort = () => void close();
    signal.addEventListener('abort', onAbort, { once: true });

    const displayHost = host === '[::1]' ? '[::1]' : host;
    return {
      redirectUri: `http://${displayHost}:${port}${path}`,
      // A response that is not this attempt's is set aside by the sign-in; any other failure ends it.
      retryable: false,
      next: () => {
        if (closed || signal.aborted) return Promise.reject(abortError(signal));
        const candidate = queued.shift();
        if (candidate) return Promise.resolve(candidate);
        return new Promise<Candidate>((resolve, reject) => waiters.push({ resolve, reject }));
      },
      close,
    };
  }
}
