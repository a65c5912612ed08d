// connect-login: the command-line face of the one client (client.ts). It holds no protocol logic: it
// parses, hands the command to a client for the profile, and prints what happens. Its commands, flags, exit codes and --json output are a contract for scripts.
// (The executable is connect-login.ts, which starts connecting to the keychain before loading this.)
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { onRefreshNotice } from '../steps/refresh-notice.js';
import type { ProviderSettings } from '../config/settings.js';
import { setDebugSink, debug } from '../common/debug.js';
import { ConnectError, ProviderError, isConnectError, type ErrorCode } from '../common/errors.js';
import { defaultRedirectUris, type Technology } from '../config/redirect-defaults.js';
import { DetailsError } from '../registration/details.js';
import { keychainStore, onKeychainWaiting } from '../secret-store/keychain.js';
import { printable } from '../common/printable.js';
import { displayName, nowSeconds, summarize, type SessionSummary } from '../session/session.js';
import type { SignInEvent } from '../steps/sign-in.js';
import type { SignOutResult } from '../steps/sign-out.js';
import { createClient, type ConnectClient } from '../client.js';
import { TokenStore, checkProfileName } from '../session/token-store.js';
import { USAGE, UsageError, parseCommandLine, type ParsedCommand } from './args.js';
import { closest } from './help.js';
import type { Io } from './io.js';
import { IDENTITY } from '../config/identity.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;


const stdio: Io = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  raw: (bytes) => process.stdout.write(bytes),
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function signedInJson(profile: string, s: SessionSummary) {
  return {
    status: 'signed_in',
    profile,
    issuer: s.issuer,
    client_id: s.clientId,
    sub: s.sub,
    expires_at: s.expiresAt,
    scope: s.scope,
    redirect_uri: s.redirectUri,
    sender_constrained: s.senderConstrained,
  };
}

function expiryText(expiresAt: number | null): string {
  if (expiresAt === null) return 'has no stated expiry';
  const left = expiresAt - nowSeconds();
  const when = new Date(expiresAt * 1000).toISOString();
  if (left <= 0) return `expired at ${when}`;
  const minutes = Math.floor(left / 60);
  const span = minutes >= 60 ? `${Math.floor(minutes / 60)}h ${minutes % 60}m` : minutes >= 1 ? `${minutes}m` : `${left}s`;
  return `expires in ${span} (${when})`;
}

function describeSession(profile: string, s: SessionSummary): string {
  // Everything here but the profile name came from the provider: printable only.
  const who = displayName(s.claims);
  return [
    `Profile "${profile}" is signed in${who && who !== s.sub ? ` as ${printable(who, 200)}` : ''}.`,
    `  issuer:       ${printable(s.issuer)}`,
    `  subject:      ${printable(s.sub)}`,
    `  client id:    ${printable(s.clientId)}`,
    `  scope:        ${printable(s.scope)}`,
    `  access token: ${expiryText(s.expiresAt)}`,
    `  refresh:      ${s.hasRefreshToken ? 'yes' : 'no refresh token'}`,
    `  tokens:       ${s.senderConstrained ? 'bound to a key in the keychain (DPoP): a copy without the key is refused where DPoP is checked' : 'bearer (whoever holds them can use them)'}`,
    '',
  ].join('\n');
}

/** oob: read pasted codes from the terminal (or piped stdin) until one signs the user in. */
function readPastedCodes(attempt: Pick<ConnectClient, 'submitCode' | 'cancelSignIn'>, io: Io): () => void {
  // At a terminal the code is typed after the prompt; piped input gets a prompt line of its own.
  const prompt = process.stdin.isTTY ? 'Paste the code shown in your browser: ' : 'Paste the code shown in your browser:\n';
  // node:readline is loaded here, for oob only: every other command starts without it.
  const { createInterface } = createRequire(import.meta.url)('node:readline') as typeof import('node:readline');
  const lines = createInterface({ input: process.stdin, terminal: false });
  let done = false;
  io.err(prompt);
  lines.on('line', (line) => {
    if (done || !line.trim()) return;
    attempt.submitCode(line).then(
      () => (done = true),
      (error: ConnectError) => {
        reportError(error, false, io);
        if (error.code !== 'no_pending_attempt') io.err(prompt);
      },
    );
  });
  lines.on('close', () => {
    // Piped input ran out without a code that worked: say so rather than wait for the timeout.
    setTimeout(() => {
      if (!done) void attempt.cancelSignIn(new ConnectError('cancelled', 'Standard input ended before a working code was pasted; nothing was stored.'));
    }, 0);
  });
  return () => {
    done = true;
    lines.close();
  };
}

