// The DPoP key as the session keeps it (provider/dpop.ts makes and uses it), apart from the code that
// signs with it, so that reading a session does not load the protocol library.
import type { webcrypto } from 'node:crypto';

/** The algorithms a key can be made for, in the order this client prefers them. */
export const DPOP_ALGORITHMS = ['ES256', 'Ed25519', 'ES384', 'PS256', 'RS256'] as const;
export type DpopAlg = (typeof DPOP_ALGORITHMS)[number];

/** The key as kept in the session (JWKs; the private one never leaves the keychain value). */
export interface StoredDpopKey {
  alg: DpopAlg;
  privateJwk: webcrypto.JsonWebKey;
  publicJwk: webcrypto.JsonWebKey;
}

export function isStoredDpopKey(value: unknown): value is StoredDpopKey {
  if (!value || typeof value !== 'object') return false;
  const key = value as Record<string, unknown>;
  return (
    typeof key.alg === 'string' &&
    (DPOP_ALGORITHMS as readonly string[]).includes(key.alg) &&
    typeof key.privateJwk === 'object' &&
    key.privateJwk !== null &&
    typeof key.publicJwk === 'object' &&
    key.publicJwk !== null
  );
}
