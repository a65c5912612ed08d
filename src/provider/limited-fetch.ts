// Every request to the provider goes through this fetch (openid-client's customFetch). It keeps a
// broken or hostile provider from filling the app's memory (an answer larger than the limit is
// refused while it arrives), and it turns what went wrong into a sentence that names the URL:
// a refused connection, a dropped one, a certificate that is not trusted, no answer in time, an
// answer that is not JSON.
import { debug } from '../common/debug.js';
import { ConnectError } from '../common/errors.js';
import { noteProviderDate } from './provider-clock.js';

/** Discovery, JWKS, token and userinfo answers are a few kilobytes; this leaves ample room. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'UND_ERR_CONNECT_TIMEOUT']);
const CLOSED = new Set(['UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'EPIPE']);

/** Where a request went, without its query (which may carry parameters of the flow). */
export function placeOf(url: string): string {
  const u = new URL(url);
  return `${u.origin}${u.pathname === '/' ? '' : u.pathname}`;
}

function networkError(url: string, error: unknown, timeoutSeconds: number): ConnectError | undefined {
  const err = error as { name?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'TimeoutError') {
    const s = timeoutSeconds === 1 ? '' : 's';
    return new ConnectError('network_error', `The provider did not answer within ${timeoutSeconds} second${s} at ${placeOf(url)}.`);
  }
  if (!(error instanceof TypeError)) return undefined;
  const code = err.cause?.code ?? err.cause?.message ?? 'unknown network error';
  // A plain-http server answering a TLS handshake: its reply is not a TLS record at all.
  if (/WRONG_VERSION_NUMBER|PACKET_LENGTH_TOO_LONG|HTTP_REQUEST/i.test(code)) {
    return new ConnectError(
      'network_error',
      `The server at ${new URL(url).origin} does not speak https (TLS) (${code}); it may be a plain http server: check the issuer URL.`,
    );
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|SSL/i.test(code)) {
    return new ConnectError(
      'network_error',
      `The provider's TLS certificate at ${new URL(url).origin} is not trusted (${code}); no connection was made.`,
    );
  }
  if (code.startsWith('HPE_')) {
    return new ConnectError('network_error', `The server at ${new URL(url).origin} did not answer in HTTP (${code}); check the issuer URL.`);
  }
  if (CLOSED.has(code)) {
    return new ConnectError('network_error', `The provider at ${placeOf(url)} closed the connection without a proper HTTP answer (${code}).`);
  }
  const where = UNREACHABLE.has(code) ? new URL(url).origin : placeOf(url);
  return new ConnectError('network_error', `Could not reach the provider at ${where} (${code}).`);
}

/** A request to the provider that failed before any answer, as the one sentence every caller gives. */
export function networkFailure(url: string, error: unknown, timeoutSeconds = 30): ConnectError {
  if (error instanceof ConnectError) return error;
  const name = ((error as Error)?.cause as { code?: string } | undefined)?.code ?? (error as Error)?.name ?? 'unknown error';
  return networkError(url, error, timeoutSeconds) ?? new ConnectError('network_error', `Could not reach the provider at ${placeOf(url)} (${name}).`, { cause: error });
}

function tooLarge(url: string, maxBytes: number): ConnectError {
  const size = maxBytes % (1024 * 1024) === 0 ? `${maxBytes / 1024 / 1024} MB` : `${maxBytes} bytes`;
  return new ConnectError('invalid_response', `The provider's answer at ${placeOf(url)} is larger than ${size}; it was refused.`);
}

/** A Response read whole, that remembers its URL and says which URL gave JSON that does not parse. */
function readResponse(body: Buffer | null, init: ResponseInit, url: string): Response {
  const response = new Response(body, init);
  const text = response.text.bind(response);
  Object.defineProperty(response, 'url', { value: url });
  Object.defineProperty(response, 'json', {
    value: async () => {
      const raw = await text();
      try {
        return JSON.parse(raw) as unknown;
      } catch {
        throw new ConnectError('invalid_response', `The provider's answer at ${placeOf(url)} is not valid JSON.`);
      }
    },
  });
  return response;
}

/** A fetch for openid-client: the response body read whole, up to `maxBytes`; errors named. */
export function limitedFetch(timeoutSeconds: number, maxBytes = MAX_RESPONSE_BYTES) {
  return async (url: string, options: RequestInit): Promise<Response> => {
    let response: Response;
    const started = Date.now();
    const method = options.method ?? 'GET';
    try {
      response = await fetch(url, options);
    } catch (error) {
      const named = networkError(url, error, timeoutSeconds);
      debug(`http: ${method} ${placeOf(url)} failed: ${named?.message ?? 'aborted'}`);
      throw named ?? error;
    }
    noteProviderDate(url, response.headers, started, Date.now());
    const declared = Number(response.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > maxBytes) {
      await response.body?.cancel().catch(() => {});
      throw tooLarge(url, maxBytes);
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (response.body) {
      const reader = response.body.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          size += value.byteLength;
          if (size > maxBytes) {
            await reader.cancel().catch(() => {});
            throw tooLarge(url, maxBytes);
          }
          chunks.push(value);
        }
      } catch (error) {
        if (error instanceof ConnectError) throw error;
        throw networkError(url, error, timeoutSeconds) ?? error;
      }
    }
    debug(`http: ${method} ${placeOf(url)} -> ${response.status} ${response.headers.get('content-type') ?? ''} ${size} bytes, ${Date.now() - started} ms`);
    // A 204/304 cannot carry a body, even an empty one.
    const body = response.status === 204 || response.status === 304 ? null : Buffer.concat(chunks);
    return readResponse(body, { status: response.status, statusText: response.statusText, headers: response.headers }, url);
  };
}
