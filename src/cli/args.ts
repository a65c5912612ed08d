// connect-login's command line: commands, flags and the JSON config file. Every mistake here is a
// UsageError (exit code 2) that names the flag or key at fault.
import { parseArgs } from 'node:util';
import { readConfigFile, settingsFromConfig } from '../config/config-file.js';
import { TECHNOLOGIES, type Technology } from '../config/redirect-defaults.js';
import { checkPostLogoutRedirectUri, type ProviderSettings } from '../config/settings.js';
import { IDENTITY } from '../config/identity.js';
import { DPOP_MODES, type DpopMode } from '../config/dpop-mode.js';
import { SHELLS, commandHelp, completionScript, didYouMean } from './help.js';

export class UsageError extends Error {
  readonly code = 'usage';
}

export const COMMANDS = ['login', 'status', 'token', 'logout', 'userinfo', 'fetch', 'redirect-defaults', 'deliver', 'discover', 'register', 'registration'] as const;
export const REGISTRATION_ACTIONS = ['show', 'update', 'delete'] as const;
export type Command = (typeof COMMANDS)[number];

/** Which options each command takes (help and version aside). */
export const OPTIONS_OF: Record<Command, readonly string[]> = {
  login: ['issuer', 'client-id', 'client-secret-env', 'redirect-uri', 'post-logout-redirect-uri', 'dpop', 'scope', 'timeout', 'request-timeout', 'allow-origin', 'config', 'profile', 'json', 'no-browser', 'device'],
  status: ['profile', 'config', 'json', 'all'],
  token: ['profile', 'config'],
  logout: ['profile', 'config', 'json', 'everywhere', 'post-logout-redirect-uri', 'timeout'],
  'redirect-defaults': ['technology', 'client-id', 'json'],
  deliver: ['profile', 'config', 'json'],
  discover: ['json'],
  register: ['issuer', 'initial-access-token-env', 'software-statement', 'details', 'request-only', 'out', 'config', 'profile', 'json'],
  registration: ['details', 'profile', 'config', 'json'],
  userinfo: ['profile', 'config', 'json'],
  fetch: ['profile', 'config', 'request', 'header', 'data', 'include', 'allow-origin'],
};

export interface ParsedCommand {
  command: Command;
  profile: string;
  json: boolean;
  /** Only for login. */
  settings?: ProviderSettings;
  timeoutSeconds: number;
  /** Only for redirect-defaults. */
  technology?: Technology;
  clientId?: string;
  /** Only for deliver: the custom-scheme URL the OS launched us with. */
  url?: string;
  /** status --all */
  all?: boolean;
  /** login --no-browser: print the URL, start no browser. */
  noBrowser?: boolean;
  /** login --device: sign in on another device (RFC 8628). */
  device?: boolean;
  /** logout --everywhere */
  everywhere?: boolean;
  /** logout --post-logout-redirect-uri: instead of the one the profile signed in with. */
  postLogoutRedirectUri?: string;
  /** discover: what the user typed (an e-mail address, an acct: URI or an issuer URL). */
  input?: string;
  /** register, registration update: the details file. */
  details?: string;
  /** register */
  initialAccessTokenEnv?: string;
  softwareStatement?: string;
  requestOnly?: boolean;
  out?: string;
  issuer?: string;
  /** fetch --allow-origin: origins besides the profile's for this call. */
  allowOrigins?: string[];
  /** fetch */
  method?: string;
  headers?: Array<[string, string]>;
  data?: string;
  include?: boolean;
  /** registration show|update|delete */
  action?: (typeof REGISTRATION_ACTIONS)[number];
}

export type ParseResult =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'command-help'; command: string; text: string }
  | { kind: 'completion'; script: string }
  | { kind: 'run'; run: ParsedCommand };

