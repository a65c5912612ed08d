// The demo and test authorization server: a real oidc-provider instance configured like the
// reference provider (its endpoint names, redirect-URI defaults and oob result pages; docs/your-provider.md).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration } from 'oidc-provider';
import { oobResultPages } from './oob-pages.js';
import { tokenLogout } from './token-logout.js';
import { webFingerResponder } from './webfinger.js';
import { protectedResource } from './resource.js';
import { IDENTITY } from '../../src/config/identity.js';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';

// Each test file (one process, and the CLIs it starts) keeps its own provider cache: the files run
// one after another, and a port one file's provider had is handed out again to the next one's, whose
// issuer URL is then the same. A document kept from the first would describe the second.
if (process.env.CONNECT_TEST_SESSION && process.env.XDG_CACHE_HOME) {
  mkdirSync(process.env.XDG_CACHE_HOME, { recursive: true });
  process.env.XDG_CACHE_HOME = mkdtempSync(join(process.env.XDG_CACHE_HOME, 'test-'));
}

/** The demo's public client: its id is the app's scheme (identity.json), the provider's convention for Mac clients. */
export const PUBLIC_CLIENT_ID = IDENTITY.scheme;
export const CONFIDENTIAL_CLIENT_ID = `${IDENTITY.scheme}.confidential`;
/** A public client whose tokens must be DPoP-bound (dpop_bound_access_tokens). */
export const DPOP_CLIENT_ID = `${IDENTITY.scheme}.dpop`;

/** Redirect URIs the demo clients are registered with: every kind the reference documents. */
export function demoRedirectUris(clientId: string): string[] {
  return [
    'http://127.0.0.1/connect/oauth2callback',
    'http://localhost:8081/connect/oauth2callback',
    `${clientId}://connect/oauth2callback`,
    'urn:ietf:wg:oauth:2.0:oob',
    'urn:ietf:wg:oauth:2.0:oob:auto',
  ];
}

export interface TestProviderOptions {
  /** Port to listen on (127.0.0.1). Default: any free port. */
  port?: number;
  /** Access-token lifetime in seconds. Default 3600. */
  accessTokenTtl?: number;
  /** Dynamic registration: off, open to all, or managed (needs the initial access token). */
  registration?: 'off' | 'open' | 'managed';
  /** The static initial access token for managed registration. */
  initialAccessToken?: string;
  /** Secret of the pre-registered confidential client. Default: random. */
  confidentialClientSecret?: string;
  /** Misbehave: ID tokens issued on refresh name this subject instead of the user's. */
  subjectOnRefresh?: string;
  /** The issuer URL when another server fronts this one (the adversary). Default: its own address. */
  issuer?: string;
  /** Its signing keys (private JWKs). Default: one fresh RSA key. */
  jwks?: { keys: Array<Record<string, unknown>> };
  /**
   * Pushed authorization requests (RFC 9126): off, offered, or required of every client. Default off,
   * so that tests can read the authorization request in the browser's URL; the demo offers it.
   */
  par?: 'off' | 'on' | 'required';
  /** The device authorization grant (RFC 8628) for the demo clients. Default off. */
  deviceFlow?: boolean;
  /** Seconds a device code lives. Default 600. */
  deviceCodeTtl?: number;
  /** DPoP proofs must carry a nonce the provider issued (RFC 9449 §8): the first proof is refused. */
  dpopNonce?: boolean;
  /** The DPoP proof algorithms it accepts and advertises. Default oidc-provider's: ES256, Ed25519, EdDSA. */
  dpopAlgorithms?: string[];
  /**
   * Let clients keep its discovery document and keys (their answers say nothing, so a client keeps
   * them for its default). Off in tests: test providers come and go on ports the OS hands out again,
   * and a document kept from an earlier one on the same port would describe another provider.
   */
  cacheable?: boolean;
  /** Serve HTTPS with this key and certificate (the bench's test CA), instead of HTTP. */
  tls?: { key: Buffer; cert: Buffer };
  /** Hears every request, before the provider answers it (the bench counts round trips). */
  onRequest?: (request: IncomingMessage) => void;
}

export interface TestProvider {
  /** The bodies the registration endpoint received, newest last (for tests). */
  registrationRequests: Array<Record<string, unknown>>;
  issuer: string;
  port: number;
  provider: Provider;
  publicClientId: string;
  confidentialClientId: string;
  confidentialClientSecret: string;
  initialAccessToken: string | undefined;
  close(): Promise<void>;
}

interface DemoUser {
  name: string;
  given_name: string;
  family_name: string;
  email: string;
}

const DEMO_USERS: Record<string, DemoUser> = {
  alice: { name: 'Alice Example', given_name: 'Alice', family_name: 'Example', email: 'alice@example.com' },
  bob: { name: 'Bob Example', given_name: 'Bob', family_name: 'Example', email: 'bob@example.com' },
};

function userFor(accountId: string): DemoUser {
  return (
    DEMO_USERS[accountId] ?? {
      name: accountId,
      given_name: accountId,
      family_name: '',
      email: `${accountId}@example.com`,
    }
  );
}

/** A fresh RSA signing key as a private JWK. */
export function rsaSigningKey(): Record<string, unknown> {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: `rs-${randomBytes(4).toString('hex')}`, use: 'sig', alg: 'RS256' };
}

