// Sender-constrained tokens (DPoP, RFC 9449): a key pair per profile, made at sign-in, whose private
// half is kept in the keychain with the tokens (inside the same entry, so it goes when they go). Every
// request that carries the access token (userinfo, fetch, token logout) and every grant (code,
// refresh, device) then carries a proof signed with it, so a token copied from memory, a log or a
// crash dump is useless without the key. openid-client makes the proofs, adds `ath` for resource
// calls, and answers a `use_dpop_nonce` challenge with one retry.
import { webcrypto } from 'node:crypto';
import * as oidc from 'openid-client';
import { ConnectError } from '../common/errors.js';

import type { DpopMode } from '../config/dpop-mode.js';

export { DPOP_MODES, type DpopMode } from '../config/dpop-mode.js';

/** The key as kept in the session (JWKs; the private one never leaves the keychain entry). */
export interface StoredDpopKey {
  alg: DpopAlg;
  privateJwk: webcrypto.JsonWebKey;
  publicJwk: webcrypto.JsonWebKey;
}

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
} as const;
export type DpopAlg = keyof typeof ALGORITHMS;

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

/** The proof maker for a stored key (its private half imported as not extractable). */
export async function dpopHandle(config: oidc.Configuration, key: StoredDpopKey): Promise<oidc.DPoPHandle> {
  const algorithm = params(key.alg, false);
  try {
    const privateKey = await webcrypto.subtle.importKey('jwk', key.privateJwk, algorithm, false, ['sign']);
    const publicKey = await webcrypto.subtle.importKey('jwk', key.publicJwk, algorithm, true, ['verify']);
    return oidc.getDPoPHandle(config, { privateKey, publicKey } as oidc.CryptoKeyPair);
  } catch {
    throw new ConnectError('stored_session_invalid', 'The saved DPoP key of this session cannot be used; sign in again.');
  }
}

/** The options openid-client takes for a session's requests: a proof when its tokens are bound. */
export async function dpopOptions(config: oidc.Configuration, key: StoredDpopKey | undefined): Promise<{ DPoP?: oidc.DPoPHandle }> {
  return key ? { DPoP: await dpopHandle(config, key) } : {};
}

function params(alg: DpopAlg, generating: boolean): webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams | webcrypto.Algorithm {
  const algorithm = ALGORITHMS[alg];
  if ('hash' in algorithm && generating) {
    return { ...algorithm, modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) };
  }
  return algorithm;
}

export function isStoredDpopKey(value: unknown): value is StoredDpopKey {
  if (!value || typeof value !== 'object') return false;
  const key = value as Record<string, unknown>;
  return (
    typeof key.alg === 'string' &&
    key.alg in ALGORITHMS &&
    typeof key.privateJwk === 'object' &&
    key.privateJwk !== null &&
    typeof key.publicJwk === 'object' &&
    key.publicJwk !== null
  );
}
