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
export type { ProviderSettings, ProviderEndpoints } from './settings.js';
export { DEFAULT_SCOPE } from './settings.js';
export type { DpopMode } from './dpop-mode.js';
export { displayName, type SessionSummary } from './session.js';
export type { SignInEvent } from './sign-in.js';
export type { DeviceCode } from './device-sign-in.js';
export type { SignOutResult } from './sign-out.js';

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
} from './errors.js';
export { adviceFor } from './advice.js';
export { setDebugSink } from './debug.js';
export { onRefreshNotice, type RefreshNotice } from './refresh.js';
export { onKeychainWaiting } from './secret-store/keychain.js';

// Where tokens are kept, and how the browser is opened (for a store or opener of your own).
export { TokenStore, DEFAULT_PROFILE } from './token-store.js';
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
} from './redirect-defaults.js';
export { DEFAULT_LOOPBACK_REDIRECT_URI, PROVIDER_DEFAULT_LOCALHOST_URI, OOB, OOB_AUTO } from './redirect-uri.js';

// Client registration (RFC 7591/7592) and finding the issuer from an e-mail address (WebFinger).
export { validateDetails, clientMetadata, registrationRequest, DetailsError, type ClientDetails } from './registration/details.js';
export { registerClient, readRegistration, updateRegistration, deleteRegistration, type Registration } from './registration/dynamic.js';
export { webFingerIssuer } from './registration/webfinger.js';
