// The other contenders of the bench, each doing the same flow as connect-desktop the way its own
// documentation shows: a minimal bare openid-client sign-in (the floor), and AppAuth-JS's Node
// support (NodeBasedHandler + NodeRequestor + BaseTokenRequestHandler). Both keep the token set with
// one keychain write (the Secret Service, as ours), so "persisted" means the same for all three.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { register } from 'node:module';
import { AsyncEntry } from '@napi-rs/keyring';
import * as oidc from 'openid-client';
import { freePort } from '../support/free-port.js';

register(new URL('./appauth-hooks.js', import.meta.url));
// The surface of AppAuth-JS used here. (Its published .d.ts files import one another without
// extensions, which TypeScript's NodeNext resolution does not follow, so the types are written out.)
type Configuration = { userInfoEndpoint?: string };
interface Request {
  state: string;
  internal?: Record<string, string>;
}
interface Response {
  code: string;
  state: string;
}
interface AppAuth {
  AuthorizationServiceConfiguration: { fetchFromIssuer(issuer: string, requestor: unknown): Promise<Configuration> };
  AuthorizationNotifier: new () => { setAuthorizationListener(listener: (request: Request, response: Response | null, error: unknown) => void): void };
  AuthorizationRequest: new (json: object, crypto: unknown, usePkce: boolean) => Request;
  BaseTokenRequestHandler: new (requestor: unknown) => { performTokenRequest(config: Configuration, request: unknown): Promise<{ toJson(): object }> };
  TokenRequest: new (json: object) => unknown;
  GRANT_TYPE_AUTHORIZATION_CODE: string;
  GRANT_TYPE_REFRESH_TOKEN: string;
  setFlag(flag: 'IS_LOG', value: boolean): void;
}
interface AppAuthNode {
  NodeBasedHandler: new (port: number) => {
    setAuthorizationNotifier(notifier: unknown): unknown;
    performAuthorizationRequest(config: Configuration, request: Request): void;
  };
  NodeRequestor: new () => { xhr<T>(settings: { url: string; method: string; headers?: Record<string, string>; dataType?: string }): Promise<T> };
  NodeCrypto: new () => unknown;
}
// Loaded after the hooks are in place (AppAuth's build needs them).
const appauth = (await import('@openid/appauth')) as unknown as AppAuth;
const appauthNode = (await import('@openid/appauth/built/src/node_support/index.js' as string)) as AppAuthNode;
// AppAuth logs by default, authorization codes and PKCE verifiers included: off, as a user would set it.
appauth.setFlag('IS_LOG', false);

export const SCOPE = 'openid profile email offline_access';
const SERVICE = 'connect-desktop-bench';

/** One keychain write of the whole token set, in process: the least a desktop client must do. */
export async function bareSave(account: string, tokens: object): Promise<void> {
  await new AsyncEntry(SERVICE, account, { linux: { store: 'secret-service' } }).setPassword(JSON.stringify(tokens));
}

export async function bareRemove(account: string): Promise<void> {
  await new AsyncEntry(SERVICE, account, { linux: { store: 'secret-service' } }).deleteCredential();
}

/** The floor: the authorization response in, tokens validated by openid-client, then saved. */
export async function floorExchange(
  config: oidc.Configuration,
  callback: URL,
  checks: { codeVerifier: string; state: string; nonce: string },
): Promise<oidc.TokenEndpointResponse> {
  const tokens = await oidc.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: checks.codeVerifier,
    expectedState: checks.state,
    expectedNonce: checks.nonce,
  });
  await bareSave('floor', tokens);
  return tokens;
}

