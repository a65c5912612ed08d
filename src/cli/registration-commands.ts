// connect-login discover, register and registration: from an e-mail address or an issuer to a
// registered client in a profile. Secrets (client secret, registration access token) are never printed.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { BoundedFileError, readBoundedFileSync } from '../common/bounded-file.js';
import { discover } from '../provider/discovery.js';
import { ConnectError } from '../common/errors.js';
import { DEFAULT_LOOPBACK_REDIRECT_URI, classifyRedirectUri } from '../config/redirect-uri.js';
import { technologyForPlatform } from '../config/redirect-defaults.js';
import { clientMetadata, parseDetailsJson, registrationRequest, validateDetails, type ValidateOptions } from '../registration/details.js';
import {
  deleteRegistration,
  readRegistration,
  registerClient,
  secretExpiryWarning,
  updateRegistration,
  type Registration,
} from '../registration/dynamic.js';
import { webFingerIssuer } from '../registration/webfinger.js';
import { resolveSettings, type ProviderSettings } from '../config/settings.js';
import type { TokenStore } from '../session/token-store.js';
import type { ParsedCommand } from './args.js';
import type { Io } from './io.js';
import { IDENTITY } from '../config/identity.js';
import { printable } from '../common/printable.js';


const EXIT_OK = 0;

function readDetails(file: string | undefined, options: ValidateOptions, io: Io) {
  // Without a file, the CLI registers itself: a native public client on loopback, its own default.
  const input = file ? parseDetailsJson(readText(file, 'details file'), file) : { displayName: IDENTITY.productName, redirectUris: [DEFAULT_LOOPBACK_REDIRECT_URI] };
  const { details, warnings } = validateDetails(input, options);
  for (const warning of warnings) io.err(`warning: ${warning}\n`);
  return details;
}

/** A file the user named: a regular file of at most 1 MB (not /dev/zero, not a FIFO), read with that limit. */
function readText(file: string, what: 'details file' | 'software statement file'): string {
  try {
    return readBoundedFileSync(file);
  } catch (error) {
    // invalid_settings, as for any file the CLI cannot read: a usage mistake (exit 2).
    throw new ConnectError('invalid_settings', `The ${what} "${file}" ${error instanceof BoundedFileError ? error.reason : `cannot be read (${String(error)})`}.`);
  }
}

/** `discover EMAIL|ISSUER`: an e-mail address or acct: URI goes through WebFinger; a URL is the issuer. */
export async function discoverCommand(run: ParsedCommand, io: Io): Promise<number> {
  const input = run.input as string;
  const viaWebFinger = /^acct:/i.test(input) || !/^[a-z][a-z0-9+.-]*:\/\//i.test(input);
  const issuer = viaWebFinger ? await webFingerIssuer(input) : input;
  const server = (await discover(resolveSettings({ issuer, clientId: 'unregistered' }))).serverMetadata();
  const endpoints = {
    authorization_endpoint: server.authorization_endpoint,
    token_endpoint: server.token_endpoint,
    userinfo_endpoint: server.userinfo_endpoint,
    revocation_endpoint: server.revocation_endpoint,
    end_session_endpoint: server.end_session_endpoint,
    jwks_uri: server.jwks_uri,
    registration_endpoint: server.registration_endpoint,
  };
  if (run.json) {
    io.out(`${JSON.stringify({ status: 'ok', issuer: server.issuer, webfinger: viaWebFinger, ...endpoints })}\n`);
  } else {
    // The provider's own strings: printable only.
    const lines = [`issuer: ${printable(server.issuer)}${viaWebFinger ? ` (found by WebFinger for ${printable(input)})` : ''}`];
    for (const [key, value] of Object.entries(endpoints)) lines.push(`${key}: ${value ? printable(value) : '(none)'}`);
    if (!server.registration_endpoint) lines.push(`This provider registers clients by hand: ${IDENTITY.cliName} register --request-only`);
    io.out(`${lines.join('\n')}\n`);
  }
  return EXIT_OK;
}

function registeredJson(profile: string, r: Registration) {
  return {
    status: 'registered',
    profile,
    issuer: r.issuer,
    client_id: r.clientId,
    client_secret_expires_at: r.clientSecretExpiresAt ?? null,
    redirect_uris: r.metadata.redirect_uris ?? [],
  };
}

function describeRegistration(profile: string, r: Registration): string {
  return [
    `Profile "${profile}" has a registered client.`,
    `  issuer:        ${printable(r.issuer)}`,
    `  client id:     ${printable(r.clientId)}`,
    `  client type:   ${r.clientSecret ? 'confidential (secret kept in the keychain)' : 'public'}`,
    `  redirect URIs: ${printable(((r.metadata.redirect_uris as string[] | undefined) ?? []).join(', '))}`,
    `  secret expiry: ${r.clientSecretExpiresAt ? new Date(r.clientSecretExpiresAt * 1000).toISOString() : 'never'}`,
    '',
  ].join('\n');
}

