// The adversarial provider: a server in front of the real test provider (oidc-provider) that owns
// the issuer URL, passes everything through, and misbehaves on demand. A test sets `adversary.tamper`
// to change one thing (the discovery document, the JWKS, the redirect back to the app, the token
// response, userinfo, or a raw fault at any endpoint); `reset()` makes it honest again.
// It holds the provider's signing key, so it can sign a tampered ID token validly (to test claim
// checks) or badly (to test signature checks).
import { createHmac, generateKeyPairSync, sign as cryptoSign, createPrivateKey } from 'node:crypto';
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rsaSigningKey, startTestProvider, type TestProvider, type TestProviderOptions } from '../provider/provider.js';

export type Endpoint = 'discovery' | 'jwks' | 'authorization' | 'token' | 'userinfo' | 'revocation' | 'logout' | 'other';

/** A raw answer in place of the provider's: status, headers, body; or a connection that hangs or drops. */
export type Fault =
  | { status: number; headers?: Record<string, string>; body?: string | Buffer }
  | 'hang'
  | 'drop';

export type Json = Record<string, unknown>;

export interface Tampering {
  discovery?: (document: Json) => Json;
  jwks?: (jwks: { keys: Json[] }) => { keys: Json[] };
  /** The provider's redirect back to the app (the authorization response), as a URL. */
  authorizationResponse?: (location: URL) => URL;
  /** The token endpoint's JSON answer; `grantType` tells a code exchange from a refresh. */
  token?: (body: Json, grantType: string) => Json;
  userinfo?: (body: Json) => Json;
  /** Answer this endpoint with a fault instead of the provider (undefined: pass through). */
  fault?: (endpoint: Endpoint) => Fault | undefined;
  /** Hold the provider's answer this many milliseconds before sending it (`grantType` at the token endpoint). */
  delayMs?: (endpoint: Endpoint, grantType: string) => number | undefined;
  /** Called once the answer has been handed to the network (a kill or a stopped keychain "right after"). */
  answered?: (endpoint: Endpoint, grantType: string) => void;
  /**
   * Let the client keep the discovery document and keys (provider-cache.ts). Off by default: the
   * adversary's answers say `no-store`, so that a tampered document is read afresh by every test.
   */
  cacheable?: boolean;
}

/** A request the adversary saw (for asserting what the client sent). */
export interface SeenRequest {
  endpoint: Endpoint;
  method: string;
  url: string;
  authorization?: string;
  /** The DPoP proof the request carried, if any. */
  dpop?: string;
  body: string;
}

export interface SigningKey {
  jwk: Json;
  alg: 'RS256' | 'ES256' | 'HS256';
}

export interface Adversary {
  issuer: string;
  provider: TestProvider;
  tamper: Tampering;
  seen: SeenRequest[];
  /** The provider's own signing key; `otherRsa` and `ec` are keys the client has never seen. */
  keys: { provider: SigningKey; otherRsa: SigningKey; ec: SigningKey };
  /** Every authorization code the provider issued (from its redirects), newest last. */
  codes: string[];
  count(endpoint: Endpoint): number;
  reset(): void;
  close(): Promise<void>;
}

function endpointOf(path: string): Endpoint {
  if (path === '/.well-known/openid-configuration') return 'discovery';
  if (path === '/oauth/jwks') return 'jwks';
  if (path.startsWith('/oauth/authorize') || path.startsWith('/interaction/')) return 'authorization';
  if (path === '/oauth/token') return 'token';
  if (path === '/oauth/userinfo') return 'userinfo';
  if (path === '/oauth/revoke') return 'revocation';
  if (path.startsWith('/oauth/logout')) return 'logout';
  return 'other';
}

function readBody(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks)));
    stream.on('error', reject);
  });
}

