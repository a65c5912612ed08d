// Signing out (the provider's integration steps, item 12): forget the tokens here first, so local
// sign-out always works, then tell the provider: single sign-on logout when asked ("everywhere"),
// and revocation of the refresh and access tokens (RFC 7009). Provider failures become warnings.
import * as oidc from 'openid-client';
import { attemptSignal, whenAborted } from '../common/abort.js';
import { sameString } from './authorization-response.js';
import { systemBrowser, type BrowserOpener } from '../browser/opener.js';
import { discover } from '../provider/discovery.js';
import { accessTokenKey, dpopOptions } from '../provider/dpop.js';
import { ConnectError } from '../common/errors.js';
import { fromOpenIdClient, httpStatusOf } from '../provider/openid-errors.js';
import { LoopbackReceiver } from '../redirect-receiver/loopback.js';
import { classifyRedirectUri, type RedirectKind } from '../config/redirect-uri.js';
import { keychainStore } from '../secret-store/keychain.js';
import { type StoredSession } from '../session/session.js';
import { checkPostLogoutRedirectUri, resolveSettings, type ResolvedSettings } from '../config/settings.js';
import { DEFAULT_PROFILE, TokenStore, checkProfileName } from '../session/token-store.js';

export interface SignOutOptions {
  profile?: string;
  store?: TokenStore;
  /** Also end the provider's single sign-on session. */
  everywhere?: boolean;
  /** Opens the provider's logout page (browser logout). Default: the system browser. */
  browser?: BrowserOpener;
  signal?: AbortSignal;
  /** Where the logout page comes back to, instead of the one the profile signed in with (see settings). */
  postLogoutRedirectUri?: string;
  /** How long to wait for the browser to come back from the logout page. Default 2 minutes. */
  timeoutMs?: number;
}

export type EverywhereResult = 'not_requested' | 'confirmed' | 'token_logout' | 'unsupported' | 'failed';

export interface SignOutResult {
  profile: string;
  wasSignedIn: boolean;
  /** Tokens revoked at the provider; false when that failed (see warnings); null when it has no revocation endpoint. */
  revoked: boolean | null;
  everywhere: EverywhereResult;
  /** What could not be done at the provider, for the user. Never contains a token. */
  warnings: string[];
}

type Loopback = Extract<RedirectKind, { kind: 'loopback' }>;

async function browserLogout(
  config: oidc.Configuration,
  settings: ResolvedSettings,
  session: StoredSession,
  options: SignOutOptions,
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const attempt = attemptSignal(options.signal, timeoutMs, `The provider's logout page did not come back within ${Math.round(timeoutMs / 1000)} seconds.`);
  const receiver = new LoopbackReceiver(classifyRedirectUri(settings.postLogoutRedirectUri) as Loopback);
  const pending = await receiver.listen(attempt.signal);
  try {
    const state = oidc.randomState();
    const url = oidc.buildEndSessionUrl(config, {
      ...(session.idToken ? { id_token_hint: session.idToken } : {}),
      client_id: session.settings.clientId,
      post_logout_redirect_uri: pending.redirectUri,
      state,
    });
    await (options.browser ?? systemBrowser()).open(url.href);
    const candidate = await Promise.race([pending.next(), whenAborted(attempt.signal)]);
    const returned = candidate.params.get('state');
    if (returned === null || !sameString(returned, state)) {
      const error = new ConnectError('state_mismatch', 'The return from the provider\'s logout page does not belong to this sign-out.');
      await candidate.settle({ ok: false, code: error.code, message: error.message });
      throw error;
    }
    await candidate.settle({
      ok: true,
      heading: 'You are signed out',
      detail: 'You are signed out at the provider too. You can close this tab.',
    });
  } finally {
    await pending.close();
    attempt.dispose();
  }
}

async function tokenLogout(config: oidc.Configuration, session: StoredSession): Promise<void> {
  const endpoint = config.serverMetadata().end_session_endpoint as string;
  let response: Response;
  try {
    response = await oidc.fetchProtectedResource(config, session.accessToken, new URL(endpoint), 'POST', undefined, undefined, await dpopOptions(config, accessTokenKey(session)));
  } catch (error) {
    throw fromOpenIdClient(error, 'revocation', endpoint);
  }
  if (!response.ok) throw new ConnectError('invalid_response', `The provider's logout endpoint answered ${response.status}.`);
}