export async function registerCommand(run: ParsedCommand, store: TokenStore, io: Io, env: NodeJS.ProcessEnv): Promise<number> {
  const defaultTechnology = technologyForPlatform(process.platform);
  if (run.requestOnly) {
    const details = readDetails(run.details, { purpose: 'manual', defaultTechnology }, io);
    const { markdown, json } = registrationRequest(details);
    const dir = resolve(run.out ?? '.');
    mkdirSync(dir, { recursive: true });
    const files = [join(dir, 'registration-request.md'), join(dir, 'registration-request.json')];
    writeFileSync(files[0] as string, markdown);
    writeFileSync(files[1] as string, json);
    if (run.json) io.out(`${JSON.stringify({ status: 'written', files })}\n`);
    else io.out(`Wrote the registration request:\n  ${files.join('\n  ')}\nSend it to the provider; it answers with a client id.\n`);
    return EXIT_OK;
  }
  const existing = await store.loadRegistration(run.profile);
  if (existing) {
    throw new ConnectError(
      'already_registered',
      `Profile "${run.profile}" already has a registered client (${existing.clientId}); delete it first (${IDENTITY.cliName} registration delete --profile ${run.profile}) or use another profile.`,
    );
  }
  const details = readDetails(run.details, { purpose: 'dynamic', defaultTechnology }, io);
  let initialAccessToken: string | undefined;
  if (run.initialAccessTokenEnv) {
    initialAccessToken = env[run.initialAccessTokenEnv];
    if (!initialAccessToken) throw new ConnectError('invalid_settings', `--initial-access-token-env names ${run.initialAccessTokenEnv}, but that environment variable is empty or not set.`);
  }
  const softwareStatement = run.softwareStatement ? readText(run.softwareStatement, 'software statement file').trim() : undefined;
  const registration = await registerClient({
    issuer: run.issuer as string,
    metadata: clientMetadata(details),
    ...(initialAccessToken ? { initialAccessToken } : {}),
    ...(softwareStatement ? { softwareStatement } : {}),
  });
  await store.saveRegistration(run.profile, registration);
  if (run.json) io.out(`${JSON.stringify(registeredJson(run.profile, registration))}\n`);
  else io.out(`${describeRegistration(run.profile, registration)}Sign in with: ${IDENTITY.cliName} login --profile ${run.profile}\n`);
  return EXIT_OK;
}

export async function registrationCommand(run: ParsedCommand, store: TokenStore, io: Io): Promise<number> {
  const registration = await store.loadRegistration(run.profile);
  if (!registration) {
    throw new ConnectError('not_signed_in', `Profile "${run.profile}" has no registered client; register one with ${IDENTITY.cliName} register.`);
  }
  if (run.action === 'delete') {
    await deleteRegistration(registration);
    await store.removeRegistration(run.profile);
    // The profile's tokens belong to the deleted client: they are of no more use.
    await store.remove(run.profile);
    if (run.json) io.out(`${JSON.stringify({ status: 'deleted', profile: run.profile, client_id: registration.clientId })}\n`);
    else io.out(`Deleted client ${registration.clientId} at ${registration.issuer}; profile "${run.profile}" no longer has a client.\n`);
    return EXIT_OK;
  }
  let current: Registration;
  if (run.action === 'update') {
    const details = readDetails(run.details, { purpose: 'dynamic', defaultTechnology: technologyForPlatform(process.platform), clientId: registration.clientId }, io);
    current = await updateRegistration(registration, clientMetadata(details));
  } else {
    current = await readRegistration(registration);
  }
  await store.saveRegistration(run.profile, current);
  const warning = secretExpiryWarning(current);
  if (warning) io.err(`warning: ${warning}\n`);
  if (run.json) io.out(`${JSON.stringify({ ...registeredJson(run.profile, current), status: run.action === 'update' ? 'updated' : 'registered' })}\n`);
  else io.out(describeRegistration(run.profile, current));
  return EXIT_OK;
}

/** The settings login uses for a profile with a registered client (flags given override them). */
export function settingsFromRegistration(registration: Registration, given: Partial<ProviderSettings>, io: Io): ProviderSettings {
  const warning = secretExpiryWarning(registration);
  if (warning) io.err(`warning: ${warning}\n`);
  const uris = ((registration.metadata.redirect_uris as string[] | undefined) ?? []).filter((uri) => {
    try {
      classifyRedirectUri(uri);
      return true;
    } catch {
      return false;
    }
  });
  const redirectUri = given.redirectUri ?? uris.find((uri) => uri.startsWith('http://')) ?? uris[0];
  return {
    issuer: registration.issuer,
    clientId: registration.clientId,
    ...(registration.clientSecret ? { clientSecret: registration.clientSecret } : {}),
    ...(typeof registration.metadata.scope === 'string' ? { scope: registration.metadata.scope } : {}),
    ...given,
    ...(redirectUri ? { redirectUri } : {}),
  };
}