async function login(run: ParsedCommand, store: TokenStore, io: Io): Promise<number> {
  let settings = run.settings as NonNullable<ParsedCommand['settings']>;
  if (!settings.issuer) {
    const { issuer: _issuer, clientId: _clientId, ...given } = settings;
    const registration = await store.loadRegistration(run.profile);
    // No issuer given: the client registered in the profile, else the settings the profile last
    // signed in with (sign in again with `login --profile NAME`), the flags given overriding them.
    // A damaged entry or an unusable keychain is said as such, not as a missing --issuer.
    const previous = registration ? null : await store.load(run.profile);
    if (registration) settings = (await import('./registration-commands.js')).settingsFromRegistration(registration, given, io);
    else if (previous) {
      settings = { ...previous.settings, ...given, ...(settings.clientId ? { clientId: settings.clientId } : {}) };
      if (!run.json) {
        io.err(`Signing in again to ${printable(previous.settings.issuer)} as client "${printable(settings.clientId)}", with the settings profile "${run.profile}" last used.\n`);
      }
    } else {
      throw new UsageError(
        `login needs --issuer URL (or "issuer" in --config), a client registered in profile "${run.profile}" (${IDENTITY.cliName} register), ` +
          `or a profile that was signed in before (${IDENTITY.cliName} login --profile NAME signs it in again)`,
      );
    }
  }
  if (run.device) return deviceLogin(run, settings, store, io);
  let interrupted = false;
  const cleanups: Array<() => unknown> = [];
  const client = createClient({
    settings,
    profile: run.profile,
    store,
    timeoutMs: run.timeoutSeconds * 1000,
    // --no-browser: nothing is started here; the URL is for a browser elsewhere (another screen, another session).
    ...(run.noBrowser || headless() ? { browser: { open: async () => {} } } : {}),
  });
  let kind: string | undefined;
  /** What the user sees on stderr as the sign-in goes (stdout has only the result). */
  const follow = (event: SignInEvent) => {
    debug(`sign-in: ${event.type}${'error' in event ? ` (${event.error.code})` : ''}`);
    if (event.type === 'browser-opening' && !run.noBrowser && headless()) {
      io.err(
        `No display was found, so no browser can start here. Open this URL in a browser elsewhere:\n  ${event.manualUrl}\n` +
          'or sign in on another device (login --device), or paste the code (--redirect-uri urn:ietf:wg:oauth:2.0:oob).\n',
      );
    } else if (event.type === 'browser-opening' && run.noBrowser) {
      io.err(`Open this URL in a browser to sign in (none was started: --no-browser):\n  ${event.manualUrl}\n`);
    } else if (event.type === 'browser-opening') {
      io.err(`Opening your browser to sign in. If it does not open, visit:\n  ${event.manualUrl}\n`);
    } else if (event.type === 'browser-failed') {
      io.err(`warning: ${printable(event.error.message)}\n`);
    } else if (event.type === 'response-rejected') {
      if (kind !== 'oob') io.err(`warning: ${printable(event.error.code, 100)}: ${printable(event.error.message)} Still waiting...\n`);
    } else if (event.type === 'waiting') {
      kind = event.kind;
      if (event.kind === 'oob') {
        cleanups.push(readPastedCodes(client, io));
        return;
      }
      if (event.kind === 'custom-scheme') {
        const server = import('../session/handoff.js').then(({ serveHandoff }) => serveHandoff(run.profile, (url) => client.deliverRedirect(url)));
        cleanups.push(() => server.then((s) => s.close(), () => undefined));
        server.catch((error: unknown) => client.cancelSignIn(error instanceof ConnectError ? error : undefined));
        io.err(`Waiting for the browser to open ${event.redirectUri} (the OS must run "${IDENTITY.cliName} deliver URL --profile ${run.profile}" for it)...\n`);
        return;
      }
      if (event.kind === 'oob-auto') {
        io.err('Waiting for the browser\'s window title to show the result (Ctrl+C to cancel)...\n');
        return;
      }
      io.err('Waiting for you to finish signing in (Ctrl+C to cancel)...\n');
    }
  };
  client.on((event) => event.type === 'sign-in' && follow(event.event));
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    void client.cancelSignIn();
  };
  process.on('SIGINT', onSigint);
  try {
    const summary = await client.signIn().catch((error: unknown) => {
      if (!isConnectError(error, 'timeout')) throw error;
      throw new ConnectError('timeout', `${error.message} To wait longer, pass --timeout SECONDS (now ${run.timeoutSeconds}).`);
    });
    if (run.json) io.out(`${JSON.stringify(signedInJson(run.profile, summary))}\n`);
    else io.out(describeSession(run.profile, summary));
    return EXIT_OK;
  } finally {
    process.off('SIGINT', onSigint);
    for (const cleanup of cleanups) await cleanup();
  }
}

