// The library API of connect-desktop's core: plain Node, no Electron. The app (main/) and the CLI
// (src/cli/) are faces over exactly these functions. Start with createClient() (docs/library.md).
export { createClient, type ClientOptions, type ConnectClient, type ClientEvent, type SignInCall } from './client.js';
export { authorizedFetch } from './authorized-fetch.js';
export { reloadUserInfo } from './userinfo.js';
export { adviceFor } from './advice.js';
export { setDebugSink } from './debug.js';
export { onRefreshNotice, type RefreshNotice } from './refresh.js';
export { onKeychainWaiting } from './secret-store/keychain.js';
export {
  signIn,
  startSignIn,
  receiverFor,
  DEFAULT_SIGN_IN_TIMEOUT_MS,
  type SignInOptions,
  type SignInEvent,
  type SignInAttempt,
} from './sign-in.js';
export { deviceSignIn, type DeviceSignInOptions, type DeviceCode } from './device-sign-in.js';
export {
  defaultRedirectUris,
  desktopDefaultRedirectUri,
  checkRegisteredRedirectUri,
  customSchemeRedirectUri,
  TECHNOLOGIES,
  type Technology,
} from './redirect-defaults.js';
export { createDesktopClient, type DesktopClient, type DesktopClientOptions } from './desktop-client.js';
export type { ConnectApi, AppState, Result, ErrorView } from './app-api.js';
export { openWindowTitleSource } from './window-titles/open.js';
export type { WindowTitleSource } from './window-titles/source.js';
export { CustomSchemeReceiver } from './redirect-receiver/custom-scheme.js';
export { OobAutoReceiver } from './redirect-receiver/oob-auto.js';
export { OobPasteReceiver, parsePastedCode } from './redirect-receiver/oob-paste.js';
export { getAccessToken, needsRefresh, refreshMargin } from './access-token.js';
export { resolveSettings, DEFAULT_SCOPE, type ProviderSettings, type ProviderEndpoints, type ResolvedSettings } from './settings.js';
export {
  classifyRedirectUri,
  isLoopbackHost,
  DEFAULT_LOOPBACK_REDIRECT_URI,
  PROVIDER_DEFAULT_LOCALHOST_URI,
  OOB,
  OOB_AUTO,
  type RedirectKind,
} from './redirect-uri.js';
export { ConnectError, ProviderError, isConnectError, type ErrorCode, type ClientErrorCode } from './errors.js';
export { TokenStore, DEFAULT_PROFILE } from './token-store.js';
export { keychainStore, DEFAULT_SERVICE } from './secret-store/keychain.js';
export type { SecretStore } from './secret-store/store.js';
export { systemBrowser, type BrowserOpener } from './browser/opener.js';
export { LoopbackReceiver } from './redirect-receiver/loopback.js';
export type { RedirectReceiver, PendingRedirect, SignInOutcome, Candidate, AttemptContext } from './redirect-receiver/receiver.js';
export { summarize, displayName, type SessionSummary } from './session.js';
export { signOut, type SignOutOptions, type SignOutResult } from './sign-out.js';
export { freshSession, refreshDueAt } from './access-token.js';
export {
  validateDetails,
  clientMetadata,
  registrationRequest,
  DetailsError,
  type ClientDetails,
  type ResolvedDetails,
} from './registration/details.js';
export {
  registerClient,
  readRegistration,
  updateRegistration,
  deleteRegistration,
  secretExpiryWarning,
  type Registration,
} from './registration/dynamic.js';
export { webFingerIssuer, webFingerTarget } from './registration/webfinger.js';
