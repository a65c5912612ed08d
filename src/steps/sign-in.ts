// The whole sign-in, in protocol order: settings → discovery → redirect receiver → authorization
// request in the system browser → response checks → code exchange → keychain.
import * as oidc from 'openid-client';
import { abortError, attemptSignal, whenAborted } from '../common/abort.js';
import { createAuthorizationRequest } from './authorization-request.js';
import { checkAuthorizationResponse, setAsideLine } from './authorization-response.js';
import { systemBrowser, type BrowserOpener } from '../browser/opener.js';
import { debug } from '../common/debug.js';
import { discover } from '../provider/discovery.js';
import { dpopAlgorithm, newDpopKey } from '../provider/dpop.js';
import { ConnectError, noPendingAttempt } from '../common/errors.js';
import { CustomSchemeReceiver } from '../redirect-receiver/custom-scheme.js';
import { LoopbackReceiver } from '../redirect-receiver/loopback.js';
import { OobAutoReceiver } from '../redirect-receiver/oob-auto.js';
import { OobPasteReceiver } from '../redirect-receiver/oob-paste.js';
import type { PendingRedirect, RedirectReceiver } from '../redirect-receiver/receiver.js';
import { ANY_PORT_HINT, isAnyPortLoopback, type RedirectKind } from '../config/redirect-uri.js';
import { displayName, storedSession, summarize, type SessionSummary, type SessionTokens, type StoredSession } from '../session/session.js';
import { resolveSettings, type ProviderSettings, type ResolvedSettings } from '../config/settings.js';
import { keychainStore } from '../secret-store/keychain.js';
import { DEFAULT_PROFILE, TokenStore, checkProfileName } from '../session/token-store.js';
import { exchangeCode } from './token-exchange.js';
import { revokeQuietly } from './sign-out.js';

export const DEFAULT_SIGN_IN_TIMEOUT_MS = 5 * 60_000;

/** What the sign-in is doing, for a progress display. Carries no token or code. */
export type SignInEvent =
  /** `manualUrl`: for a person to open by hand, maybe later (a pushed reference expires; this does not, unless the provider requires pushing). */
  | { type: 'browser-opening'; url: string; manualUrl: string }
  | { type: 'browser-failed'; url: string; error: ConnectError }
  | { type: 'waiting'; kind: RedirectKind['kind']; redirectUri: string }
  /** A response was refused but the attempt goes on (a mistyped or cut-off code). */
  | { type: 'response-rejected'; error: ConnectError }
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
  /** How the response comes back. Default: chosen from the redirect URI (receiverFor). */
  receiver?: RedirectReceiver;
  /** Extra authorization parameters (login_hint, ui_locales, …). */
  extraParameters?: Record<string, string>;
  /** The app's name on the loopback result page ("return to …"). Default: identity.json's productName. */
  appName?: string;
  onEvent?: (event: SignInEvent) => void;
}

/** A sign-in in progress. */
export interface SignInAttempt {
  /** The signed-in session (claims, expiry; no tokens). Rejects with a ConnectError. */
  readonly result: Promise<SessionSummary>;
  readonly kind: RedirectKind['kind'];
  /**
   * oob: the code the user pasted (a bare code, `code=…`, or the page's whole line). Resolves once it
   * signed the user in; rejects with why not, and the attempt keeps waiting when another try can work.
   */
  submitCode(input: string): Promise<void>;
  /** Custom scheme: the URL the OS handed to the app. Resolves once it signed the user in. */
  deliverRedirect(url: string): Promise<void>;
  /** Open the authorization URL in the browser again (the user closed the tab). */
  reopenBrowser(): Promise<void>;
  /** Cancel the attempt: `result` rejects with `reason` (default: `cancelled`). */
  cancel(reason?: ConnectError): void;
}

export function receiverFor(settings: ResolvedSettings, appName?: string): RedirectReceiver {
  const redirect = settings.redirect;
  switch (redirect.kind) {
    case 'loopback':
      return new LoopbackReceiver(redirect, appName ? { appName } : {});
    case 'custom-scheme':
      return new CustomSchemeReceiver(settings.redirectUri);
    case 'oob':
      return new OobPasteReceiver();
    case 'oob-auto':
      return new OobAutoReceiver();
  }
}

/** Errors after which another response may still sign the user in (paste again, keep watching). */
const RESPONSE_ERRORS = new Set(['invalid_grant', 'state_mismatch', 'invalid_response', 'invalid_code']);


