// connect-login's own help for each command (`help COMMAND`, `COMMAND --help`), "did you mean"
// suggestions, and shell completion scripts, all made from the one table of commands and options in
// args.ts, so that they cannot drift from what the parser accepts.
import { IDENTITY } from '../config/identity.js';

const CLI = IDENTITY.cliName;

/** What each option means, once, for every command that takes it. */
export const OPTION_TEXT: Record<string, string> = {
  issuer: '--issuer URL               The provider\'s issuer (discovery at /.well-known/openid-configuration)',
  'client-id': '--client-id ID             The client id the provider registered for this app',
  'client-secret-env': '--client-secret-env VAR    Read a confidential client\'s secret from environment variable VAR',
  'redirect-uri': '--redirect-uri URI         The registered redirect URI; it decides how the result comes back',
  'post-logout-redirect-uri': '--post-logout-redirect-uri URI  Where logout --everywhere comes back, as registered (a fixed port if the provider needs one)',
  dpop: '--dpop on|off|auto         Bind the tokens to a key kept in the keychain (DPoP); auto: when the provider offers it',
  scope: '--scope "S1 S2"            Scopes to request (default "openid profile email offline_access")',
  timeout: '--timeout SECONDS          How long to wait for the browser (default 300; logout --everywhere: 120)',
  'request-timeout': '--request-timeout SECONDS  How long to wait for each answer from the provider (default 30)',
  'allow-origin': '--allow-origin ORIGIN      A resource server the access token may be sent to (repeatable)',
  config: '--config FILE              Read settings (and the profile) from a JSON file; flags override it',
  profile: '--profile NAME             Keychain profile (default: $CONNECT_PROFILE, else "default")',
  json: '--json                     Print exactly one JSON object on stdout',
  'no-browser': '--no-browser               Start no browser: print the URL (stderr) for a browser elsewhere',
  device: '--device                   Sign in on another device (a phone): print a page and a code to enter there',
  all: '--all                      Every profile: signed in, or with a registered client',
  everywhere: '--everywhere               Also end the provider\'s single sign-on session',
  technology: '--technology T             The technology whose default redirect URIs to print',
  'initial-access-token-env': '--initial-access-token-env VAR  The provider\'s initial access token, from variable VAR',
  'software-statement': '--software-statement FILE  A signed software statement to send with the registration',
  details: '--details FILE.json        The registration details (the provider\'s fields)',
  'request-only': '--request-only             Write the registration request documents instead of sending them',
  out: '--out DIR                  Where --request-only writes its documents',
  request: '-X, --request METHOD       The HTTP method (default GET, or POST with -d)',
  header: '-H, --header "Name: value"  A request header (repeatable)',
  data: '-d, --data DATA            The request body',
  include: '-i, --include              Print the status line and headers first',
};

interface CommandHelp {
  usage: string;
  about: string;
  examples: string[];
  /** What the exit status means beyond 0 = success, 2 = bad usage. */
  failure: string;
}