/** Linux with no display and no $BROWSER: no browser can start (over SSH, in a container). */
function headless(): boolean {
  return process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY && !process.env.BROWSER?.trim();
}

/** login --device: sign in on another device (RFC 8628); the code goes to stderr, the result to stdout. */
async function deviceLogin(run: ParsedCommand, settings: ProviderSettings, store: TokenStore, io: Io): Promise<number> {
  const controller = new AbortController();
  // Ctrl+C stops waiting; a second one stops at once (as login does).
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const summary = await createClient({ settings, profile: run.profile, store }).signInOnAnotherDevice({
      signal: controller.signal,
      onCode: (code) => {
        const minutes = Math.max(1, Math.round(code.expiresIn / 60));
        io.err(
          `To sign in, open this page on any device (a phone will do):\n  ${printable(code.verificationUri)}\n` +
            `and enter the code:  ${printable(code.userCode)}\n` +
            (code.verificationUriComplete ? `(or open ${printable(code.verificationUriComplete)}, which has the code filled in)\n` : '') +
            `Waiting for you to finish there (the code expires in ${minutes} minute${minutes === 1 ? '' : 's'}; Ctrl+C to cancel)...\n`,
        );
      },
    });
    if (run.json) io.out(`${JSON.stringify(signedInJson(run.profile, summary))}\n`);
    else io.out(describeSession(run.profile, summary));
    return EXIT_OK;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

async function deliver(run: ParsedCommand, io: Io): Promise<number> {
  const { sendHandoff } = await import('../session/handoff.js');
  await sendHandoff(run.profile, run.url as string);
  if (run.json) io.out(`${JSON.stringify({ status: 'delivered', profile: run.profile })}\n`);
  else io.out(`Handed the sign-in response to the waiting login of profile "${run.profile}".\n`);
  return EXIT_OK;
}

async function status(run: ParsedCommand, store: TokenStore, io: Io): Promise<number> {
  if (run.all) {
    const sessions = [];
    for (const profile of await store.profiles()) {
      const session = await store.load(profile).catch(() => null);
      if (session) sessions.push({ profile, summary: summarize(session) });
    }
    // Profiles with a registered client (connect-login register) but no session: signed out, and listed.
    const signedIn = new Set(sessions.map((s) => s.profile));
    const registered = [];
    for (const profile of await store.registeredProfiles()) {
      if (signedIn.has(profile)) continue;
      const registration = await store.loadRegistration(profile).catch(() => null);
      if (registration) registered.push({ status: 'signed_out', profile, issuer: registration.issuer, client_id: registration.clientId });
    }
    // "profiles" keeps its meaning (signed-in sessions); registered clients without one come beside it.
    if (run.json) {
      io.out(`${JSON.stringify({ status: 'ok', profiles: sessions.map((s) => signedInJson(s.profile, s.summary)), registered })}\n`);
    } else if (!sessions.length && !registered.length) io.out('No profile is signed in.\n');
    else {
      const lines = [
        ...sessions.map((s) => describeSession(s.profile, s.summary)),
        ...registered.map((r) => `Profile "${r.profile}" is not signed in (client "${printable(r.client_id)}" registered at ${printable(r.issuer)}).\n`),
      ];
      io.out(lines.join('\n'));
    }
    return EXIT_OK;
  }
  const session = await store.load(run.profile);
  if (!session) {
    // A mistyped profile name: say which profiles there are, and which one was likely meant.
    if (run.json) io.out(`${JSON.stringify({ status: 'signed_out', profile: run.profile })}\n`);
    else {
      const known = [...new Set([...(await store.profiles()), ...(await store.registeredProfiles())])].sort();
      const others = known.filter((p) => p !== run.profile);
      let line = `Profile "${run.profile}" is not signed in.`;
      if (others.length) line += ` Known profiles: ${others.map((p) => `"${p}"`).join(', ')}.`;
      const meant = closest(run.profile, others);
      if (meant) line += ` Did you mean "${meant}"?`;
      io.out(`${line}\n`);
    }
    return EXIT_FAILURE;
  }
  const summary = summarize(session);
  if (run.json) io.out(`${JSON.stringify(signedInJson(run.profile, summary))}\n`);
  else io.out(describeSession(run.profile, summary));
  return EXIT_OK;
}

async function token(run: ParsedCommand, store: TokenStore, io: Io): Promise<number> {
  const client = createClient({ profile: run.profile, store });
  io.out(`${await client.getAccessToken()}\n`);
  // A bound token sent as Bearer works only with servers that do not check DPoP: say so, on stderr.
  if ((await client.status())?.senderConstrained) {
    io.err(`note: this access token is bound to a key in the keychain (DPoP); servers that check DPoP refuse it without a proof: call them with "${IDENTITY.cliName} fetch".\n`);
  }
  return EXIT_OK;
}

async function logout(run: ParsedCommand, store: TokenStore, io: Io): Promise<number> {
  const controller = new AbortController();
  const onSigint = () => controller.abort(new ConnectError('cancelled', 'Stopped waiting for the provider\'s logout page.'));
  process.on('SIGINT', onSigint);
  let result: SignOutResult;
  try {
    if (run.everywhere && !run.json) io.err('Opening your browser to sign out at the provider...\n');
    result = await createClient({ profile: run.profile, store }).signOut({
      everywhere: run.everywhere ?? false,
      ...(run.postLogoutRedirectUri ? { postLogoutRedirectUri: run.postLogoutRedirectUri } : {}),
      signal: controller.signal,
      timeoutMs: run.timeoutSeconds * 1000,
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (run.json) {
    io.out(
      `${JSON.stringify({
        status: 'signed_out',
        profile: run.profile,
        was_signed_in: result.wasSignedIn,
        revoked: result.revoked,
        everywhere: result.everywhere,
        warnings: result.warnings,
      })}\n`,
    );
    return EXIT_OK;
  }
  if (!result.wasSignedIn) {
    io.out(`Profile "${run.profile}" was not signed in.\n`);
    return EXIT_OK;
  }
  const lines = [`Signed out: profile "${run.profile}" was forgotten on this computer.`];
  if (result.revoked) lines.push('Its tokens were revoked at the provider.');
  if (result.everywhere === 'confirmed' || result.everywhere === 'token_logout') lines.push('You are signed out at the provider too (single sign-on).');
  io.out(`${lines.join('\n')}\n`);
  for (const warning of result.warnings) io.err(`warning: ${printable(warning)}\n`);
  return EXIT_OK;
}

async function userinfo(run: ParsedCommand, store: TokenStore, io: Io): Promise<number> {
  // What the userinfo endpoint answered, and nothing else (no ID-token claims such as nonce or aud).
  const claims = await createClient({ profile: run.profile, store }).userInfo();
  if (run.json) io.out(`${JSON.stringify({ status: 'ok', profile: run.profile, claims })}\n`);
  else io.out(Object.entries(claims).map(([k, v]) => `${printable(k)}: ${printable(typeof v === 'string' ? v : JSON.stringify(v))}`).join('\n') + '\n');
  return EXIT_OK;
}

async function fetchCommand(run: ParsedCommand, store: TokenStore, io: Io, raw: (bytes: Uint8Array) => void): Promise<number> {
  const init = { method: run.method as string, headers: run.headers ?? [], ...(run.data !== undefined ? { body: run.data } : {}) };
  const client = createClient({ profile: run.profile, store });
  const response = await client.fetch(run.url as string, init, { allowOrigins: run.allowOrigins ?? [] }).catch((error: unknown) => {
    if (error instanceof ConnectError) throw error;
    // Only the error's code: its message may quote a header value, the token's included.
    const code = ((error as Error).cause as { code?: string } | undefined)?.code ?? (error as Error).name;
    throw new ConnectError('network_error', `Could not reach ${new URL(run.url as string).origin} (${code}).`);
  });
  if (run.include) {
    const lines = [`HTTP/1.1 ${response.status} ${response.statusText}`];
    response.headers.forEach((value, name) => lines.push(`${name}: ${value}`));
    io.out(`${lines.join('\r\n')}\r\n\r\n`);
  }
  raw(new Uint8Array(await response.arrayBuffer()));
  return EXIT_OK;
}

function redirectDefaults(run: ParsedCommand, io: Io): number {
  const uris = defaultRedirectUris(run.technology as Technology, run.clientId as string);
  if (run.json) io.out(`${JSON.stringify({ technology: run.technology, client_id: run.clientId, redirect_uris: uris })}\n`);
  else io.out(`${uris.join('\n')}\n`);
  return EXIT_OK;
}

/** Codes that mean the command line or its settings are wrong: exit 2, like a usage error. */
const USAGE_CODES = new Set<ErrorCode>(['invalid_settings', 'unsupported_redirect_uri', 'insecure_issuer', 'insecure_url']);

function reportError(error: { code: string; message: string }, json: boolean, io: Io): void {
  // An unregistered provider code is `provider_error`; the provider's own code goes beside it.
  const providerCode = error instanceof ProviderError && error.code === 'provider_error' ? { provider_error: error.providerCode } : {};
  if (json) io.out(`${JSON.stringify({ status: 'error', error: error.code, error_description: error.message, ...providerCode })}\n`);
  else io.err(`error: ${error.code}: ${printable(error.message)}\n`);
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, io: Io = stdio): Promise<number> {
  const wantsJson = argv.includes('--json');
  // CONNECT_DEBUG=1: what ran, which provider URL answered what, which keychain entry was touched.
  if (env.CONNECT_DEBUG) setDebugSink((line) => io.err(`debug: ${line}\n`));
  let run: ParsedCommand;
  try {
    const parsed = parseCommandLine(argv, env);
    if (parsed.kind === 'help') {
      io.out(`${USAGE}\n`);
      return EXIT_OK;
    }
    if (parsed.kind === 'command-help') {
      io.out(`${parsed.text}\n`);
      return EXIT_OK;
    }
    if (parsed.kind === 'completion') {
      io.out(parsed.script);
      return EXIT_OK;
    }
    if (parsed.kind === 'version') {
      io.out(`${IDENTITY.cliName} ${version()}\n`);
      return EXIT_OK;
    }
    run = parsed.run;
    checkProfileName(run.profile);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    reportError({ code: 'usage', message }, wantsJson, io);
    if (!wantsJson) io.err(`Run ${IDENTITY.cliName} --help for usage.\n`);
    return EXIT_USAGE;
  }

  const store = new TokenStore(keychainStore());
  // macOS may ask whether this program (the terminal's node) may use its keychain items: a call that
  // waits for that answer says so, once, instead of sitting silent.
  const stopWaitingNotice = onKeychainWaiting((waiting) => {
    if (waiting) io.err('Waiting for the system keychain: if your system asks whether this program may use it, answer there.\n');
  });
  // A renewal whose tokens the keychain does not take yet says so (refresh.ts): the user must not
  // stop the program then.
  const stopRefreshNotice = onRefreshNotice(({ message }) => io.err(`${message}\n`));
  try {
    switch (run.command) {
      case 'redirect-defaults':
        return redirectDefaults(run, io);
      case 'userinfo':
        return await userinfo(run, store, io);
      case 'fetch':
        return await fetchCommand(run, store, io, io.raw ?? ((bytes) => io.out(Buffer.from(bytes).toString('utf8'))));
      case 'deliver':
        return await deliver(run, io);
      case 'discover':
        return await (await import('./registration-commands.js')).discoverCommand(run, io);
      case 'register':
        return await (await import('./registration-commands.js')).registerCommand(run, store, io, env);
      case 'registration':
        return await (await import('./registration-commands.js')).registrationCommand(run, store, io);
      case 'login':
        return await login(run, store, io);
      case 'status':
        return await status(run, store, io);
      case 'token':
        return await token(run, store, io);
      case 'logout':
        return await logout(run, store, io);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      reportError({ code: 'usage', message: error.message }, run.json, io);
      return EXIT_USAGE;
    }
    if (error instanceof DetailsError) {
      // One line per bad field, naming it.
      if (run.json) reportError(error, true, io);
      else for (const problem of error.problems) io.err(`error: ${error.code}: ${problem.field}: ${problem.message}\n`);
      return EXIT_USAGE;
    }
    if (error instanceof ConnectError) {
      reportError(error, run.json, io);
      return USAGE_CODES.has(error.code) ? EXIT_USAGE : EXIT_FAILURE;
    }
    reportError({ code: 'internal_error', message: 'An unexpected error occurred.' }, run.json, io);
    if (env.CONNECT_DEBUG) io.err(`${(error as Error)?.stack ?? String(error)}\n`);
    return EXIT_FAILURE;
  } finally {
    stopWaitingNotice();
    stopRefreshNotice();
  }
}