export async function startTestProvider(options: TestProviderOptions = {}): Promise<TestProvider> {
  const server: Server = options.tls ? createTlsServer(options.tls) : createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const issuer = options.issuer ?? `http://127.0.0.1:${port}`;
  const confidentialClientSecret = options.confidentialClientSecret ?? randomBytes(24).toString('base64url');
  const registration = options.registration ?? 'off';
  const initialAccessToken =
    registration === 'managed' ? (options.initialAccessToken ?? randomBytes(24).toString('base64url')) : undefined;

  const nativeClient = {
    application_type: 'native' as const,
    grant_types: ['authorization_code', 'refresh_token', ...(options.deviceFlow ? ['urn:ietf:params:oauth:grant-type:device_code'] : [])],
    response_types: ['code' as const],
  };

  const configuration: Configuration = {
    clients: [
      {
        ...nativeClient,
        client_id: PUBLIC_CLIENT_ID,
        client_name: 'CONNECT Desktop (demo)',
        token_endpoint_auth_method: 'none',
        redirect_uris: demoRedirectUris(PUBLIC_CLIENT_ID),
        post_logout_redirect_uris: ['http://127.0.0.1/connect/logout'],
      },
      {
        ...nativeClient,
        client_id: CONFIDENTIAL_CLIENT_ID,
        client_secret: confidentialClientSecret,
        client_name: 'CONNECT Desktop (demo, confidential)',
        token_endpoint_auth_method: 'client_secret_basic',
        redirect_uris: demoRedirectUris(CONFIDENTIAL_CLIENT_ID),
        post_logout_redirect_uris: ['http://127.0.0.1/connect/logout'],
      },
      {
        ...nativeClient,
        client_id: DPOP_CLIENT_ID,
        client_name: 'CONNECT Desktop (demo, DPoP required)',
        token_endpoint_auth_method: 'none',
        dpop_bound_access_tokens: true,
        redirect_uris: demoRedirectUris(DPOP_CLIENT_ID),
        post_logout_redirect_uris: ['http://127.0.0.1/connect/logout'],
      },
    ],
    routes: {
      authorization: '/oauth/authorize',
      token: '/oauth/token',
      revocation: '/oauth/revoke',
      userinfo: '/oauth/userinfo',
      end_session: '/oauth/logout',
      jwks: '/oauth/jwks',
      introspection: '/oauth/introspect',
      registration: '/oauth/register',
    },
    scopes: ['openid', 'offline_access', 'profile', 'email'],
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name'],
      email: ['email', 'email_verified'],
    },
    pkce: { required: () => true },
    ...(options.dpopAlgorithms ? { enabledJWA: { dPoPSigningAlgValues: options.dpopAlgorithms as never } } : {}),
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      rpInitiatedLogout: { enabled: true },
      registration:
        registration === 'off'
          ? { enabled: false }
          : { enabled: true, initialAccessToken: initialAccessToken ?? false },
      // RFC 7592: read, update and delete with the registration access token.
      registrationManagement: { enabled: registration !== 'off' },
      deviceFlow: { enabled: options.deviceFlow ?? false },
      dPoP: options.dpopNonce ? { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true } : { enabled: true },
      pushedAuthorizationRequests: {
        enabled: (options.par ?? 'off') !== 'off',
        requirePushedAuthorizationRequests: options.par === 'required',
      },
    },
    // Native clients get refresh tokens (with offline_access), rotated on every use.
    issueRefreshToken: async (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    rotateRefreshToken: true,
    ttl: {
      AccessToken: options.accessTokenTtl ?? 3600,
      AuthorizationCode: 60,
      DeviceCode: options.deviceCodeTtl ?? 600,
      IdToken: 3600,
      RefreshToken: 14 * 24 * 3600,
      Grant: 14 * 24 * 3600,
      Interaction: 3600,
      Session: 14 * 24 * 3600,
    },
    jwks: (options.jwks ?? { keys: [rsaSigningKey()] }) as Configuration['jwks'],
    cookies: { keys: [randomBytes(32).toString('hex')] },
    findAccount: async (ctx, accountId) => {
      const refreshing = (ctx?.oidc?.params as { grant_type?: unknown } | undefined)?.grant_type === 'refresh_token';
      const id = refreshing && options.subjectOnRefresh ? options.subjectOnRefresh : accountId;
      return { accountId: id, claims: async () => ({ sub: id, ...userFor(id), email_verified: true }) };
    },
    // Errors from oidc-provider are rendered as plain pages; keep them free of outside resources.
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = `<!doctype html><title>${escapeHtml(String(out.error))}</title><h1>${escapeHtml(
        String(out.error),
      )}</h1><p>${escapeHtml(String(out.error_description ?? ''))}</p>`;
    },
  };

  const provider = new Provider(issuer, configuration);
  const registrationRequests: Array<Record<string, unknown>> = [];
  if (!options.cacheable) {
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.path === '/.well-known/openid-configuration' || ctx.path === '/oauth/jwks') ctx.set('Cache-Control', 'no-store');
    });
  }
  provider.use(oobResultPages());
  provider.use(tokenLogout(provider));
  provider.use(webFingerResponder(issuer));
  provider.use(protectedResource(provider, options.dpopNonce ?? false));
  provider.on('registration_create.success', (ctx: { oidc: { body?: Record<string, unknown> } }) => {
    registrationRequests.push({ ...(ctx.oidc.body ?? {}) });
  });
  // Keep the test output quiet: oidc-provider reports every server_error it renders on 'server_error'.
  provider.on('server_error', (_ctx, err) => {
    if (process.env.CONNECT_PROVIDER_DEBUG) console.error('provider server_error', err);
  });
  if (options.onRequest) server.on('request', options.onRequest);
  server.on('request', provider.callback());

  return {
    registrationRequests,
    issuer,
    port,
    provider,
    publicClientId: PUBLIC_CLIENT_ID,
    confidentialClientId: CONFIDENTIAL_CLIENT_ID,
    confidentialClientSecret,
    initialAccessToken,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
