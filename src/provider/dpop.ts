// Sender-constrained tokens (DPoP, RFC 9449): a key pair per sign-in, whose private half is kept in
// the keychain with the tokens (in the same keychain value, so it goes when they go). Every grant
// (code, refresh, device) carries a proof signed with it, and so does every request that carries a
// bound access token (userinfo, fetch, token logout): a token copied from memory, a log or a crash
// dump is refused without the key by every server that checks DPoP (the provider does). openid-client
// makes the proofs for its requests and answers a `use_dpop_nonce` challenge with one retry;
// resourceProof() makes them for calls to resource servers.
import { createHash, randomUUID, webcrypto } from 'node:crypto';
import * as oidc from 'openid-client';
import { ConnectError } from '../common/errors.js';

import type { DpopMode } from '../config/dpop-mode.js';

import type { DpopAlg, StoredDpopKey } from '../session/dpop-key.js';

export { DPOP_MODES, type DpopMode } from '../config/dpop-mode.js';
export type { DpopAlg, StoredDpopKey } from '../session/dpop-key.js';

/**
 * The algorithms this client can make keys for, in the order it prefers them. An Ed25519 key's proofs
 * are labelled `Ed25519` (RFC 9864's fully specified name, as openid-client writes them): a provider
 * that lists only the older `EdDSA` is not offered one.
 */
const ALGORITHMS = {
  ES256: { name: 'ECDSA', namedCurve: 'P-256' },
  Ed25519: { name: 'Ed25519' },
  ES384: { name: 'ECDSA', namedCurve: 'P-384' },
  PS256: { name: 'RSA-PSS', hash: 'SHA-256' },
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
} as const satisfies Record<DpopAlg, unknown>;

/**
 * The algorithm to bind this sign-in's tokens with, or undefined for bearer tokens: `auto` uses DPoP
 * when the provider advertises `dpop_signing_alg_values_supported`, `on` always (ES256 unless the
 * provider lists others), `off` never.
 */
export function dpopAlgorithm(mode: DpopMode, server: oidc.ServerMetadata): DpopAlg | undefined {
  if (mode === 'off') return undefined;
  const offered = Array.isArray(server.dpop_signing_alg_values_supported) ? (server.dpop_signing_alg_values_supported as string[]) : [];
  if (!offered.length) return mode === 'on' ? 'ES256' : undefined;
  const usable = (Object.keys(ALGORITHMS) as DpopAlg[]).find((alg) => offered.includes(alg));
  if (usable) return usable;
  if (mode === 'auto') return undefined;
  throw new ConnectError(
    'invalid_settings',
    `DPoP is on, but the provider accepts DPoP proofs signed only with ${offered.join(', ')}, none of which this client can make (${Object.keys(ALGORITHMS).join(', ')}).`,
  );
}