export const USAGE = `Usage: ${IDENTITY.cliName} <command> [options]

Sign in to an OAuth 2.0 / OpenID Connect provider through the system browser and keep the tokens
in the OS keychain.

Commands:
  login     Sign in and store the session in the keychain
  status    Show whether the profile is signed in (never prints a token); --all: every profile,
            signed in or registered
  token     Print a valid access token, renewed when near expiry, and nothing else, for scripts
  logout    Forget the profile's tokens and revoke them at the provider; --everywhere also ends
            the provider's single sign-on session (in the browser, or with the access token)
  discover EMAIL|ISSUER
            Find the provider (WebFinger for an e-mail address) and print its endpoints
  register --issuer URL [--details FILE.json] [--initial-access-token-env VAR]
           [--software-statement FILE] [--profile NAME]
            Register this app with the provider (dynamic registration) and keep the client in the
            profile: then "${IDENTITY.cliName} login --profile NAME" needs no other flags
  register --request-only [--details FILE.json] [--out DIR]
            Write the registration request (Markdown and JSON) for a provider that registers by hand
  registration show|update|delete [--details FILE.json] [--profile NAME]
            Read, change (from a details file) or delete the profile's registration (RFC 7592)
  userinfo  Print the user's claims from the provider's userinfo endpoint
  fetch URL [-X METHOD] [-H 'Name: value']... [-d DATA] [-i] [--allow-origin ORIGIN]...
            Call a resource server with the access token (renewed when needed, once more after an
            invalid_token answer) and print the response like curl (-i: with its status and headers).
            The token goes only to the issuer's origin, the profile's resource origins (login
            --allow-origin, or resourceOrigins in --config) and --allow-origin; nothing else is called
  deliver URL
            Hand a custom-scheme redirect URL (as the OS launches the registered handler) to the
            login waiting for the profile
  redirect-defaults --technology T --client-id ID
            Print the redirect URIs the provider sets up by default for a technology:
            ${TECHNOLOGIES.join(', ')}
  help [COMMAND]
            Show a command's own help, with examples, environment and exit status (also COMMAND --help)
  completion bash|zsh|powershell
            Print a shell completion script

Options for login:
  --issuer URL               The provider's issuer (discovery at /.well-known/openid-configuration)
  --client-id ID             The client id the provider registered for this app
  --client-secret-env VAR    Read a confidential client's secret from environment variable VAR
  --redirect-uri URI         The registered redirect URI; it decides how the result comes back:
                               http://127.0.0.1[:PORT]/PATH, http://localhost:PORT/PATH   loopback (default
                                 http://127.0.0.1/connect/oauth2callback)
                               urn:ietf:wg:oauth:2.0:oob:auto   read from the browser's window title
                               urn:ietf:wg:oauth:2.0:oob        paste the code shown in the browser
                               SCHEME://connect/oauth2callback  the OS runs "${IDENTITY.cliName} deliver URL"
  --post-logout-redirect-uri URI
                             Where logout --everywhere comes back, as registered (default
                               http://127.0.0.1/connect/logout, any port; a provider that matches the
                               port too needs a fixed one, e.g. http://127.0.0.1:8766/connect/logout)
  --dpop on|off|auto         Bind the tokens to a key kept in the keychain (DPoP): on, off, or auto
                               (the default: when the provider offers it)
  --scope "S1 S2"            Scopes to request (default "openid profile email offline_access")
  --timeout SECONDS          How long to wait for the browser (default 300; logout --everywhere: 120)
  --request-timeout SECONDS  How long to wait for each answer from the provider (default 30, at most 300)
  --allow-origin ORIGIN      A resource server fetch may send the access token to (repeatable), kept
                               with the profile, e.g. https://api.example.com
  --config FILE              Read these settings from a JSON file; flags override it
  --no-browser               Start no browser: print the URL (stderr) for a browser elsewhere, and wait
  --device                   Sign in on another device (a phone): print a page and a code to enter there
  Without --issuer, login uses the client registered in the profile, else the settings the profile
  last signed in with: "login --profile NAME" signs that profile in again.

Options for every command:
  --profile NAME             Keychain profile (default: $CONNECT_PROFILE, else "default")
  --json                     all but token and fetch: print exactly one JSON object on stdout
  -h, --help                 Show this help
  --version                  Show the version

Exit status: 0 success, 1 failure (or, for status, not signed in), 2 bad usage.`;

function parseTimeout(value: string | number): number {
  const seconds = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 24 * 3600) {
    throw new UsageError(`--timeout must be a number of seconds between 1 and 86400, not "${value}"`);
  }
  return seconds;
}

function parseRequestTimeout(value: string): number {
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 1 || seconds > 300) {
    throw new UsageError(`--request-timeout must be a number of seconds between 1 and 300, not "${value}"`);
  }
  return seconds;
}

