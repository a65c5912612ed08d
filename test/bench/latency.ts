// The bench over a real network's latency (issue #22), run by bench.ts in a process of its own: the
// demo provider serves HTTPS with a test CA's certificate (NODE_EXTRA_CA_CERTS, which Node reads only
// at start, hence the process), behind a relay that holds every chunk 50 ms each way. Ours, the bare
// openid-client floor and AppAuth-JS, in turns: a sign-in with the provider session open, a refresh,
// and userinfo; then ours as a script meets it, a cold `connect-login token` that renews. Wall time,
// and the round trips each made: requests the provider received from the client (not the browser's),
// and the connections opened through the relay where only the client talks (each costs TLS's
// handshake on top). Prints one JSON line of samples per figure for bench.ts.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { readUserInfo } from '../../src/steps/userinfo.js';
import { getAccessToken } from '../../src/steps/access-token.js';
import { keychainStore } from '../../src/secret-store/keychain.js';
import type { StoredSession } from '../../src/session/session.js';
import { TokenStore } from '../../src/session/token-store.js';
import { signIn } from '../../src/steps/sign-in.js';
import { startTestProvider } from '../provider/provider.js';
import { CLI } from '../support/cli.js';
import { startLatencyRelay } from '../support/latency-relay.js';
import { SharedBrowser } from '../support/shared-browser.js';
import { appAuthRefresh, appAuthSignIn, appAuthUserinfo, bareRemove, floorRefresh, floorSignIn } from './peers.js';
import * as oidc from 'openid-client';

const DELAY_MS = 50;
const RUNS = Number(process.env.CONNECT_BENCH_LATENCY_RUNS ?? 5);
const tlsDir = process.argv[2] as string;