export const COMMAND_HELP: Record<string, CommandHelp> = {
  login: {
    usage: `${CLI} login --issuer URL --client-id ID [options]   |   ${CLI} login --profile NAME`,
    about:
      'Sign in through the system browser (authorization code, PKCE S256, state and nonce) and keep the session in ' +
      'the OS keychain. Without --issuer: the client registered in the profile, else the settings it last signed in with.',
    examples: [
      `${CLI} login --issuer https://login.example.com --client-id my-app`,
      `${CLI} login --config work.json --profile work`,
      `${CLI} login --profile work          # sign in again with the settings it last used`,
      `${CLI} login --issuer https://login.example.com --client-id my-app --no-browser`,
      `${CLI} login --issuer https://login.example.com --client-id my-app --device   # over SSH: sign in on your phone`,
    ],
    failure: 'the sign-in failed or timed out (nothing was stored)',
  },
  status: {
    usage: `${CLI} status [--profile NAME | --all] [--json]`,
    about: 'Show whether the profile is signed in, as whom, until when. Never prints a token.',
    examples: [`${CLI} status`, `${CLI} status --all --json`],
    failure: 'the profile is not signed in',
  },
  token: {
    usage: `${CLI} token [--profile NAME]`,
    about:
      'Print a valid access token and nothing else, renewed when near expiry. For scripts. A token bound to a key ' +
      '(DPoP: by default wherever the provider offers it; status says so) is refused without a proof from that key: ' +
      `call such APIs with "${CLI} fetch", or sign in with --dpop off for Bearer tokens.`,
    examples: [`${CLI} fetch https://api.example.com/me`, `curl -H "Authorization: Bearer $(${CLI} token)" https://api.example.com/me   # signed in with --dpop off`],
    failure: 'not signed in, or the renewal failed (the sentence says whether a new sign-in is needed)',
  },
  logout: {
    usage: `${CLI} logout [--profile NAME] [--everywhere] [--json]`,
    about: 'Forget the profile\'s tokens on this computer, then revoke them at the provider; --everywhere also ends the provider\'s single sign-on session.',
    examples: [`${CLI} logout`, `${CLI} logout --everywhere --profile work`],
    failure: 'the keychain could not be used (signing out at the provider only warns)',
  },
  userinfo: {
    usage: `${CLI} userinfo [--profile NAME] [--json]`,
    about: 'Print what the provider\'s userinfo endpoint says about the signed-in user.',
    examples: [`${CLI} userinfo --json`],
    failure: 'not signed in, or the provider refused',
  },
  fetch: {
    usage: `${CLI} fetch URL [-X METHOD] [-H 'Name: value']... [-d DATA] [-i] [--allow-origin ORIGIN]...`,
    about:
      'Call a resource server with the access token (renewed when needed, once more after an invalid_token answer) ' +
      'and print the response like curl. The token goes only to the issuer\'s origin and the origins allowed.',
    examples: [`${CLI} fetch https://login.example.com/oauth/userinfo`, `${CLI} fetch -X POST -d '{"a":1}' -H 'Content-Type: application/json' --allow-origin https://api.example.com https://api.example.com/items`],
    failure: 'no response came back (any HTTP status is a response: exit 0)',
  },
  discover: {
    usage: `${CLI} discover EMAIL|ISSUER [--json]`,
    about: 'Find the provider (WebFinger for an e-mail address) and print its endpoints.',
    examples: [`${CLI} discover alice@example.com`, `${CLI} discover https://login.example.com`],
    failure: 'no provider found, or its document is not usable',
  },
  register: {
    usage: `${CLI} register --issuer URL [--details FILE.json] [--initial-access-token-env VAR] [--profile NAME]   |   ${CLI} register --request-only [--details FILE.json] [--out DIR]`,
    about: 'Register this app with the provider (dynamic registration) and keep the client in the profile, or write the request for a provider that registers by hand.',
    examples: [`${CLI} register --issuer https://login.example.com --profile work && ${CLI} login --profile work`, `${CLI} register --request-only --out ./request`],
    failure: 'the provider refused the registration',
  },
  registration: {
    usage: `${CLI} registration show|update|delete [--details FILE.json] [--profile NAME] [--json]`,
    about: 'Read, change (from a details file) or delete the profile\'s registered client (RFC 7592).',
    examples: [`${CLI} registration show --profile work`],
    failure: 'the provider refused, or the profile has no registered client',
  },
  deliver: {
    usage: `${CLI} deliver URL [--profile NAME]`,
    about: 'Hand a custom-scheme redirect URL (as the OS launches the registered handler) to the login waiting for the profile.',
    examples: [`${CLI} deliver 'com.example.app://connect/oauth2callback?code=…&state=…'`],
    failure: 'no login of that profile is waiting',
  },
  'redirect-defaults': {
    usage: `${CLI} redirect-defaults --technology T --client-id ID [--json]`,
    about: 'Print the redirect URIs the provider sets up by default for a technology.',
    examples: [`${CLI} redirect-defaults --technology windows --client-id my-app`],
    failure: 'never',
  },
  completion: {
    usage: `${CLI} completion bash|zsh|powershell`,
    about: 'Print a shell completion script for commands and options.',
    examples: [`source <(${CLI} completion bash)`, `${CLI} completion zsh > "\${fpath[1]}/_${CLI}"`, `${CLI} completion powershell | Out-String | Invoke-Expression`],
    failure: 'never',
  },
  help: {
    usage: `${CLI} help [COMMAND]`,
    about: 'Show the help of a command, or of all.',
    examples: [`${CLI} help login`],
    failure: 'never',
  },
};

const ENVIRONMENT = [
  '  BROWSER          The browser to start (a command line); otherwise the OS default',
  '  CONNECT_PROFILE  The profile when --profile is not given',
  '  CONNECT_DEBUG    1: print diagnostics on stderr (requests, keychain entries, steps; never a secret)',
];