export function parseCommandLine(argv: string[], env: NodeJS.ProcessEnv): ParseResult {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        issuer: { type: 'string' },
        'client-id': { type: 'string' },
        'client-secret-env': { type: 'string' },
        'redirect-uri': { type: 'string' },
        'post-logout-redirect-uri': { type: 'string' },
        dpop: { type: 'string' },
        scope: { type: 'string' },
        timeout: { type: 'string' },
        'request-timeout': { type: 'string' },
        config: { type: 'string' },
        profile: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', default: false },
        technology: { type: 'string' },
        all: { type: 'boolean', default: false },
        everywhere: { type: 'boolean', default: false },
        'initial-access-token-env': { type: 'string' },
        'software-statement': { type: 'string' },
        details: { type: 'string' },
        'request-only': { type: 'boolean', default: false },
        out: { type: 'string' },
        request: { type: 'string', short: 'X' },
        header: { type: 'string', short: 'H', multiple: true },
        data: { type: 'string', short: 'd' },
        include: { type: 'boolean', short: 'i', default: false },
        'allow-origin': { type: 'string', multiple: true },
        'no-browser': { type: 'boolean', default: false },
        device: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    // An unknown option: suggest the closest one the command takes.
    const message = (error as Error).message;
    const unknown = /Unknown option '--([^']+)'/.exec(message)?.[1];
    const guess = argv.find((a) => COMMANDS.includes(a as Command)) as Command | undefined;
    const candidates = guess ? OPTIONS_OF[guess] : [...new Set(Object.values(OPTIONS_OF).flat())];
    throw new UsageError(unknown ? `unknown option "--${unknown}"${didYouMean(unknown, candidates, '--')}` : message);
  }
  const { values, positionals } = parsed;
  const known = COMMANDS.join(', ');
  const [command, ...extra] = positionals;
  if (command === 'help' || (values.help && command && (COMMANDS.includes(command as Command) || command === 'completion'))) {
    const about = command === 'help' ? extra[0] : command;
    if (!about) return { kind: 'help' };
    if (!COMMANDS.includes(about as Command) && about !== 'completion' && about !== 'help') {
      throw new UsageError(`unknown command "${about}"${didYouMean(about, [...COMMANDS, 'completion'])} (expected ${known})`);
    }
    return { kind: 'command-help', command: about, text: commandHelp(about, OPTIONS_OF[about as Command] ?? []) };
  }
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  if (command === 'completion') {
    const shell = extra[0] as (typeof SHELLS)[number];
    if (!SHELLS.includes(shell)) throw new UsageError(`completion needs one of: ${SHELLS.join(', ')}${extra[0] ? didYouMean(extra[0], SHELLS) : ''}`);
    return { kind: 'completion', script: completionScript(shell, [...COMMANDS, 'help', 'completion'], OPTIONS_OF) };
  }
  if (!command) throw new UsageError(`a command is required (${known})`);
  if (!COMMANDS.includes(command as Command)) throw new UsageError(`unknown command "${command}"${didYouMean(command, [...COMMANDS, 'help', 'completion'])} (expected ${known})`);
  const url = command === 'deliver' || command === 'fetch' ? extra.shift() : undefined;
  if (command === 'deliver' && !url) throw new UsageError('deliver needs the URL to hand over');
  if (command === 'fetch' && !url) throw new UsageError('fetch needs the URL of the resource');
  const input = command === 'discover' ? extra.shift() : undefined;
  if (command === 'discover' && !input) throw new UsageError('discover needs an e-mail address or an issuer URL');
  const action = command === 'registration' ? extra.shift() : undefined;
  if (command === 'registration' && !REGISTRATION_ACTIONS.includes(action as (typeof REGISTRATION_ACTIONS)[number])) {
    throw new UsageError(`registration needs one of: ${REGISTRATION_ACTIONS.join(', ')}`);
  }
  if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);

  const allowed = OPTIONS_OF[command as Command];
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined || value === false || name === 'help' || name === 'version' || allowed.includes(name)) continue;
    if (command === 'token' && name === 'json') {
      throw new UsageError('token prints the bare access token; --json is not an option of token');
    }
    const owners = COMMANDS.filter((c) => OPTIONS_OF[c].includes(name));
    throw new UsageError(`--${name} is an option of ${owners.join(' and ')}, not of ${command}`);
  }

  if (command === 'redirect-defaults') {
    const technology = values.technology;
    if (!technology || !TECHNOLOGIES.includes(technology as Technology)) {
      throw new UsageError(`redirect-defaults needs --technology, one of: ${TECHNOLOGIES.join(', ')}`);
    }
    if (!values['client-id']) throw new UsageError('redirect-defaults needs --client-id ID');
    return {
      kind: 'run',
      run: {
        command: 'redirect-defaults',
        profile: 'default',
        json: values.json,
        timeoutSeconds: 0,
        technology: technology as Technology,
        clientId: values['client-id'],
      },
    };
  }

  const config = values.config ? readConfigFile(values.config) : {};
  const profile = values.profile ?? config.profile ?? env.CONNECT_PROFILE ?? 'default';
  const timeoutSeconds = parseTimeout(values.timeout ?? config.timeout ?? (command === 'logout' ? 120 : 300));
  const run: ParsedCommand = { command: command as Command, profile, json: values.json, timeoutSeconds };
  if (url) run.url = url;
  if (input) run.input = input;
  if (action) run.action = action as (typeof REGISTRATION_ACTIONS)[number];
  if (values.details) run.details = values.details;
  if (command === 'fetch') {
    run.method = (values.request ?? (values.data !== undefined ? 'POST' : 'GET')).toUpperCase();
    if (!/^[A-Z]+$/.test(run.method)) throw new UsageError(`-X takes an HTTP method, not "${values.request}"`);
    run.headers = (values.header ?? []).map((h) => {
      const colon = h.indexOf(':');
      if (colon < 1) throw new UsageError(`-H takes "Name: value", not "${h}"`);
      return [h.slice(0, colon).trim(), h.slice(colon + 1).trim()] as [string, string];
    });
    if (values.data !== undefined) run.data = values.data;
    run.include = values.include;
    if (values['allow-origin']) run.allowOrigins = values['allow-origin'];
    try {
      new URL(url as string);
    } catch {
      throw new UsageError(`fetch needs an absolute URL, not "${url}"`);
    }
  }
  if (values['initial-access-token-env']) run.initialAccessTokenEnv = values['initial-access-token-env'];
  if (values['software-statement']) run.softwareStatement = values['software-statement'];
  if (values['request-only']) run.requestOnly = true;
  if (values.out) run.out = values.out;
  if (command === 'register') {
    const issuer = values.issuer ?? config.issuer;
    if (issuer) run.issuer = issuer;
    if (!values['request-only'] && !issuer) throw new UsageError('register needs --issuer URL (or --request-only to write the request documents)');
  }
  if (command === 'registration' && action === 'update' && !values.details) throw new UsageError('registration update needs --details FILE.json');
  if (values.all) run.all = true;
  if (values['no-browser']) run.noBrowser = true;
  if (values.device) run.device = true;
  if (values.device && (values['no-browser'] || values['redirect-uri'])) throw new UsageError('--device signs in on another device: it takes no --no-browser or --redirect-uri');
  if (values.everywhere) run.everywhere = true;
  if (command === 'logout' && values['post-logout-redirect-uri'] !== undefined) {
    if (!values.everywhere) throw new UsageError('--post-logout-redirect-uri is where logout --everywhere comes back: add --everywhere');
    try {
      run.postLogoutRedirectUri = checkPostLogoutRedirectUri(values['post-logout-redirect-uri']);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  if (values.all && values.profile) throw new UsageError('status takes --all or --profile, not both');

  if (command === 'login') {
    // Flags override the file; the result is the same mapping the app uses (settingsFromConfig).
    const merged = {
      ...config,
      ...(values.issuer !== undefined ? { issuer: values.issuer } : {}),
      ...(values['client-id'] !== undefined ? { clientId: values['client-id'] } : {}),
      ...(values['client-secret-env'] !== undefined ? { clientSecretEnv: values['client-secret-env'] } : {}),
      ...(values['redirect-uri'] !== undefined ? { redirectUri: values['redirect-uri'] } : {}),
      ...(values['post-logout-redirect-uri'] !== undefined ? { postLogoutRedirectUri: values['post-logout-redirect-uri'] } : {}),
      ...(values.dpop !== undefined ? { dpop: values.dpop as DpopMode } : {}),
      ...(values.scope !== undefined ? { scope: values.scope } : {}),
      ...(values['request-timeout'] !== undefined ? { requestTimeout: parseRequestTimeout(values['request-timeout']) } : {}),
      ...(values['allow-origin'] !== undefined ? { resourceOrigins: [...(config.resourceOrigins ?? []), ...values['allow-origin']] } : {}),
    };
    // Without an issuer, login uses the client registered in the profile (connect-login register).
    if (merged.dpop !== undefined && !DPOP_MODES.includes(merged.dpop)) throw new UsageError(`--dpop takes ${DPOP_MODES.join(', ')}, not "${merged.dpop}"`);
    if (merged.issuer && !merged.clientId) throw new UsageError('login needs --client-id ID (or "clientId" in --config)');
    try {
      run.settings = settingsFromConfig(merged, env);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  return { kind: 'run', run };
}
