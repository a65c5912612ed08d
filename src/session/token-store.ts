// The token vault: one keychain entry set per profile. A profile isolates one sign-in (the app's,
// a script's, a test's) from every other.
import { isStoredDpopKey } from './dpop-key.js';
import { debug } from '../common/debug.js';
import { ConnectError } from '../common/errors.js';
import type { SecretStore } from '../secret-store/store.js';
import type { Registration } from '../registration/dynamic.js';
import type { StoredSession } from './session.js';
import { IDENTITY } from '../config/identity.js';

export const DEFAULT_PROFILE = 'default';

export function checkProfileName(profile: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(profile)) {
    throw new ConnectError(
      'invalid_settings',
      `The profile name "${profile}" is not valid: use 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit.`,
    );
  }
  return profile;
}

function account(profile: string): string {
  return `profile:${checkProfileName(profile)}:session`;
}

function probeAccount(profile: string): string {
  return `profile:${checkProfileName(profile)}:probe`;
}

function registrationAccount(profile: string): string {
  return `profile:${checkProfileName(profile)}:client`;
}

const ACCOUNT = /^profile:([A-Za-z0-9][A-Za-z0-9._-]{0,63}):session$/;
const REGISTRATION_ACCOUNT = /^profile:([A-Za-z0-9][A-Za-z0-9._-]{0,63}):client$/;

/**
 * A session kept by version 1, which had the settings' fields one by one beside the tokens, as
 * version 2 has it: the settings in one part, the tokens in the other.
 */
function fromVersion1(value: unknown): unknown {
  const v = value as Record<string, unknown> | null;
  if (!v || typeof v !== 'object' || v.version !== 1) return value;
  const { version: _version, issuer, clientId, redirectUri, clientSecret, endpoints, logoutMethod, postLogoutRedirectUri, requestTimeoutSeconds, resourceOrigins, dpopMode, ...tokens } = v;
  const scope = typeof v.scope === 'string' && !v.scope.split(' ').includes('openid') ? `openid ${v.scope}` : v.scope;
  const settings = Object.fromEntries(
    // DPoP was off unless asked for when version 1 was written: signing in again keeps it so.
    Object.entries({ issuer, clientId, redirectUri, scope, clientSecret, endpoints, logoutMethod, postLogoutRedirectUri, requestTimeoutSeconds, resourceOrigins, dpop: dpopMode ?? 'off' }).filter(
      ([, field]) => field !== undefined,
    ),
  );
  return { version: 2, settings, ...tokens };
}

function isStoredSession(value: unknown): value is StoredSession {
  const v = value as Partial<StoredSession> | null;
  const settings = v?.settings as Partial<StoredSession['settings']> | undefined;
  return (
    !!v &&
    typeof v === 'object' &&
    v.version === 2 &&
    !!settings &&
    typeof settings === 'object' &&
    typeof settings.issuer === 'string' &&
    typeof settings.clientId === 'string' &&
    typeof settings.redirectUri === 'string' &&
    typeof settings.scope === 'string' &&
    typeof v.sub === 'string' &&
    typeof v.accessToken === 'string' &&
    typeof v.scope === 'string' &&
    (v.expiresAt === null || typeof v.expiresAt === 'number') &&
    (v.dpop === undefined || isStoredDpopKey(v.dpop)) &&
    // A DPoP-bound token without its key could only be sent as Bearer, and would be refused.
    (String(v.tokenType).toLowerCase() !== 'dpop' || v.dpop !== undefined)
  );
}

export class TokenStore {
  readonly #secrets: SecretStore;

  constructor(secrets: SecretStore) {
    this.#secrets = secrets;
  }

  /** The profile's session, or null when signed out. Throws `stored_session_invalid` on a damaged entry. */
  async load(profile: string): Promise<StoredSession | null> {
    const raw = await this.#secrets.get(account(profile));
    debug(`keychain: read ${account(profile)}: ${raw === null ? 'none' : 'found'}`);
    if (raw === null) return null;
    let parsed: unknown;
    try {
      parsed = fromVersion1(JSON.parse(raw));
    } catch {
      parsed = undefined;
    }
    if (!isStoredSession(parsed)) {
      throw new ConnectError(
        'stored_session_invalid',
        `The saved sign-in for profile "${profile}" is damaged and cannot be used; sign in again (${IDENTITY.cliName} logout, then login).`,
      );
    }
    return parsed;
  }

  async save(profile: string, session: StoredSession): Promise<void> {
    await this.#secrets.set(account(profile), JSON.stringify(session));
    debug(`keychain: wrote ${account(profile)}`);
  }

  /**
   * Prove the keychain can be written now: before a browser opens for a sign-in, and before a
   * refresh token is spent (the provider may rotate it, and the new one must be kept). A locked or
   * missing keychain then fails with `keychain_unavailable` while nothing is lost yet.
   */
  async probe(profile: string): Promise<void> {
    // One small entry per profile, written again each time and removed with the session: creating and
    // deleting an entry in quick succession, over and over, has been seen to crash GNOME Keyring.
    const name = probeAccount(profile);
    await this.#secrets.set(name, String(Date.now()));
    debug(`keychain: ${name} written (the keychain can be written)`);
  }

  /** The client registered for the profile (dynamic registration), or null. */
  async loadRegistration(profile: string): Promise<Registration | null> {
    const raw = await this.#secrets.get(registrationAccount(profile));
    if (raw === null) return null;
    try {
      const parsed = JSON.parse(raw) as Registration;
      if (parsed.version === 1 && typeof parsed.clientId === 'string' && typeof parsed.issuer === 'string') return parsed;
    } catch {
      // fall through
    }
    throw new ConnectError('stored_session_invalid', `The saved client registration of profile "${profile}" is damaged; register again.`);
  }

  async saveRegistration(profile: string, registration: Registration): Promise<void> {
    await this.#secrets.set(registrationAccount(profile), JSON.stringify(registration));
  }

  async removeRegistration(profile: string): Promise<boolean> {
    return this.#secrets.delete(registrationAccount(profile));
  }

  /** The profiles that have a stored session, sorted. */
  async profiles(): Promise<string[]> {
    return (await this.#secrets.list())
      .map((name) => ACCOUNT.exec(name)?.[1])
      .filter((name): name is string => !!name)
      .sort();
  }

  /** The profiles that have a registered client (dynamic registration), sorted. */
  async registeredProfiles(): Promise<string[]> {
    return (await this.#secrets.list())
      .map((name) => REGISTRATION_ACCOUNT.exec(name)?.[1])
      .filter((name): name is string => !!name)
      .sort();
  }

  /** Forget the profile's session; false when there was none. */
  async remove(profile: string): Promise<boolean> {
    const removed = await this.#secrets.delete(account(profile));
    await this.#secrets.delete(probeAccount(profile));
    debug(`keychain: removed ${account(profile)}: ${removed ? 'yes' : 'there was none'}`);
    return removed;
  }
}