/** Revoke the refresh token, then the access token (RFC 7009); throws what went wrong. */
export async function revokeTokens(config: oidc.Configuration, session: Pick<StoredSession, 'accessToken' | 'refreshToken'>): Promise<void> {
  if (session.refreshToken) await oidc.tokenRevocation(config, session.refreshToken, { token_type_hint: 'refresh_token' });
  await oidc.tokenRevocation(config, session.accessToken, { token_type_hint: 'access_token' });
}

/** The same, best effort (tokens nobody may keep): true when the provider took both. */
export async function revokeQuietly(config: oidc.Configuration, session: Pick<StoredSession, 'accessToken' | 'refreshToken'>): Promise<boolean> {
  if (!config.serverMetadata().revocation_endpoint) return false;
  return revokeTokens(config, session).then(
    () => true,
    () => false,
  );
}

function revocationWarning(error: unknown, settings: ResolvedSettings, endpoint: string): string {
  const err = fromOpenIdClient(error, 'revocation', endpoint);
  const status = httpStatusOf(error);
  if (!settings.clientSecret && (status === 401 || err.code === 'invalid_client')) {
    // RFC 7009 §2.1 asks for client authentication only of confidential clients (Glewlwyd asks it of all).
    return (
      'The tokens were removed from this computer, but the provider refused to revoke them without client credentials ' +
      '(HTTP 401), which RFC 7009 §2.1 asks only of confidential clients, and this one is public: they stay valid at the ' +
      'provider until they expire.'
    );
  }
  return `The tokens were removed from this computer, but revoking them at the provider failed: ${reason(err)}`;
}

function reason(error: unknown): string {
  return error instanceof ConnectError ? error.message : 'an unexpected error';
}

export async function signOut(options: SignOutOptions = {}): Promise<SignOutResult> {
  const profile = checkProfileName(options.profile ?? DEFAULT_PROFILE);
  // Checked before anything is removed: a bad argument loses nothing.
  const postLogoutRedirectUri = options.postLogoutRedirectUri === undefined ? undefined : checkPostLogoutRedirectUri(options.postLogoutRedirectUri);
  const store = options.store ?? new TokenStore(keychainStore());
  const result: SignOutResult = {
    profile,
    wasSignedIn: false,
    revoked: null,
    everywhere: options.everywhere ? 'unsupported' : 'not_requested',
    warnings: [],
  };
  // A damaged entry is still removed: signing out must always be possible.
  const session = await store.load(profile).catch(async (error: unknown) => {
    if (error instanceof ConnectError && error.code === 'stored_session_invalid') return null;
    throw error;
  });
  await store.remove(profile);
  if (!session) return result;
  result.wasSignedIn = true;

  let config: oidc.Configuration;
  let settings: ResolvedSettings;
  try {
    settings = resolveSettings({ ...session.settings, ...(postLogoutRedirectUri ? { postLogoutRedirectUri } : {}) });
    config = await discover(settings);
  } catch (error) {
    result.revoked = false;
    if (options.everywhere) result.everywhere = 'failed';
    result.warnings.push(`The tokens were removed from this computer, but not revoked at the provider, which could not be asked: ${reason(error)}`);
    return result;
  }
  const server = config.serverMetadata();

  // Single sign-on logout before revocation: token logout needs the access token to still be valid.
  if (options.everywhere) {
    if (!server.end_session_endpoint) {
      result.warnings.push('The provider has no logout endpoint, so its single sign-on session could not be ended here.');
    } else {
      try {
        if (settings.logoutMethod === 'token') {
          await tokenLogout(config, session);
          result.everywhere = 'token_logout';
        } else {
          await browserLogout(config, settings, session, options);
          result.everywhere = 'confirmed';
        }
      } catch (error) {
        result.everywhere = 'failed';
        result.warnings.push(`Signing out at the provider did not complete: ${reason(error)}`);
      }
    }
  }

  if (server.revocation_endpoint) {
    try {
      await revokeTokens(config, session);
      result.revoked = true;
    } catch (error) {
      result.revoked = false;
      result.warnings.push(revocationWarning(error, settings, server.revocation_endpoint));
    }
  }
  return result;
}
