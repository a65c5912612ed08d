// What to do next, per error code: shown under the error's sentence in the app.
import type { ErrorCode } from './errors.js';

const ADVICE: Partial<Record<ErrorCode, string>> = {
  access_denied: 'Sign in again and allow access when the provider asks.',
  timeout: 'Sign in again, and finish in the browser within the time allowed.',
  cancelled: 'Sign in again when you are ready.',
  state_mismatch: 'Close old sign-in tabs in the browser, then sign in again.',
  issuer_mismatch: 'Check the provider settings, then sign in again.',
  network_error: 'Check your network connection, then try again.',
  discovery_failed: 'Check the issuer URL in the provider settings.',
  port_in_use: 'Close the program using that port, or use a redirect URI without a fixed port.',
  keychain_unavailable: 'Unlock or start your system keychain, then try again.',
  session_expired: 'Sign in again.',
  token_expired: 'Sign in again.',
  scheme_unavailable: 'Switch to the loopback redirect, which every system can receive, or build the app with this scheme.',
  no_pending_attempt: 'Start the sign-in from this window; a code or browser response that arrives when no sign-in is waiting (for example after the app restarted) cannot be used.',
  redirect_replayed: 'Nothing to do: this sign-in response was already used.',
  window_titles_unavailable: 'Choose another way to return to the app (loopback or the custom scheme) in the provider settings.',
  invalid_client: 'Check the client id and secret in the provider settings.',
  device_flow_unsupported: 'Sign in with a browser on this computer, or use the oob redirect and paste the code.',
  expired_token: 'Sign in again for a new code, and enter it on the other device in time.',
  invalid_redirect_uri: 'Register this redirect URI at the provider, or choose one it knows in the provider settings.',
  invalid_grant: 'Sign in again.',
  browser_open_failed: 'Open the sign-in page with "Open the browser again", or copy it into your browser.',
  unsupported_redirect_uri: 'Choose a redirect URI this app can receive in the provider settings.',
  insecure_issuer: 'Use an https issuer URL.',
  insecure_url: 'Use https for the endpoints and resource origins in the provider settings.',
  sign_in_in_progress: 'Finish or cancel the sign-in in progress, then try again.',
  handoff_busy: 'Finish or cancel the other sign-in of this profile, then try again.',
  invalid_dpop_proof: 'The provider refused this app\'s DPoP proofs: sign in with DPoP off (login --dpop off, or "Never" for binding the tokens in the provider settings).',
  provider_error: 'Look the provider\'s error code up in its documentation, or ask its administrator.',
  invalid_settings: 'Correct the provider settings.',
  runtime_dir_unavailable: 'Free some space, or make the folder the message names writable, then try again.',
  settings_damaged: 'Repair the file and choose Try again, or choose Start over: the old file is kept as a backup.',
  settings_not_saved: 'Free some space, or make the folder writable, then save again. The settings you had are unchanged.',
};

export function adviceFor(code: string): string | undefined {
  return ADVICE[code as ErrorCode];
}