/**
 * The new session: its tokens, and the settings it was signed in with (for refresh, revoke, logout
 * and signing in again). The issuer is the provider's own (its discovery document's), not as typed:
 * a renewed ID token's `iss` is compared with it.
 */
export function withSettings(tokens: SessionTokens, settings: ResolvedSettings, given: ProviderSettings, config: oidc.Configuration): StoredSession {
  const { clientId, redirectUri, scope } = settings;
  return storedSession(tokens, given, { issuer: config.serverMetadata().issuer, clientId, redirectUri, scope });
}

/**
 * Store the new session. If the keychain fails now (it was checked before the browser opened, so it
 * broke meanwhile), the tokens just issued would be left valid at the provider and known to nobody:
 * they are revoked (best effort) before the error is reported.
 */
export async function saveOrRevoke(store: TokenStore, profile: string, session: StoredSession, config: oidc.Configuration): Promise<void> {
  try {
    await store.save(profile, session);
  } catch (error) {
    const revoked = await revokeIssued(config, session);
    const err = error instanceof ConnectError ? error : new ConnectError('keychain_unavailable', 'The keychain could not be written.');
    throw new ConnectError(
      err.code,
      `${err.message} The sign-in could not be kept${revoked ? ', and the tokens the provider issued were revoked' : ''}; nothing was stored.`,
      { cause: error },
    );
  }
}

async function revokeIssued(config: oidc.Configuration, session: StoredSession): Promise<boolean> {
  const revoked = await revokeQuietly(config, session);
  if (revoked) debug('sign-in: the tokens that could not be stored were revoked at the provider');
  return revoked;
}

