// The whole sign-in, in protocol order: settings → discovery → redirect receiver → authorization
// request in the system browser → response checks → code exchange → keychain.
import { attemptSignal, whenAborted } from './abort.js';
import { createAuthorizationRequest } from './authorization-request.js';
import { checkAuthorizationResponse } from './authorization-response.js';
import { systemBrowser, type BrowserOpener } from './browser/opener.js';
import { discover } from './discovery.js';
import { ConnectError } from './errors.js';
import { LoopbackReceiver } from './redirect-receiver/loopback.js';
import type { PendingRedirect, RedirectReceiver } from './redirect-receiver/receiver.js';
import type { RedirectKind } from './redirect-uri.js';
import { displayName, summarize, type SessionSummary } from './session.js';
import { resolveSettings, type ProviderSettings } from './settings.js';
import { keychainStore } from './secret-store/keychain.js';
import { DEFAULT_PROFILE, TokenStore, checkProfileName } from './token-store.js';
import { exchangeCode } from './token-exchange.js';

export const DEFAULT_SIGN_IN_TIMEOUT_MS = 5 * 60_000;

/** What the sign-in is doing, for a progress display. Carries no token or code. */
export type SignInEvent =
  | { type: 'browser-opening'; url: string }
  | { type: 'browser-failed'; url: string; error: ConnectError }
  | { type: 'waiting'; redirectUri: string }
  | { type: 'exchanging' };

export interface SignInOptions {
  settings: ProviderSettings;
  /** Keychain profile to store the session under. Default "default". */
  profile?: string;
  /** Cancels the attempt (rejects with `cancelled`). */
  signal?: AbortSignal;
  /** How long to wait for the user to finish in the browser. Default 5 minutes. */
  timeoutMs?: number;
  /** Where tokens are kept. Default: the OS keychain. */
  store?: TokenStore;
  /** How the authorization URL is opened. Default: the system browser ($BROWSER or the OS default). */
  browser?: BrowserOpener;
  /** How the response comes back. Default: chosen from the redirect URI. */
  receiver?: RedirectReceiver;
  /** Extra authorization parameters (login_hint, ui_locales, …). */
  extraParameters?: Record<string, string>;
  onEvent?: (event: SignInEvent) => void;
}

export function receiverFor(redirect: RedirectKind): RedirectReceiver {
  if (redirect.kind === 'loopback') return new LoopbackReceiver(redirect);
  throw new ConnectError(
    'unsupported_redirect_uri',
    `This version signs in through a loopback redirect URI only; the "${redirect.kind}" redirect kind is not available yet.`,
  );
}

export async function signIn(options: SignInOptions): Promise<SessionSummary> {
  const settings = resolveSettings(options.settings);
  const profile = checkProfileName(options.profile ?? DEFAULT_PROFILE);
  const store = options.store ?? new TokenStore(keychainStore());
  const browser = options.browser ?? systemBrowser();
  const receiver = options.receiver ?? receiverFor(settings.redirect);
  const timeoutMs = options.timeoutMs ?? DEFAULT_SIGN_IN_TIMEOUT_MS;
  const emit = options.onEvent ?? (() => {});

  const attempt = attemptSignal(
    options.signal,
    timeoutMs,
    `Sign-in was not completed within ${Math.round(timeoutMs / 1000)} seconds; nothing was stored.`,
  );
  let pending: PendingRedirect | undefined;
  try {
    const config = await Promise.race([discover(settings), whenAborted(attempt.signal)]);
    const server = config.serverMetadata();
    pending = await receiver.listen(attempt.signal);
    const request = await createAuthorizationRequest(config, {
      redirectUri: pending.redirectUri,
      scope: settings.scope,
      ...(options.extraParameters ? { extraParameters: options.extraParameters } : {}),
    });

    const url = request.url.href;
    emit({ type: 'browser-opening', url });
    // A browser that fails to start is not the end: the user can open the URL by hand.
    await browser.open(url).catch((error: unknown) => {
      const err =
        error instanceof ConnectError ? error : new ConnectError('browser_open_failed', 'The browser could not be started.');
      emit({ type: 'browser-failed', url, error: err });
    });
    emit({ type: 'waiting', redirectUri: pending.redirectUri });

    const params = await Promise.race([pending.response, whenAborted(attempt.signal)]);
    checkAuthorizationResponse(params, {
      state: request.state,
      issuer: server.issuer,
      issRequired: server.authorization_response_iss_parameter_supported === true,
    });
    emit({ type: 'exchanging' });
    const session = await exchangeCode({ config, request, scope: settings.scope }, params);
    session.redirectUri = settings.redirectUri;
    if (settings.clientSecret) session.clientSecret = settings.clientSecret;
    await store.save(profile, session);
    await pending.finish({ ok: true, displayName: displayName(session.claims) });
    return summarize(session);
  } catch (error) {
    const err =
      error instanceof ConnectError
        ? error
        : new ConnectError('invalid_response', 'Sign-in failed unexpectedly.', { cause: error });
    await pending?.finish({ ok: false, code: err.code, message: err.message });
    throw err;
  } finally {
    await pending?.close();
    attempt.dispose();
  }
}
