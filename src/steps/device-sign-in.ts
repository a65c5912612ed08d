// Sign-in on another device: the OAuth 2.0 Device Authorization Grant (RFC 8628), for where no
// browser can run (a server over SSH, a container). The provider gives a short user code and a page
// to enter it at, on a phone or any other computer; this program asks the provider at the interval it
// says (slower after `slow_down`, on after `authorization_pending`) until the user approved, refused
// (`access_denied`) or the code expired (`expired_token`). The session is stored like any sign-in's.
import * as oidc from 'openid-client';
import { debug } from '../common/debug.js';
import { discover } from '../provider/discovery.js';
import { dpopAlgorithm, newDpopKey } from '../provider/dpop.js';
import { ConnectError, ProviderError } from '../common/errors.js';
import { placeOf } from '../provider/limited-fetch.js';
import { isHttpsOrLoopback } from '../config/redirect-uri.js';
import { fromOpenIdClient } from '../provider/openid-errors.js';
import { keychainStore } from '../secret-store/keychain.js';
import { summarize, type SessionSummary } from '../session/session.js';
import { resolveSettings, type ProviderSettings } from '../config/settings.js';
import { saveOrRevoke, withSettings } from './sign-in.js';
import { DEFAULT_PROFILE, TokenStore, checkProfileName } from '../session/token-store.js';
import { sessionFrom } from './token-exchange.js';

/** What the user needs to sign in elsewhere. Carries no token. */
export interface DeviceCode {
  userCode: string;
  /** The page to enter the code at. */
  verificationUri: string;
  /** The same page with the code filled in (for a link or a QR code), when the provider gives one. */
  verificationUriComplete?: string;
  /** Seconds until the code expires. */
  expiresIn: number;
}

export interface DeviceSignInOptions {
  settings: ProviderSettings;
  profile?: string;
  store?: TokenStore;
  /** Cancels the wait (rejects with `cancelled`). */
  signal?: AbortSignal;
  /** Called once with the code to show. */
  onCode: (code: DeviceCode) => void;
}

/** Sign in on another device; resolves with the session summary (no tokens). */
export async function deviceSignIn(options: DeviceSignInOptions): Promise<SessionSummary> {
  const settings = resolveSettings(options.settings);
  const profile = checkProfileName(options.profile ?? DEFAULT_PROFILE);
  const store = options.store ?? new TokenStore(keychainStore());
  // Cancelling works at every step, not only while waiting for the user.
  const cancelled = () => new ConnectError('cancelled', 'Sign-in on another device was cancelled; nothing was stored.');
  const stopped = new Promise<never>((_, reject) => {
    if (options.signal?.aborted) reject(cancelled());
    options.signal?.addEventListener('abort', () => reject(cancelled()), { once: true });
  });
  stopped.catch(() => {});
  const unlessCancelled = <T>(work: Promise<T>) => Promise.race([work, stopped]);

  const config = await unlessCancelled(discover(settings));
  const endpoint = config.serverMetadata().device_authorization_endpoint;
  if (!endpoint) {
    throw new ConnectError(
      'device_flow_unsupported',
      `The provider at ${settings.issuer} does not offer sign-in on another device (no device_authorization_endpoint, in its ` +
        'discovery document or the settings\' endpoints). Sign in with a browser on this computer, or with the oob redirect (paste the code).',
    );
  }
  // As for a browser sign-in: a keychain that cannot take the session is found before the user acts.
  await unlessCancelled(store.probe(profile));
  let code: oidc.DeviceAuthorizationResponse;
  try {
    code = await unlessCancelled(oidc.initiateDeviceAuthorization(config, { scope: settings.scope }));
  } catch (error) {
    if (error instanceof ConnectError) throw error;
    throw fromOpenIdClient(error, 'device authorization', placeOf(endpoint));
  }
  // The page the user is sent to must be the provider's, over https (or on this machine).
  for (const page of [code.verification_uri, code.verification_uri_complete]) {
    if (page !== undefined && !isHttpsOrLoopback(new URL(page))) {
      throw new ConnectError('insecure_endpoint', `The provider's device sign-in page (${new URL(page).origin}) is not https; it was not shown.`);
    }
  }
  if (options.signal?.aborted) throw cancelled();
  options.onCode({
    userCode: code.user_code,
    verificationUri: code.verification_uri,
    ...(code.verification_uri_complete ? { verificationUriComplete: code.verification_uri_complete } : {}),
    expiresIn: code.expires_in,
  });
  debug(`device: waiting for the user (every ${code.interval ?? 5} s, for ${code.expires_in} s at most)`);
  const expiry = AbortSignal.timeout(code.expires_in * 1000);
  const signal = options.signal ? AbortSignal.any([options.signal, expiry]) : expiry;
  const alg = dpopAlgorithm(settings.dpop, config.serverMetadata());
  const dpop = alg ? await newDpopKey(config, alg) : undefined;
  let tokens: Awaited<ReturnType<typeof oidc.pollDeviceAuthorizationGrant>>;
  try {
    tokens = await oidc.pollDeviceAuthorizationGrant(config, code, undefined, { signal, ...(dpop ? { DPoP: dpop.handle } : {}) });
  } catch (error) {
    if (options.signal?.aborted) throw cancelled();
    if (expiry.aborted) throw expired();
    const err = fromOpenIdClient(error, 'token', placeOf(config.serverMetadata().token_endpoint as string));
    if (err.code === 'expired_token') throw expired();
    if (err.code === 'access_denied') {
      throw new ProviderError('access_denied', 'Sign-in was refused on the other device; nothing was stored.', (err as ProviderError).description);
    }
    throw err;
  }
  const session = withSettings(await sessionFrom(config, tokens, settings.scope, dpop), settings, options.settings, config);
  await saveOrRevoke(store, profile, session, config);
  return summarize(session);
}

function expired(): ConnectError {
  return new ConnectError('expired_token', 'The code expired before it was entered on the other device; nothing was stored. Sign in again for a new code.');
}
