// The library API of connect-desktop's core: plain Node, no Electron. Start with createClient()
// (docs/library.md): one client per profile signs in, keeps the session fresh, calls APIs and signs
// out; the CLI and the app are built on the same client. Everything else in src/ is internal: a
// template user who needs a lower step copies it along with the rest of the source.

// The client.
export {
  createClient,
  type ClientOptions,
  type ConnectClient,
  type ClientEvent,
  type SignInCall,
  type DeviceSignInCall,
  type SignOutCall,
  type AttemptKind,
} from './client.js';
export type { ProviderSettings, ProviderEndpoints } from './config/settings.js';
export { DEFAULT_SCOPE } from './config/settings.js';
export type { DpopMode } from './config/dpop-mode.js';
export { displayName, type SessionSummary } from './session/session.js';
export type { SignInEvent } from './steps/sign-in.js';
export type { DeviceCode } from './steps/device-sign-in.js';
export type { SignOutResult } from './steps/sign-out.js';

// Errors, and what to tell the user.
export {
  ConnectError,
  ProviderError,
  isConnectError,
  CLIENT_ERROR_CODES,
  OAUTH_ERROR_CODES,
  type ErrorCode,
  type ClientErrorCode,
  type OAuthErrorCode,
} from './common/errors.js';
export { adviceFor } from './common/advice.js';
export { setDebugSink } from './common/debug.js';
export { onRefreshNotice, type RefreshNotice } from './steps/refresh-notice.js';
export { onKeychainWaiting } from './secret-store/keychain.js';

// Where tokens are kept, and how the browser is opened (for a store or opener of your own).
export { TokenStore, DEFAULT_PROFILE } from './session/token-store.js';
export { keychainStore, DEFAULT_SERVICE } from './secret-store/keychain.js';
export type { SecretStore } from './secret-store/store.js';
export { systemBrowser, type BrowserOpener } from './browser/opener.js';

// Redirect URIs: the defaults a provider registers for a desktop app, and the kinds this client receives.
export {
  defaultRedirectUris,
  desktopDefaultRedirectUri,
  checkRegisteredRedirectUri,
  customSchemeRedirectUri,
  TECHNOLOGIES,
  type Technology,
} from './config/redirect-defaults.js';
export { DEFAULT_LOOPBACK_REDIRECT_URI, PROVIDER_DEFAULT_LOCALHOST_URI, OOB, OOB_AUTO } from './config/redirect-uri.js';

// Client registration (RFC 7591/7592) and finding the issuer from an e-mail address (WebFinger).
export { validateDetails, clientMetadata, registrationRequest, DetailsError, type ClientDetails } from './registration/details.js';
export { registerClient, readRegistration, updateRegistration, deleteRegistration, type Registration } from './registration/dynamic.js';
export { webFingerIssuer } from './registration/webfinger.js';