/** Start a sign-in; `signIn` is `startSignIn(options).result`. */
export function startSignIn(options: SignInOptions): SignInAttempt {
  const controller = new AbortController();
  const settings = resolveSettings(options.settings);
  const profile = checkProfileName(options.profile ?? DEFAULT_PROFILE);
  const store = options.store ?? new TokenStore(keychainStore());
  const browser = options.browser ?? systemBrowser();
  const receiver = options.receiver ?? receiverFor(settings, options.appName);
  const timeoutMs = options.timeoutMs ?? DEFAULT_SIGN_IN_TIMEOUT_MS;
  const emit = options.onEvent ?? (() => {});
  if (options.signal) {
    const outer = options.signal;
    if (outer.aborted) controller.abort(outer.reason);
    else outer.addEventListener('abort', () => controller.abort(outer.reason), { once: true });
  }

  let pending: PendingRedirect | undefined;
  let finished = false;
  let setAside = 0;
  // The authorization URL, once built: "Open the browser again" may be asked for before that.
  // How to get the URL for the browser again, once the request is made: "Open the browser again" may
  // be asked for before that. A pushed request's reference works once, so it is pushed again.
  let urlReady!: (again: () => Promise<string>) => void;
  const authorizationUrl = new Promise<() => Promise<string>>((resolve) => (urlReady = resolve));

  const run = async (): Promise<SessionSummary> => {
    // What may have gone wrong: a pushed request (RFC 9126) already proved the client id and redirect
    // URI; without one, the browser may be showing the provider's error page about them. Before any
    // URL was ready, it was the provider (or the keychain) that did not answer in time.
    let phase: 'preparing' | 'pushed' | 'plain' = 'preparing';
    const anyPort = isAnyPortLoopback(settings.redirect);
    const attempt = attemptSignal(controller.signal, timeoutMs, () => {
      const seconds = Math.round(timeoutMs / 1000);
      if (phase === 'preparing') {
        return `Sign-in was not completed within ${seconds} seconds; nothing was stored. No browser was opened: the provider or the keychain did not answer in time.`;
      }
      const causes =
        phase === 'pushed'
          ? 'the browser window was closed, the sign-in was left unfinished, or the sign-in link was opened too late (it works once, for a short while)'
          : 'the browser shows an error page from the provider (it does not know this client id or redirect URI: check them' +
            `${anyPort ? ANY_PORT_HINT : ''}), the browser window was closed, or the sign-in was left unfinished`;
      return `Sign-in was not completed within ${seconds} seconds; nothing was stored. Likely causes: ${causes}.`;
    });
    try {
      const config = await Promise.race([discover(settings), whenAborted(attempt.signal)]);
      const server = config.serverMetadata();
      // A locked or missing keychain is found now, before the user signs in for nothing.
      await Promise.race([store.probe(profile), whenAborted(attempt.signal)]);
      const state = oidc.randomState();
      pending = await receiver.listen(attempt.signal, {
        state,
        issuer: server.issuer,
        notice: (error) => emit({ type: 'response-rejected', error }),
      });
      // DPoP: the key is made now, so that the pushed request and the code exchange carry its proof.
      const alg = dpopAlgorithm(settings.dpop, server);
      const dpop = alg ? await newDpopKey(config, alg) : undefined;
      const request = await Promise.race([
        createAuthorizationRequest(config, {
          ...(dpop ? { dpop: dpop.handle } : {}),
          redirectUri: pending.redirectUri,
          configuredRedirectUri: settings.redirectUri,
          scope: settings.scope,
          state,
          ...(options.extraParameters ? { extraParameters: options.extraParameters } : {}),
        }),
        whenAborted(attempt.signal),
      ]);
      if (attempt.signal.aborted) throw abortError(attempt.signal);
      phase = request.pushAgain ? 'pushed' : 'plain';
      const url = request.url.href;
      const push = request.pushAgain;
      urlReady(async () => (push ? (await push()).href : url));
      emit({ type: 'browser-opening', url, manualUrl: request.manualUrl.href });
      // A browser that fails to start is not the end: the user can open the URL by hand.
      await browser.open(url).catch((error: unknown) => {
        const err =
          error instanceof ConnectError ? error : new ConnectError('browser_open_failed', 'The browser could not be started.');
        emit({ type: 'browser-failed', url, error: err });
      });
      emit({ type: 'waiting', kind: settings.redirect.kind, redirectUri: pending.redirectUri });

      for (;;) {
        const candidate = await Promise.race([pending.next(), whenAborted(attempt.signal)]);
        try {
          checkAuthorizationResponse(candidate.params, {
            state: request.state,
            issuer: server.issuer,
            issRequired: server.authorization_response_iss_parameter_supported === true,
          });
          emit({ type: 'exchanging' });
          const session = withSettings(await exchangeCode({ config, request, scope: settings.scope, ...(dpop ? { dpop } : {}) }, candidate.params), settings, options.settings, config);
          await saveOrRevoke(store, profile, session, config);
          finished = true;
          await candidate.settle({ ok: true, displayName: displayName(session.claims) });
          return summarize(session);
        } catch (error) {
          const err =
            error instanceof ConnectError ? error : new ConnectError('invalid_response', 'Sign-in failed unexpectedly.', { cause: error });
          // A response without this attempt's state is not its response: whoever sent it (a stale tab,
          // another program on this machine) cannot end the attempt. Anything else with our state can.
          const notOurs = err.code === 'state_mismatch';
          if (notOurs) debug(setAsideLine(++setAside));
          const again = (notOurs || (pending.retryable && RESPONSE_ERRORS.has(err.code))) && !attempt.signal.aborted;
          if (!again) finished = true;
          await candidate.settle({ ok: false, code: err.code, message: err.message });
          if (!again) throw err;
          // One set aside is nobody's business but CONNECT_DEBUG's (anyone on this machine can send them).
          if (!notOurs) emit({ type: 'response-rejected', error: err });
        }
      }
    } finally {
      finished = true;
      await pending?.close();
      attempt.dispose();
    }
  };

  const result = run();
  result.catch(() => {});
  return {
    result,
    kind: settings.redirect.kind,
    submitCode: async (input) => {
      if (finished || !pending?.submitCode) throw noPendingAttempt('A pasted code');
      return pending.submitCode(input);
    },
    deliverRedirect: async (url) => {
      if (finished || !pending?.deliverRedirect) throw noPendingAttempt('A sign-in response URL');
      return pending.deliverRedirect(url);
    },
    reopenBrowser: async () => {
      const ended = result.then(
        () => undefined,
        () => undefined,
      );
      const again = await Promise.race([authorizationUrl, ended]);
      if (finished || again === undefined) throw noPendingAttempt('"Open the browser again"');
      await browser.open(await again());
    },
    cancel: (reason) => controller.abort(reason ?? new ConnectError('cancelled', 'Sign-in was cancelled; nothing was stored.')),
  };
}

/** Sign in and resolve with the session summary (no tokens). */
export async function signIn(options: SignInOptions): Promise<SessionSummary> {
  return startSignIn(options).result;
}