/** A new key pair for a sign-in: the handle to make proofs with, and the key to store with the session. */
export async function newDpopKey(config: oidc.Configuration, alg: DpopAlg): Promise<{ handle: oidc.DPoPHandle; key: StoredDpopKey }> {
  const pair = (await webcrypto.subtle.generateKey(params(alg, true), true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const key: StoredDpopKey = {
    alg,
    privateJwk: await webcrypto.subtle.exportKey('jwk', pair.privateKey),
    publicJwk: await webcrypto.subtle.exportKey('jwk', pair.publicKey),
  };
  return { handle: await dpopHandle(config, key), key };
}

type KeyPair = { privateKey: webcrypto.CryptoKey; publicKey: webcrypto.CryptoKey };

/** The key pair of a stored key, imported once per process (every call with a bound token signs with it). */
const pairs = new Map<string, Promise<KeyPair>>();
function importPair(key: StoredDpopKey): Promise<KeyPair> {
  const id = JSON.stringify(key.publicJwk);
  let pair = pairs.get(id);
  if (!pair) {
    pair = importNow(key);
    pair.catch(() => pairs.delete(id));
    if (pairs.size >= 20) pairs.delete(pairs.keys().next().value as string);
    pairs.set(id, pair);
  }
  return pair;
}

/** Its private half imported as not extractable. */
async function importNow(key: StoredDpopKey): Promise<KeyPair> {
  const algorithm = params(key.alg, false);
  try {
    const privateKey = await webcrypto.subtle.importKey('jwk', key.privateJwk, algorithm, false, ['sign']);
    const publicKey = await webcrypto.subtle.importKey('jwk', key.publicJwk, algorithm, true, ['verify']);
    return { privateKey, publicKey };
  } catch {
    throw new ConnectError('stored_session_invalid', 'The saved DPoP key of this session cannot be used; sign in again.');
  }
}

/**
 * The proof maker for a stored key. One per provider and key for the life of this process, because
 * it remembers the nonces the provider hands out (RFC 9449 §8): a provider that wants one in every
 * proof then refuses only the first request, not every one.
 */
const handles = new Map<string, Promise<oidc.DPoPHandle>>();
export function dpopHandle(config: oidc.Configuration, key: StoredDpopKey): Promise<oidc.DPoPHandle> {
  const id = `${config.serverMetadata().issuer} ${JSON.stringify(key.publicJwk)}`;
  let handle = handles.get(id);
  if (!handle) {
    handle = importPair(key).then((pair) => oidc.getDPoPHandle(config, pair as oidc.CryptoKeyPair));
    handle.catch(() => handles.delete(id));
    if (handles.size >= 20) handles.delete(handles.keys().next().value as string);
    handles.set(id, handle);
  }
  return handle;
}

/** The options openid-client takes for a request: a proof from `key`, when there is one. */
export async function dpopOptions(config: oidc.Configuration, key: StoredDpopKey | undefined): Promise<{ DPoP?: oidc.DPoPHandle }> {
  return key ? { DPoP: await dpopHandle(config, key) } : {};
}

/**
 * The key a session's access token is bound to, or undefined when the provider issued it as a
 * Bearer token. (The session may keep a key all the same: a public client's refresh token can be
 * bound although its access token is not, RFC 9449 §5, so a renewal always carries a proof.)
 */
export function accessTokenKey(session: { tokenType: string; dpop?: StoredDpopKey }): StoredDpopKey | undefined {
  return session.tokenType.toLowerCase() === 'dpop' ? session.dpop : undefined;
}

const b64url = (data: string | ArrayBuffer) => Buffer.from(typeof data === 'string' ? data : new Uint8Array(data)).toString('base64url');

/**
 * A proof for a call to a resource server (RFC 9449 §4.2 and §7): this method and URL (without query
 * and fragment), the hash of the access token it goes with, and the server's nonce when it gave one.
 */
export async function resourceProof(key: StoredDpopKey, method: string, url: URL, accessToken: string, nonce?: string): Promise<string> {
  const { privateKey } = await importPair(key);
  const { key_ops: _ops, ext: _ext, ...jwk } = key.publicJwk;
  const header = { typ: 'dpop+jwt', alg: key.alg, jwk };
  const claims = {
    jti: randomUUID(),
    htm: method.toUpperCase(),
    htu: `${url.origin}${url.pathname}`,
    iat: Math.floor(Date.now() / 1000),
    ath: createHash('sha256').update(accessToken).digest('base64url'),
    ...(nonce ? { nonce } : {}),
  };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = await webcrypto.subtle.sign(signing(key.alg), privateKey, Buffer.from(input));
  return `${input}.${b64url(signature)}`;
}

/** WebCrypto's signing parameters per JWS algorithm (ECDSA's signature comes out as JWS wants it, r‖s). */
function signing(alg: DpopAlg): webcrypto.AlgorithmIdentifier | webcrypto.EcdsaParams | webcrypto.RsaPssParams {
  switch (alg) {
    case 'ES256':
      return { name: 'ECDSA', hash: 'SHA-256' };
    case 'ES384':
      return { name: 'ECDSA', hash: 'SHA-384' };
    case 'PS256':
      return { name: 'RSA-PSS', saltLength: 32 };
    case 'RS256':
      return { name: 'RSASSA-PKCS1-v1_5' };
    case 'Ed25519':
      return { name: 'Ed25519' };
  }
}

function params(alg: DpopAlg, generating: boolean): webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams | webcrypto.Algorithm {
  const algorithm = ALGORITHMS[alg];
  if ('hash' in algorithm && generating) {
    return { ...algorithm, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) };
  }
  return algorithm;
}