const relay = await startLatencyRelay(DELAY_MS);
let clientRequests = 0;
const provider = await startTestProvider({
  accessTokenTtl: 3600,
  cacheable: true,
  tls: { key: readFileSync(join(tlsDir, 'server.key')), cert: readFileSync(join(tlsDir, 'server.pem')) },
  issuer: `https://127.0.0.1:${relay.port}`,
  // The browser's requests (its pages, the login form) are the user's, not the client's round trips.
  onRequest: (request) => {
    if (!/Chrome\//.test(request.headers['user-agent'] ?? '')) clientRequests++;
  },
});
relay.target = provider.port;
const issuer = provider.issuer;
const clientId = provider.publicClientId;
const store = new TokenStore(keychainStore());
const user = await SharedBrowser.start({ ignoreHTTPSErrors: true });
const open = user.opener();

type Row = { name: string; unit: string; samples: number[]; target?: string };
const rows: Row[] = [];
const samples = (name: string, unit: string, target?: string): number[] => {
  const row: Row = { name, unit, samples: [], ...(target ? { target } : {}) };
  rows.push(row);
  return row.samples;
};

/** Runs `work`, returning its wall time and the client's requests and relay connections it took. */
async function measured(work: () => Promise<unknown>): Promise<{ ms: number; requests: number; connections: number }> {
  const requests = clientRequests;
  const connections = relay.connections;
  const t = performance.now();
  await work();
  return { ms: performance.now() - t, requests: clientRequests - requests, connections: relay.connections - connections };
}

const contenders = ['ours', 'bare openid-client', 'AppAuth-JS'] as const;
const figure = (what: string, who: string, unit: string) => samples(`${what}, 50 ms each way + TLS: ${who}`, unit);

// A sign-in with the provider session open (the browser's pages cross the same latency), in turns.
// The first round signs the user in at the provider and warms each client's caches as a second
// sign-in would find them; it is not counted.
let floorState: Awaited<ReturnType<typeof floorSignIn>> | undefined;
let appAuthState: Awaited<ReturnType<typeof appAuthSignIn>> | undefined;
{
  const wall = Object.fromEntries(contenders.map((c) => [c, figure('whole sign-in', c, 'ms')]));
  const trips = Object.fromEntries(contenders.map((c) => [c, figure('whole sign-in → requests from the client', c, 'requests')]));
  for (let i = 0; i <= RUNS; i++) {
    const ours = await measured(() => signIn({ settings: { issuer, clientId, dpop: 'off' }, profile: 'bench-latency', store, browser: open }));
    const floor = await measured(async () => (floorState = await floorSignIn(issuer, clientId, (url) => open.open(url))));
    const appauth = await measured(async () => (appAuthState = await appAuthSignIn(issuer, clientId, (url) => void open.open(url))));
    if (i === 0) continue;
    for (const [who, m] of [['ours', ours], ['bare openid-client', floor], ['AppAuth-JS', appauth]] as const) {
      wall[who]?.push(m.ms);
      trips[who]?.push(m.requests);
    }
  }
}

// A refresh and a userinfo call from a running process, in turns.
for (const [what, runOurs, runFloor, runAppAuth] of [
  [
    'forced refresh',
    () => getAccessToken(store, 'bench-latency', { force: true }),
    async () => {
      const state = floorState as NonNullable<typeof floorState>;
      state.tokens = await floorRefresh(state.config, state.tokens.refresh_token ?? '');
    },
    async () => {
      const state = appAuthState as NonNullable<typeof appAuthState>;
      state.tokens = await appAuthRefresh(state.configuration, clientId, state.tokens.refresh_token ?? '');
    },
  ],
  [
    'userinfo',
    () => readUserInfo(store, 'bench-latency'),
    () => {
      const state = floorState as NonNullable<typeof floorState>;
      return oidc.fetchUserInfo(state.config, state.tokens.access_token, oidc.skipSubjectCheck);
    },
    () => {
      const state = appAuthState as NonNullable<typeof appAuthState>;
      return appAuthUserinfo(state.configuration, state.tokens.access_token ?? '');
    },
  ],
] as const) {
  const wall = Object.fromEntries(contenders.map((c) => [c, figure(what, c, 'ms')]));
  const requests = Object.fromEntries(contenders.map((c) => [c, figure(`${what} → requests`, c, 'requests')]));
  const connections = Object.fromEntries(contenders.map((c) => [c, figure(`${what} → new connections (a TLS handshake each)`, c, 'connections')]));
  for (let i = 0; i <= RUNS; i++) {
    for (const [who, run] of [['ours', runOurs], ['bare openid-client', runFloor], ['AppAuth-JS', runAppAuth]] as const) {
      const m = await measured(run);
      if (i === 0) continue;
      wall[who]?.push(m.ms);
      requests[who]?.push(m.requests);
      connections[who]?.push(m.connections);
    }
  }
}

// Ours as a script meets it: a cold `connect-login token` whose token has expired (a new process:
// Node's start, the keychain, one TLS handshake and the refresh).
{
  const wall = samples('cold connect-login token that renews, 50 ms each way + TLS', 'ms');
  const requests = samples('cold connect-login token that renews, 50 ms each way + TLS → requests', 'requests', '1');
  const connections = samples('cold connect-login token that renews, 50 ms each way + TLS → new connections', 'connections');
  for (let i = 0; i <= RUNS; i++) {
    const stored = (await store.load('bench-latency')) as StoredSession;
    await store.save('bench-latency', { ...stored, expiresAt: Math.floor(Date.now() / 1000) - 1 });
    const m = await measured(
      () =>
        new Promise<void>((resolve, reject) =>
          execFile(process.execPath, [CLI, 'token', '--profile', 'bench-latency'], (error) => (error ? reject(error) : resolve())),
        ),
    );
    if (i === 0) continue;
    wall.push(m.ms);
    requests.push(m.requests);
    connections.push(m.connections);
  }
}

await store.remove('bench-latency');
await bareRemove('floor').catch(() => {});
await bareRemove('appauth').catch(() => {});
await user.close();
await provider.close();
await relay.close();
for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