/** The help of one command. */
export function commandHelp(command: string, options: readonly string[]): string {
  const help = COMMAND_HELP[command] as CommandHelp;
  const lines = [`Usage: ${help.usage}`, '', ...wrap(help.about, 100), ''];
  if (options.length) lines.push('Options:', ...options.map((o) => `  ${OPTION_TEXT[o] ?? `--${o}`}`), '');
  lines.push('Examples:', ...help.examples.map((e) => `  ${e}`), '', 'Environment:', ...ENVIRONMENT, '');
  lines.push(`Exit status: 0 success; 1 ${help.failure}; 2 bad usage.`);
  return lines.join('\n');
}

/** Words wrapped into lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  return line ? [...lines, line] : lines;
}

/** Edits between two words (insert, delete, replace, swap two neighbours), for "did you mean". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number) => (d[i] as number[])[j] as number;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

/** The closest candidate, if one is close enough to be what was meant. */
export function closest(input: string, candidates: readonly string[]): string | undefined {
  if (!input || input.length > 64) return undefined; // nothing to go on, or not a typo
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = candidate.startsWith(input) && input.length >= 3 ? 0.5 : distance(input.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return bestDistance <= Math.max(1, Math.min(3, Math.floor(input.length / 3))) ? best : undefined;
}

/** " (did you mean "X"?)", or nothing. */
export function didYouMean(input: string, candidates: readonly string[], prefix = ''): string {
  const match = closest(input, candidates);
  return match ? ` (did you mean "${prefix}${match}"?)` : '';
}

export const SHELLS = ['bash', 'zsh', 'powershell'] as const;

/** A completion script: commands first, then the options of the command typed. */
export function completionScript(shell: (typeof SHELLS)[number], commands: readonly string[], optionsOf: Record<string, readonly string[]>): string {
  const name = CLI.replace(/[^A-Za-z0-9_]/g, '_');
  const flags = (command: string) => (optionsOf[command] ?? []).map((o) => `--${o}`).join(' ');
  if (shell === 'bash') {
    const cases = commands.map((c) => `    ${c}) opts="${flags(c)} --help" ;;`).join('\n');
    return `# ${CLI} completion for bash: source <(${CLI} completion bash)
_${name}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" opts=""
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${commands.join(' ')} --help --version" -- "$cur") )
    return
  fi
  case "\${COMP_WORDS[1]}" in
${cases}
  esac
  COMPREPLY=( $(compgen -W "$opts" -- "$cur") )
}
complete -o default -F _${name} ${CLI}
`;
  }
  if (shell === 'zsh') {
    const cases = commands.map((c) => `    ${c}) compadd -- ${flags(c)} --help ;;`).join('\n');
    return `#compdef ${CLI}
# ${CLI} completion for zsh: ${CLI} completion zsh > "\${fpath[1]}/_${CLI}"
_${name}() {
  if (( CURRENT == 2 )); then
    compadd -- ${commands.join(' ')} --help --version
    return
  fi
  case $words[2] in
${cases}
  esac
}
# Autoloaded from $fpath the file is the function's body: complete now; sourced, register it.
if [[ "\${funcstack[1]}" == "_${CLI}" ]]; then _${name} "$@"; else compdef _${name} ${CLI}; fi
`;
  }
  const table = commands.map((c) => `    '${c}' = @(${(optionsOf[c] ?? []).map((o) => `'--${o}'`).concat("'--help'").join(', ')})`).join('\n');
  return `# ${CLI} completion for PowerShell: ${CLI} completion powershell | Out-String | Invoke-Expression
Register-ArgumentCompleter -Native -CommandName '${CLI}' -ScriptBlock {
  param($wordToComplete, $commandAst, $cursorPosition)
  $options = @{
${table}
  }
  $words = @($commandAst.CommandElements | ForEach-Object { $_.ToString() })
  if ($words.Count -le 2 -and -not ($words.Count -eq 2 -and $wordToComplete -eq '')) {
    $candidates = @(${commands.map((c) => `'${c}'`).join(', ')}, '--help', '--version')
  } else {
    $candidates = $options[$words[1]]
  }
  $candidates | Where-Object { $_ -like "$wordToComplete*" } | ForEach-Object {
    [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
  }
}
`;
}
