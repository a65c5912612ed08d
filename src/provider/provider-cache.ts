// What the client learns about a provider, kept between runs: its discovery document, its signing
// keys (JWKS), and how far its clock is from ours. All of it is public (the provider publishes it to
// anyone), so it is kept in the user's cache folder, never in the keychain. Without it, every cold
// `connect-login token` that renews would ask for the discovery document, the token and the keys:
// three round trips where one does.
//
// The expiry is honest: the answer's own Cache-Control (max-age; no-store, no-cache and max-age=0
// mean "do not keep"), otherwise DEFAULT_KEEP_SECONDS, and never more than MAX_KEEP_SECONDS. Keys are
// handed to openid-client as "a minute old", so that a token signed with a key the cached set does not
// have makes it fetch the keys once again (a provider that rotated its keys). A cached document whose
// endpoint answers 404 or 410 is forgotten (the provider moved it). A damaged or unreadable cache file
// is ignored: the cache can only save requests, never fail a sign-in.
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readBoundedFileSync } from '../common/bounded-file.js';
import { debug } from '../common/debug.js';
import { IDENTITY } from '../config/identity.js';

/** Kept this long when the provider's answer says nothing about caching. */
export const DEFAULT_KEEP_SECONDS = 10 * 60;
/** Never kept longer than this, whatever the answer says. */
export const MAX_KEEP_SECONDS = 24 * 3600;

export interface CachedProvider {
  version: 1;
  issuer: string;
  document?: { value: Record<string, unknown>; until: number };
  keys?: { value: { keys: Record<string, unknown>[] }; until: number };
  /** The provider's clock minus ours, in seconds, as last seen (0 when within a minute). */
  clockSkew?: number;
}

/** The folder for the cache: the OS's per-user cache folder. */
export function providerCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (process.platform === 'win32') return join(env.LOCALAPPDATA || join(homedir(), 'AppData', 'Local'), IDENTITY.folderName, 'cache', 'providers');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Caches', IDENTITY.folderName, 'providers');
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), IDENTITY.folderName, 'providers');
}

function fileFor(issuer: string): string {
  return join(providerCacheDir(), `${createHash('sha256').update(issuer).digest('hex').slice(0, 32)}.json`);
}

/** Seconds this answer may be kept (0: not at all), from its Cache-Control. */
export function keepSeconds(headers: Headers): number {
  const control = (headers.get('cache-control') ?? '').toLowerCase();
  if (/\b(no-store|no-cache)\b/.test(control)) return 0;
  const maxAge = /\bmax-age=(\d+)/.exec(control);
  const seconds = maxAge ? Number(maxAge[1]) - Number(headers.get('age') ?? 0) : DEFAULT_KEEP_SECONDS;
  return Math.max(0, Math.min(MAX_KEEP_SECONDS, Number.isFinite(seconds) ? seconds : 0));
}

const now = () => Math.floor(Date.now() / 1000);

/** What is known about the issuer and still fresh; an empty record when nothing is. */
export function readProviderCache(issuer: string): CachedProvider {
  const empty: CachedProvider = { version: 1, issuer };
  let data: CachedProvider;
  try {
    data = JSON.parse(readBoundedFileSync(fileFor(issuer))) as CachedProvider;
  } catch {
    return empty; // none yet, or not usable: learn it again
  }
  if (data?.version !== 1 || data.issuer !== issuer) return empty;
  const fresh = (part: { until: number } | undefined) => !!part && typeof part.until === 'number' && part.until > now() && typeof (part as { value?: unknown }).value === 'object';
  return {
    ...empty,
    ...(fresh(data.document) ? { document: data.document } : {}),
    ...(fresh(data.keys) && Array.isArray(data.keys?.value?.keys) ? { keys: data.keys } : {}),
    ...(typeof data.clockSkew === 'number' && Number.isFinite(data.clockSkew) ? { clockSkew: data.clockSkew } : {}),
  };
}

/** Keep what was learned (merged with what is still fresh). Failing to write only costs requests later. */
export function updateProviderCache(issuer: string, change: Partial<Omit<CachedProvider, 'version' | 'issuer'>>): void {
  const file = fileFor(issuer);
  const next: CachedProvider = { ...readProviderCache(issuer), ...change };
  try {
    mkdirSync(providerCacheDir(), { recursive: true, mode: 0o700 });
    const temp = `${file}.${process.pid}.tmp`;
    writeFileSync(temp, JSON.stringify(next), { mode: 0o600 });
    renameSync(temp, file);
  } catch (error) {
    debug(`cache: could not keep what was learned about ${issuer} (${(error as NodeJS.ErrnoException).code ?? 'error'}); it is asked again next time`);
  }
}

/** Forget the issuer's cached document and keys (an endpoint moved). */
export function forgetProvider(issuer: string): void {
  rmSync(fileFor(issuer), { force: true });
  debug(`cache: forgot what was kept about ${issuer}; it is asked again next time`);
}

/** An answer part to keep, or undefined when the answer says not to. */
export function keepable<T>(value: T, headers: Headers): { value: T; until: number } | undefined {
  const seconds = keepSeconds(headers);
  return seconds > 0 ? { value, until: now() + seconds } : undefined;
}
