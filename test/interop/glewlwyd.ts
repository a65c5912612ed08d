// A second, independent OpenID provider for interop tests: Debian's Glewlwyd 2.7, set up from scratch
// in a temporary folder on every start (nothing installed, nothing outside the folder touched), then
// configured through its admin API as a user would in its admin app.
//
// Debian quirks this works around:
// - webapp/config.json is a symlink to /etc/glewlwyd/config-2.7.json, which is a *directory*: the web
//   app is copied without it and given a real config.json (from the package's template, English only).
//   Its CSS, scripts and fonts are relative symlinks into other packages: the copy dereferences them.
// - `use_secure_connection=false` in the config file still demands certificate files: it is left out.
// - the schema (dbconfig-common's sqlite3 script) ships the admin (admin/password), the database user
//   and client modules and the `openid` scope; password sign-in is built in (scheme_type "password").
// - the OIDC plugin reads a client's `post_logout_redirect_uris` (a list), the shipped client module
//   only knows the singular `post_logout_redirect_uri`: the module's data format is extended, then reset.
// - a changed plugin setting takes effect after PUT /api/mod/plugin/<name>/reset; the admin session
//   (the g_admin scope's password age) lasts 600 s, so admin calls sign in again on a 401.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { generateKeyPair } from 'node:crypto';
import { closeSync, cpSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../support/free-port.js';

const BINARY = '/usr/bin/glewlwyd';
const MODULES = '/usr/lib/glewlwyd';
const WEBAPP = '/usr/share/glewlwyd/webapp';
const WEBAPP_CONFIG = '/usr/share/glewlwyd/templates/config.json';
const SCHEMA = '/usr/share/dbconfig-common/data/glewlwyd/install/sqlite3';
const ADMIN = { username: 'admin', password: 'password' };
const PLUGIN = 'oidc';
const SCOPES = ['openid', 'profile', 'email', 'offline_access'];

export interface GlewlwydOptions {
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  /** One-time-use refresh tokens (a new one on each refresh). Default true. */
  refreshRotation?: boolean;
}

export interface Glewlwyd {
  /** e.g. http://127.0.0.1:PORT/api/oidc */
  issuer: string;
  publicClientId: string;
  user: string;
  password: string;
  /** The admin session cookie (name=value), for calls to the admin API. */
  adminCookie?: string;
  /** Reconfigure the public client's redirect URIs etc. */
  setClient(o: GlewlwydOptions): Promise<void>;
  close(): Promise<void>;
}

/** undefined when Glewlwyd can be started here, else why not (for a test's skip message). */
export function glewlwydAvailable(): string | undefined {
  for (const path of [BINARY, `${MODULES}/plugin/libprotocol_oidc.so`, WEBAPP, WEBAPP_CONFIG, SCHEMA]) {
    if (!existsSync(path)) return `Glewlwyd is not installed (${path} is missing; apt-get install glewlwyd)`;
  }
  try {
    execFileSync('sqlite3', ['-version'], { stdio: 'ignore' });
  } catch {
    return 'the sqlite3 command is missing (apt-get install sqlite3)';
  }
  return undefined;
}

function configFile(dir: string, port: number): string {
  return `port=${port}
bind_address="127.0.0.1"
external_url="http://127.0.0.1:${port}"
login_url="login.html"
api_prefix="api"
static_files_path="${dir}/webapp/"
allow_origin="*"
log_mode="console"
log_level="INFO"
cookie_secure=0
cookie_same_site="empty"
session_expiration=2419200
session_key="GLEWLWYD2_SESSION_ID"
admin_session_authentication="cookie"
admin_scope="g_admin"
profile_scope="g_profile"
user_module_path="${MODULES}/user"
client_module_path="${MODULES}/client"
user_auth_scheme_module_path="${MODULES}/scheme"
plugin_module_path="${MODULES}/plugin"
hash_algorithm="SHA512"
database = { type = "sqlite3"; path = "${dir}/glewlwyd.db"; };
static_files_mime_types = (
${[
  ['.html', 'text/html'],
  ['.css', 'text/css'],
  ['.js', 'application/javascript'],
  ['.json', 'application/json'],
  ['.png', 'image/png'],
  ['.ico', 'image/x-icon'],
  ['.woff', 'font/woff'],
  ['.woff2', 'font/woff2'],
  ['.ttf', 'font/ttf'],
]
  .map(([extension, type]) => `  { extension = "${extension}"; mime_type = "${type}"; }`)
  .join(',\n')}
)
`;
}

/** The OIDC plugin's settings (names as protocol_oidc.c reads them). */
function pluginParameters(issuer: string, key: string, cert: string, refreshRotation: boolean): Record<string, unknown> {
  return {
    iss: issuer,
    'jwt-type': 'rsa', // RS256 with a PEM key pair
    'jwt-key-size': '256',
    key,
    cert,
    'jwks-show': true,
    'access-token-duration': 3600,
    'refresh-token-duration': 1209600,
    'code-duration': 600,
    'refresh-token-rolling': true,
    'refresh-token-one-use': refreshRotation ? 'always' : 'never',
    'allow-non-oidc': false,
    'auth-type-code-enabled': true,
    'auth-type-code-revoke-replayed': true,
    'auth-type-token-enabled': false,
    'auth-type-password-enabled': false,
    'auth-type-client-enabled': false,
    'auth-type-refresh-enabled': true,
    'auth-type-device-enabled': true,
    'device-authorization-expiration': 600,
    'device-authorization-interval': 5,
    'subject-type': 'public',
    'allowed-scope': SCOPES,
    'name-claim': 'on-demand',
    'name-claim-scope': ['profile'],
    'email-claim': 'on-demand',
    'email-claim-scope': ['email'],
    'scope-claim': 'no',
    'oauth-as-iss-id': true,
    'pkce-allowed': true,
    'pkce-method-plain-allowed': false,
    'introspection-revocation-allowed': true,
    // A public client has no secret: it can only revoke or introspect with a bearer token of this scope.
    'introspection-revocation-auth-scope': ['openid'],
    'introspection-revocation-allow-target-client': true,
    'register-client-allowed': true,
    'register-client-auth-scope': [], // open registration: no initial access token
    'register-client-credentials-scope': [],
    'register-client-management-allowed': true,
    'session-management-allowed': true, // end_session (RP-initiated logout)
    'session-cookie-name': 'GLEWLWYD2_OIDC_SID',
    'session-cookie-expiration': 2419200,
    // Needed even with no front-channel client: without it the end-session page's client list
    // (GET session/<sid>/<client>) answers 400 and the page's Logout button does nothing.
    'front-channel-logout-allowed': true,
    'back-channel-logout-allowed': false,
    'oauth-par-allowed': true,
    'oauth-par-required': false,
    'oauth-par-request_uri-prefix': 'urn:ietf:params:oauth:request_uri:',
    'oauth-par-duration': 90,
    'oauth-dpop-allowed': true,
    'oauth-dpop-iat-duration': 60,
    'request-parameter-allow': false,
  };
}

function clientBody(clientId: string, o: Required<Omit<GlewlwydOptions, 'refreshRotation'>>): Record<string, unknown> {
  return {
    client_id: clientId,
    name: 'CONNECT Desktop (interop)',
    enabled: true,
    confidential: false,
    token_endpoint_auth_method: ['none'],
    authorization_type: ['code', 'refresh_token', 'device_authorization'],
    redirect_uri: o.redirectUris,
    post_logout_redirect_uris: o.postLogoutRedirectUris,
    scope: [],
  };
}

/** The admin API, signed in as the default admin; signs in again when the session has aged out. */
class Admin {
  cookie?: string;
  constructor(private readonly api: string) {}

  async signIn(): Promise<void> {
    const response = await fetch(`${this.api}/auth/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ADMIN),
    });
    const cookie = response.headers.getSetCookie().map((c) => c.split(';')[0] ?? '').find((c) => c.startsWith('GLEWLWYD2_SESSION_ID='));
    if (!response.ok || !cookie) throw new Error(`Glewlwyd admin sign-in failed: HTTP ${response.status}`);
    this.cookie = cookie;
  }

  async call(method: string, path: string, body?: unknown): Promise<unknown> {
    for (let attempt = 0; ; attempt++) {
      if (!this.cookie) await this.signIn();
      const response = await fetch(`${this.api}${path}`, {
        method,
        headers: { cookie: this.cookie ?? '', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      if (response.status === 401 && attempt === 0) {
        this.cookie = undefined;
        continue;
      }
      // Glewlwyd often answers errors with an empty body: say so rather than show nothing.
      if (!response.ok) throw new Error(`Glewlwyd admin ${method} ${path}: HTTP ${response.status} ${text || '(empty body)'}`);
      return text ? (JSON.parse(text) as unknown) : undefined;
    }
  }

  /** Change a module's (or plugin's) parameters, then reset it so that they take effect. */
  async reconfigure(kind: 'client' | 'plugin', name: string, change: (parameters: Record<string, unknown>) => void): Promise<void> {
    const { enabled: _enabled, ...module } = (await this.call('GET', `/mod/${kind}/${name}`)) as { enabled?: boolean; parameters: Record<string, unknown> };
    change(module.parameters);
    await this.call('PUT', `/mod/${kind}/${name}`, module);
    await this.call('PUT', `/mod/${kind}/${name}/reset`);
  }
}

function logTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-25).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Wait until Glewlwyd answers on /config, or fail with its log if it exits or hangs. */
async function waitUntilUp(child: ChildProcess, base: string, log: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = `exited (${signal ?? code})`));
  child.once('error', (error) => (exited = error.message));
  while (Date.now() < deadline) {
    if (exited) break;
    try {
      if ((await fetch(`${base}/config/`, { signal: AbortSignal.timeout(1000) })).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.kill('SIGKILL');
  throw new Error(`Glewlwyd did not start (${exited ?? 'no answer in 10 s'}); its log ends with:\n${logTail(log)}`);
}

export async function startGlewlwyd(options: GlewlwydOptions = {}): Promise<Glewlwyd> {
  const missing = glewlwydAvailable();
  if (missing) throw new Error(missing);
  const keys = promisify(generateKeyPair)('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const dir = mkdtempSync(join(tmpdir(), 'glewlwyd-'));
  let child: ChildProcess | undefined;
  // Should this process end without close(), Glewlwyd and its folder go with it.
  const orphan = () => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  // A test run stopped with Ctrl+C or a timeout's SIGTERM cleans up too (then ends as that signal would).
  const stopped = (signal: NodeJS.Signals) => {
    orphan();
    process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
  };
  process.once('exit', orphan);
  process.once('SIGINT', stopped);
  process.once('SIGTERM', stopped);
  const close = async (): Promise<void> => {
    process.off('exit', orphan);
    process.off('SIGINT', stopped);
    process.off('SIGTERM', stopped);
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child?.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child?.kill('SIGKILL'), 2000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    cpSync(WEBAPP, join(dir, 'webapp'), { recursive: true, dereference: true, filter: (source) => source !== join(WEBAPP, 'config.json') });
    const webappConfig = JSON.parse(readFileSync(WEBAPP_CONFIG, 'utf8')) as Record<string, unknown>;
    writeFileSync(join(dir, 'webapp', 'config.json'), JSON.stringify({ ...webappConfig, lang: ['en'] }));
    execFileSync('sqlite3', [join(dir, 'glewlwyd.db')], { input: readFileSync(SCHEMA) });
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    writeFileSync(join(dir, 'glewlwyd.conf'), configFile(dir, port));
    const log = join(dir, 'glewlwyd.log');
    const logFd = openSync(log, 'a');
    // setpriv --pdeathsig: the kernel ends Glewlwyd if this process is killed outright (SIGKILL).
    const command = [BINARY, `--config-file=${join(dir, 'glewlwyd.conf')}`];
    const guarded = existsSync('/usr/bin/setpriv') ? ['/usr/bin/setpriv', '--pdeathsig', 'KILL', ...command] : command;
    child = spawn(guarded[0] as string, guarded.slice(1), { stdio: ['ignore', logFd, logFd] });
    closeSync(logFd);
    await waitUntilUp(child, base, log);

    const admin = new Admin(`${base}/api`);
    const issuer = `${base}/api/${PLUGIN}`;
    const publicClientId = 'connect-desktop';
    const user = { username: 'alice', password: 'pw', name: 'Alice Example', email: 'alice@example.com' };
    let clientOptions = {
      redirectUris: options.redirectUris ?? ['http://127.0.0.1:8765/connect/oauth2callback'],
      postLogoutRedirectUris: options.postLogoutRedirectUris ?? ['http://127.0.0.1:8765/connect/logout'],
    };
    try {
      await admin.reconfigure('client', 'database', (p) => {
        (p['data-format'] as Record<string, unknown>)['post_logout_redirect_uris'] = { multiple: true, read: true, write: true };
      });
      await admin.call('PUT', '/scope/openid', { name: 'openid', display_name: 'OpenID', description: 'Sign in', password_required: true, password_max_age: 0, scheme: {} });
      for (const name of SCOPES.slice(1)) {
        await admin.call('POST', '/scope/', { name, display_name: name, description: `The ${name} scope`, password_required: true, password_max_age: 0, scheme: {} });
      }
      await admin.call('POST', '/user/', { ...user, scope: SCOPES, enabled: true });
      const { privateKey, publicKey } = await keys;
      await admin.call('POST', '/mod/plugin/', {
        module: 'oidc',
        name: PLUGIN,
        display_name: 'OpenID Connect',
        enabled: true,
        parameters: pluginParameters(issuer, privateKey, publicKey, options.refreshRotation ?? true),
      });
      await admin.call('POST', '/client/', clientBody(publicClientId, clientOptions));
    } catch (error) {
      throw new Error(`${(error as Error).message}\nGlewlwyd's log ends with:\n${logTail(log)}`);
    }

    const glewlwyd: Glewlwyd = {
      issuer,
      publicClientId,
      user: user.username,
      password: user.password,
      adminCookie: admin.cookie,
      async setClient(o) {
        clientOptions = {
          redirectUris: o.redirectUris ?? clientOptions.redirectUris,
          postLogoutRedirectUris: o.postLogoutRedirectUris ?? clientOptions.postLogoutRedirectUris,
        };
        await admin.call('PUT', `/client/${publicClientId}`, clientBody(publicClientId, clientOptions));
        if (o.refreshRotation !== undefined) {
          const rotation = o.refreshRotation;
          await admin.reconfigure('plugin', PLUGIN, (p) => (p['refresh-token-one-use'] = rotation ? 'always' : 'never'));
        }
        glewlwyd.adminCookie = admin.cookie;
      },
      close,
    };
    return glewlwyd;
  } catch (error) {
    await close();
    throw error;
  }
}