/** A one-shot loopback listener on 127.0.0.1: the redirect URI and the callback URL it receives. */
async function loopback(): Promise<{ redirectUri: string; callback: Promise<URL> }> {
  let received!: (url: URL) => void;
  const callback = new Promise<URL>((resolve) => (received = resolve));
  const server = createServer((req, res) => {
    res.end('Signed in; you can close this tab.');
    server.close();
    received(new URL(req.url ?? '/', redirectUri));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/connect/oauth2callback`;
  return { redirectUri, callback };
}

/** The floor's whole sign-in: discovery, PKCE/state/nonce, browser, loopback, exchange, save. */
export async function floorSignIn(
  issuer: string,
  clientId: string,
  open: (url: string) => Promise<void>,
): Promise<{ config: oidc.Configuration; tokens: oidc.TokenEndpointResponse }> {
  const config = await oidc.discovery(new URL(issuer), clientId, undefined, oidc.None(), { execute: [oidc.allowInsecureRequests] });
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const { redirectUri, callback } = await loopback();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: SCOPE,
    prompt: 'consent',
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  await open(url.href);
  return { config, tokens: await floorExchange(config, await callback, { codeVerifier, state, nonce }) };
}

/** The floor's refresh: one token request, then the keychain write. */
export async function floorRefresh(config: oidc.Configuration, refreshToken: string): Promise<oidc.TokenEndpointResponse> {
  const tokens = await oidc.refreshTokenGrant(config, refreshToken);
  await bareSave('floor', tokens);
  return tokens;
}

export interface AppAuthTimes {
  /** From the authorization response reaching AppAuth's listener to the tokens saved. */
  exchangeMs: number;
  configuration: Configuration;
  tokens: { access_token?: string; refresh_token?: string };
}

/**
 * AppAuth-JS's sign-in (its node_app sample, with the service configuration given or fetched):
 * NodeBasedHandler opens the browser (through `opener`, routed by the hooks to `open`) and listens,
 * BaseTokenRequestHandler + NodeRequestor redeem the code, then one keychain write.
 */
export async function appAuthSignIn(
  issuer: string,
  clientId: string,
  open: (url: string) => void,
  known?: Configuration,
): Promise<AppAuthTimes> {
  const requestor = new appauthNode.NodeRequestor();
  const configuration = known ?? (await appauth.AuthorizationServiceConfiguration.fetchFromIssuer(issuer, requestor));
  const port = await freePort();
  const redirectUri = `http://127.0.0.1:${port}/connect/oauth2callback`;
  const handler = new appauthNode.NodeBasedHandler(port);
  const notifier = new appauth.AuthorizationNotifier();
  handler.setAuthorizationNotifier(notifier);
  const completed = new Promise<{ at: number; response: Response | null; error: unknown }>(
    (resolve) => notifier.setAuthorizationListener((_request, response, error) => resolve({ at: performance.now(), response, error })),
  );
  const request = new appauth.AuthorizationRequest(
    { client_id: clientId, redirect_uri: redirectUri, scope: SCOPE, response_type: 'code', state: undefined, extras: { prompt: 'consent' } },
    new appauthNode.NodeCrypto(),
    true,
  );
  (globalThis as { benchOpenUrl?: (url: string) => void }).benchOpenUrl = open;
  handler.performAuthorizationRequest(configuration, request);
  const { at, response, error } = await completed;
  if (!response || error) throw new Error('AppAuth: the authorization failed');
  if (response.state !== request.state) throw new Error('AppAuth: state mismatch');
  const tokens = await new appauth.BaseTokenRequestHandler(requestor).performTokenRequest(
    configuration,
    new appauth.TokenRequest({
      client_id: clientId,
      redirect_uri: redirectUri,
      grant_type: appauth.GRANT_TYPE_AUTHORIZATION_CODE,
      code: response.code,
      extras: { code_verifier: request.internal?.code_verifier ?? '' },
    }),
  );
  await bareSave('appauth', tokens.toJson());
  return { exchangeMs: performance.now() - at, configuration, tokens: tokens.toJson() };
}

/** AppAuth's refresh (a TokenRequest with the refresh_token grant), then the keychain write. */
export async function appAuthRefresh(configuration: Configuration, clientId: string, refreshToken: string): Promise<{ access_token?: string; refresh_token?: string }> {
  const tokens = await new appauth.BaseTokenRequestHandler(new appauthNode.NodeRequestor()).performTokenRequest(
    configuration,
    new appauth.TokenRequest({ client_id: clientId, redirect_uri: '', grant_type: appauth.GRANT_TYPE_REFRESH_TOKEN, refresh_token: refreshToken }),
  );
  await bareSave('appauth', tokens.toJson());
  return tokens.toJson();
}

/** AppAuth has no userinfo call: its requestor, with the token, as its users do it. */
export function appAuthUserinfo(configuration: Configuration, accessToken: string): Promise<object> {
  return new appauthNode.NodeRequestor().xhr<object>({
    url: configuration.userInfoEndpoint ?? '',
    method: 'GET',
    headers: { Authorization: `Bearer ${accessToken}` },
    dataType: 'json',
  });
}

/** AppAuth's view of the provider, fetched once (for the figure with discovery cached). */
export function appAuthConfiguration(issuer: string): Promise<Configuration> {
  return appauth.AuthorizationServiceConfiguration.fetchFromIssuer(issuer, new appauthNode.NodeRequestor());
}