export async function startAdversary(options: TestProviderOptions = {}): Promise<Adversary> {
  const front: Server = createServer();
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  const providerKey = rsaSigningKey();
  // Whether clients may keep its answers is the adversary's to say (`cacheable`), not the provider's.
  const provider = await startTestProvider({ ...options, issuer, jwks: { keys: [providerKey] }, cacheable: true });
  const ecPair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keys = {
    provider: { jwk: providerKey, alg: 'RS256' as const },
    otherRsa: { jwk: rsaSigningKey(), alg: 'RS256' as const },
    ec: { jwk: { ...ecPair.privateKey.export({ format: 'jwk' }), kid: 'ec-1', use: 'sig', alg: 'ES256' }, alg: 'ES256' as const },
  };
  const state: Pick<Adversary, 'tamper' | 'seen' | 'codes'> = { tamper: {}, seen: [], codes: [] };
  const hanging = new Set<ServerResponse>();

  front.on('request', (req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      const url = new URL(req.url ?? '/', issuer);
      const endpoint = endpointOf(url.pathname);
      const body = await readBody(req);
      state.seen.push({
        endpoint,
        method: req.method ?? 'GET',
        url: url.href,
        ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
        ...(typeof req.headers.dpop === 'string' ? { dpop: req.headers.dpop } : {}),
        body: body.toString(),
      });
      const fault = state.tamper.fault?.(endpoint);
      if (fault === 'hang') {
        hanging.add(res);
        return;
      }
      if (fault === 'drop') {
        req.socket.destroy();
        return;
      }
      if (fault) {
        res.writeHead(fault.status, fault.headers ?? {});
        res.end(fault.body ?? '');
        return;
      }
      const grantType = endpoint === 'token' ? (new URLSearchParams(body.toString()).get('grant_type') ?? '') : '';
      const upstream = await forward(provider.port, req, body);
      const delay = state.tamper.delayMs?.(endpoint, grantType);
      if (delay) await new Promise((resolve) => setTimeout(resolve, delay));
      const answered = state.tamper.answered;
      if (answered) res.on('finish', () => answered(endpoint, grantType));
      let out = upstream.body;
      const headers = { ...upstream.headers };
      const json = (edit: ((value: Json, extra: string) => Json) | undefined, extra = '') => {
        if (!edit || upstream.status !== 200) return;
        out = Buffer.from(JSON.stringify(edit(JSON.parse(out.toString()) as Json, extra)));
      };
      if (endpoint === 'discovery') json(state.tamper.discovery as (v: Json) => Json);
      if (endpoint === 'jwks') json(state.tamper.jwks as unknown as (v: Json) => Json);
      if (endpoint === 'token') json(state.tamper.token, grantType);
      if (endpoint === 'userinfo') json(state.tamper.userinfo);
      const location = headers.location;
      if (typeof location === 'string' && !location.startsWith(issuer) && !location.startsWith('/')) {
        const target = new URL(location);
        const code = target.searchParams.get('code');
        if (code) state.codes.push(code);
        if (state.tamper.authorizationResponse) headers.location = state.tamper.authorizationResponse(target).href;
      }
      if ((endpoint === 'discovery' || endpoint === 'jwks') && !state.tamper.cacheable) headers['cache-control'] = 'no-store';
      // The body was read whole (and maybe changed): send it with its own length.
      delete headers['transfer-encoding'];
      headers['content-length'] = String(out.length);
      res.writeHead(upstream.status, headers);
      res.end(out);
    })().catch((error: unknown) => {
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(`adversary failed: ${String(error)}`);
    });
  });

  return {
    issuer,
    provider,
    keys,
    get tamper() {
      return state.tamper;
    },
    set tamper(value: Tampering) {
      state.tamper = value;
    },
    seen: state.seen,
    codes: state.codes,
    count: (endpoint) => state.seen.filter((r) => r.endpoint === endpoint).length,
    reset() {
      state.tamper = {};
      state.seen.length = 0;
      state.codes.length = 0;
      for (const res of hanging) res.destroy();
      hanging.clear();
    },
    async close() {
      for (const res of hanging) res.destroy();
      front.closeAllConnections();
      await new Promise((resolve) => front.close(resolve));
      await provider.close();
    },
  };
}

interface Upstream {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function forward(port: number, req: IncomingMessage, body: Buffer): Promise<Upstream> {
  return new Promise((resolve, reject) => {
    const up = request(
      { host: '127.0.0.1', port, path: req.url, method: req.method, headers: req.headers },
      (response) => {
        readBody(response).then(
          (data) => resolve({ status: response.statusCode ?? 502, headers: { ...response.headers }, body: data }),
          reject,
        );
      },
    );
    up.on('error', reject);
    up.end(body);
  });
}

// --- ID tokens, taken apart and signed again -------------------------------------------------------

const b64 = (value: Buffer | string) => Buffer.from(value).toString('base64url');

export function decodeJwt(jwt: string): { header: Json; payload: Json; signature: string } {
  const [h, p, s] = jwt.split('.');
  return {
    header: JSON.parse(Buffer.from(h ?? '', 'base64url').toString()) as Json,
    payload: JSON.parse(Buffer.from(p ?? '', 'base64url').toString()) as Json,
    signature: s ?? '',
  };
}

/** Sign header+payload with a key; `alg: 'none'` gives an unsigned token, HS256 takes a secret. */
export function signJwt(header: Json, payload: Json, key: SigningKey | { alg: 'none' } | { alg: 'HS256'; secret: string }): string {
  const head = { ...header, alg: key.alg };
  const input = `${b64(JSON.stringify(head))}.${b64(JSON.stringify(payload))}`;
  if (key.alg === 'none') return `${input}.`;
  if ('secret' in key) return `${input}.${createHmac('sha256', key.secret).update(input).digest('base64url')}`;
  const privateKey = createPrivateKey({ key: (key as SigningKey).jwk as never, format: 'jwk' });
  const signature =
    key.alg === 'ES256'
      ? cryptoSign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' })
      : cryptoSign('sha256', Buffer.from(input), privateKey);
  return `${input}.${signature.toString('base64url')}`;
}

/** The public half of a signing key, as a JWKS publishes it. */
export function publicJwk(key: SigningKey): Json {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = key.jwk;
  return pub;
}

/**
 * A token-endpoint edit that signs the ID token again with `key` after `edit` changed its header or
 * claims (with the provider's own key: a valid signature over changed claims).
 */
export function reSignIdToken(
  key: SigningKey | { alg: 'none' } | { alg: 'HS256'; secret: string },
  edit: (token: { header: Json; payload: Json }) => void = () => {},
): (body: Json) => Json {
  return (body) => {
    if (typeof body.id_token !== 'string') return body;
    const { header, payload } = decodeJwt(body.id_token);
    edit({ header, payload });
    return { ...body, id_token: signJwt(header, payload, key) };
  };
}
