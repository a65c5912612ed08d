// How a resource server checks a DPoP-bound access token (RFC 9449 §4.3 and §7), with node:crypto
// only, for the demo's protected resource and token logout. A template user's own API does the same:
// the proof is a JWT signed by the key in its header; it names this method and URL, is recent, is
// used once, carries the hash of the token it goes with, and its key is the one the token is bound
// to (the token's `cnf.jkt`, here the `jkt` oidc-provider keeps with the token).
import { createHash, createPublicKey, verify, type JsonWebKey } from 'node:crypto';

/** The algorithms this resource accepts (announced in its DPoP challenge). */
export const PROOF_ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'Ed25519', 'PS256', 'RS256'] as const;
/** How far a proof's `iat` may be from this server's clock, in seconds. */
const WINDOW_S = 60;

/** A refused proof: the reason goes into the `error_description` of the 401's challenge. */
export class ProofError extends Error {}
/** A proof without the nonce this server hands out (RFC 9449 §9): answered with `use_dpop_nonce` and the nonce. */
export class NonceError extends ProofError {}

/** A JWS part: base64url and nothing else (Buffer would skip what it cannot decode). */
const b64 = (part: string) => {
  if (!/^[A-Za-z0-9_-]*$/.test(part)) throw new ProofError('the proof is not a JWT');
  return Buffer.from(part, 'base64url');
};
const isObject = (value: unknown): value is Record<string, unknown> => !!value && typeof value === 'object' && !Array.isArray(value);

/** The algorithm a key of this type and curve signs with: a proof must not say another. */
function algorithmsFor(jwk: JsonWebKey): string[] {
  if (jwk.kty === 'EC' && jwk.crv === 'P-256') return ['ES256'];
  if (jwk.kty === 'EC' && jwk.crv === 'P-384') return ['ES384'];
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519') return ['EdDSA', 'Ed25519'];
  if (jwk.kty === 'RSA') return ['PS256', 'RS256'];
  return [];
}
const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

/** RFC 7638: the SHA-256 of the key's required members, in lexicographic order. */
export function jwkThumbprint(jwk: JsonWebKey): string {
  const members: Record<string, string[]> = { EC: ['crv', 'kty', 'x', 'y'], OKP: ['crv', 'kty', 'x'], RSA: ['e', 'kty', 'n'] };
  const names = Object.hasOwn(members, String(jwk.kty)) ? members[String(jwk.kty)] : undefined;
  if (!names) throw new ProofError('unsupported key type');
  return sha256(JSON.stringify(Object.fromEntries(names.map((name) => [name, jwk[name]]))));
}

function checkSignature(alg: string, jwk: JsonWebKey, input: string, signature: Buffer): boolean {
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  switch (alg) {
    case 'ES256':
    case 'ES384':
      return verify(alg === 'ES256' ? 'sha256' : 'sha384', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }, signature);
    case 'EdDSA':
    case 'Ed25519':
      return verify(null, Buffer.from(input), key, signature);
    case 'PS256':
      return verify('sha256', Buffer.from(input), { key, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength: 32 }, signature);
    case 'RS256':
      return verify('sha256', Buffer.from(input), key, signature);
    default:
      return false;
  }
}

/** Proofs already seen (jti → until when to remember it), so one cannot be used twice. */
export class ReplayCache {
  private readonly seen = new Map<string, number>();
  /** False when this jti was seen within the window. */
  add(jti: string, now: number): boolean {
    for (const [id, until] of this.seen) if (until < now) this.seen.delete(id);
    if (this.seen.has(jti)) return false;
    this.seen.set(jti, now + 2 * WINDOW_S);
    return true;
  }
}

export interface ProofCheck {
  /** The DPoP header. */
  proof: string | undefined;
  method: string;
  /** The URL the client called, as the client knows it (no query or fragment). */
  url: string;
  accessToken: string;
  /** The thumbprint the token is bound to. */
  jkt: string;
  replay: ReplayCache;
  /** The nonce proofs must carry, where this server hands them out. */
  nonce?: string;
  now?: number;
}

/** Throws ProofError unless the proof shows the caller holds the key the token is bound to. */
export function checkProof(check: ProofCheck): void {
  const now = check.now ?? Math.floor(Date.now() / 1000);
  if (!check.proof) throw new ProofError('a DPoP-bound token needs a DPoP proof');
  const parts = check.proof.split('.');
  if (parts.length !== 3) throw new ProofError('the proof is not a signed JWT');
  const [head, body, signature] = parts as [string, string, string];
  let header: unknown;
  let claims: unknown;
  try {
    header = JSON.parse(b64(head).toString());
    claims = JSON.parse(b64(body).toString());
  } catch {
    throw new ProofError('the proof is not a JWT');
  }
  if (!isObject(header) || !isObject(claims)) throw new ProofError('the proof is not a JWT');
  if (header.typ !== 'dpop+jwt') throw new ProofError('the proof is not typed dpop+jwt');
  if (typeof header.alg !== 'string' || !(PROOF_ALGORITHMS as readonly string[]).includes(header.alg)) throw new ProofError('unsupported proof algorithm');
  const jwk = header.jwk as JsonWebKey | undefined;
  if (!isObject(jwk) || 'd' in jwk) throw new ProofError('the proof must carry a public key');
  if (!algorithmsFor(jwk).includes(header.alg)) throw new ProofError('the proof algorithm does not match its key');
  // The cheap check first: a proof from another key than the token's goes no further.
  if (jwkThumbprint(jwk) !== check.jkt) throw new ProofError('the proof is signed by another key than the token is bound to');
  let signed: boolean;
  try {
    signed = checkSignature(header.alg, jwk, `${head}.${body}`, b64(signature));
  } catch {
    signed = false;
  }
  if (!signed) throw new ProofError('the proof signature is invalid');
  if (claims.htm !== check.method) throw new ProofError('the proof is for another method');
  const htu = typeof claims.htu === 'string' ? URL.parse(claims.htu) : null;
  if (htu) htu.search = htu.hash = '';
  if (!htu || htu.href !== new URL(check.url).href) throw new ProofError('the proof is for another URL');
  if (typeof claims.iat !== 'number' || Math.abs(now - claims.iat) > WINDOW_S) throw new ProofError('the proof is not recent');
  if (claims.ath !== sha256(check.accessToken)) throw new ProofError('the proof is for another access token');
  if (check.nonce !== undefined && claims.nonce !== check.nonce) throw new NonceError('the proof must carry the nonce in the DPoP-Nonce header');
  if (typeof claims.jti !== 'string' || !claims.jti || !check.replay.add(claims.jti, now)) throw new ProofError('the proof was already used');
}
