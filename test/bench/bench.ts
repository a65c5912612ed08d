// `npm run bench`: figures measured against the demo provider, real chromium, the real Secret
// Service and a real X server, in one run, side by side with bare openid-client and AppAuth-JS
// (peers.ts). Prints a table and writes bench/results-node<major>.json. Figures are reported, never asserted.
import { execFile, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type * as oidc from 'openid-client';
import { getAccessToken } from '../../src/steps/access-token.js';
import { authorizedFetch } from '../../src/steps/authorized-fetch.js';
import { createAuthorizationRequest } from '../../src/steps/authorization-request.js';
import { checkAuthorizationResponse } from '../../src/steps/authorization-response.js';
import { discover } from '../../src/provider/discovery.js';
import { keychainStore } from '../../src/secret-store/keychain.js';
import type { StoredSession } from '../../src/session/session.js';
import { resolveSettings } from '../../src/config/settings.js';
import { signIn, withSettings } from '../../src/steps/sign-in.js';
import { exchangeCode } from '../../src/steps/token-exchange.js';
import { TokenStore } from '../../src/session/token-store.js';
import { x11TitleSource } from '../../src/window-titles/x11.js';
import { startTestProvider } from '../provider/provider.js';
import { launchChromium } from '../support/chromium.js';
import { startAdversary } from '../support/adversary.js';
import { CLI, ROOT } from '../support/cli.js';
import { actOnProviderPages } from '../support/provider-pages.js';
import { RendererHost } from '../support/renderer-host.js';
import { SharedBrowser } from '../support/shared-browser.js';
import { chaosRun, type ChaosResult } from './chaos.js';
import { appAuthConfiguration, appAuthSignIn, bareRemove, floorExchange, floorSignIn } from './peers.js';
import { openTitledWindow } from '../support/x11-window.js';
import { makeTestCa } from '../support/test-ca.js';

interface Figure {
  name: string;
  unit: string;
  median: number;
  p95: number;
  n: number;
  target?: string;
}

const figures: Figure[] = [];
let chaosFigures: ChaosResult | undefined;

/** The sample at quantile q (the median at 0.5), as every figure reports it. */
function quantile(samples: number[], q: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
}

function record(name: string, unit: string, samples: number[], target?: string): void {
  figures.push({ name, unit, median: round(quantile(samples, 0.5)), p95: round(quantile(samples, 0.95)), n: samples.length, ...(target ? { target } : {}) });
}

const round = (x: number) => Math.round(x * 100) / 100;
const store = new TokenStore(keychainStore());
const provider = await startTestProvider({ accessTokenTtl: 3600 });
const browser = await launchChromium();
const context = await browser.newContext();

/** A fresh authorization response for `redirectUri` (the browser already signed in: consent only). */
async function freshResponse(config: oidc.Configuration, redirectUri: string, receive: () => Promise<URLSearchParams>) {
  const request = await createAuthorizationRequest(config, { redirectUri, scope: 'openid profile email offline_access' });
  const page = await context.newPage();
  const received = receive();
  await page.goto(request.url.href);
  await actOnProviderPages(page, { user: 'alice', password: 'pw', action: 'approve', stopAtOrigin: new URL(redirectUri).origin });
  const params = await received;
  await page.close();
  return { request, params };
}

// 1. Redirect → tokens validated and persisted (loopback; discovery and JWKS cached), side by side:
// ours, a minimal bare openid-client exchange (the floor) and AppAuth-JS, in turns.
{
  let waiting: ((p: URLSearchParams) => void) | undefined;
  const server = createServer((req, res) => {
    res.end('ok');
    waiting?.(new URL(req.url ?? '/', 'http://x').searchParams);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const redirectUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/connect/oauth2callback`;
  const receive = () => new Promise<URLSearchParams>((resolve) => (waiting = resolve));
  const settings = resolveSettings({ issuer: provider.issuer, clientId: provider.publicClientId, redirectUri });
  const config = await discover(settings); // discovery and JWKS cached from here on
  const appauthConfig = await appAuthConfiguration(provider.issuer);
  const actOn = (url: string) => {
    void (async () => {
      const page = await context.newPage();
      await page.goto(url);
      await actOnProviderPages(page, { user: 'alice', password: 'pw', action: 'approve' });
      await page.close();
    })();
  };
  const ours: number[] = [];
  const floor: number[] = [];
  const appauth: number[] = [];
  for (let i = 0; i < 22; i++) {
    const a = await freshResponse(config, redirectUri, receive);
    let t = performance.now();
    checkAuthorizationResponse(a.params, { state: a.request.state, issuer: provider.issuer, issRequired: true });
    const session = withSettings(await exchangeCode({ config, request: a.request, scope: settings.scope }, a.params), settings, { issuer: provider.issuer, clientId: provider.publicClientId, redirectUri }, config);
    await store.save('bench-exchange', session);
    if (i >= 2) ours.push(performance.now() - t);

    const b = await freshResponse(config, redirectUri, receive);
    const url = new URL(redirectUri);
    url.search = b.params.toString();
    t = performance.now();
    await floorExchange(config, url, b.request);
    if (i >= 2) floor.push(performance.now() - t);

    const c = await appAuthSignIn(provider.issuer, provider.publicClientId, actOn, appauthConfig);
    if (i >= 2) appauth.push(c.exchangeMs);
  }
  await store.remove('bench-exchange');
  server.close();
  record('redirect → tokens validated + persisted: ours', 'ms', ours, '≤ 1.3× the floor, ≤ AppAuth-JS');
  record('redirect → tokens validated + persisted: bare openid-client (floor)', 'ms', floor);
  record('redirect → tokens persisted: AppAuth-JS (no ID token checks)', 'ms', appauth);
}

// 2. A whole automated sign-in with a provider session (browser already running): the three in turns.
{
  const user = await SharedBrowser.start();
  const open = user.opener();
  const ours: number[] = [];
  const floor: number[] = [];
  const appauth: number[] = [];
  for (let i = 0; i < 9; i++) {
    let t = performance.now();
    // Bearer tokens, like the two peers (the cost of DPoP is section 5c's).
    await signIn({ settings: { issuer: provider.issuer, clientId: provider.publicClientId, dpop: 'off' }, profile: 'bench-signin', store, browser: open });
    if (i >= 1) ours.push(performance.now() - t);
    t = performance.now();
    await floorSignIn(provider.issuer, provider.publicClientId, (url) => open.open(url));
    if (i >= 1) floor.push(performance.now() - t);
    t = performance.now();
    await appAuthSignIn(provider.issuer, provider.publicClientId, (url) => void open.open(url));
    if (i >= 1) appauth.push(performance.now() - t);
  }
  await store.remove('bench-signin');
  await bareRemove('floor').catch(() => {});
  await bareRemove('appauth').catch(() => {});
  await user.close();
  record('whole sign-in, provider session open: ours (+ userinfo, signature checks)', 'ms', ours, '≤ AppAuth-JS');
  record('whole sign-in, provider session open: bare openid-client', 'ms', floor);
  record('whole sign-in, provider session open: AppAuth-JS', 'ms', appauth);
}

// 3. oob:auto: a window's title changes on the X server → our watcher has it; the same through a
// real browser page (which adds Chromium's own delay); and the CPU watching costs while idle.
{
  let seen: ((titles: string[]) => void) | undefined;
  const watch = x11TitleSource().watch((titles) => seen?.(titles));
  const until = (title: string) =>
    new Promise<number>((resolve) => {
      seen = (titles) => {
        if (titles.some((t) => t.startsWith(title))) resolve(performance.now());
      };
    });
  const window = openTitledWindow('waiting');
  await new Promise((r) => setTimeout(r, 200));
  const direct: number[] = [];
  for (let i = 0; i < 60; i++) {
    const title = `Success state=W${i}&code=C${i}`;
    const arrived = until(title);
    const t = performance.now();
    window.setTitle(title);
    direct.push((await arrived) - t);
  }
  window.close();

  const windows = await launchChromium({ headless: false });
  const page = await (await windows.newContext()).newPage();
  await page.setContent('<title>waiting</title>');
  const viaPage: number[] = [];
  for (let i = 0; i < 20; i++) {
    const title = `Success state=S${i}&code=C${i}`;
    const arrived = until(title);
    const t = performance.now();
    await page.evaluate(`document.title = ${JSON.stringify(title)}`);
    viaPage.push((await arrived) - t);
  }
  seen = undefined;
  const before = process.cpuUsage();
  const wall = performance.now();
  await new Promise((r) => setTimeout(r, 5000));
  const used = process.cpuUsage(before);
  const idle = ((used.user + used.system) / 1000 / (performance.now() - wall)) * 100;
  watch.close();
  await windows.close();
  record('oob:auto X11 title change → captured', 'ms', direct, 'p95 ≤ 50 ms');
  record('oob:auto page title change → captured (incl. Chromium)', 'ms', viaPage);
  record('oob:auto watching while idle', '% of one core', [idle], '≤ 0.5 %');
}

/** Runs a command, reads the peak RSS (VmHWM) of it and of every process it starts while they run, and prints their sum (KB) and how many there were. */
const MEMORY_PROBE = `import os, subprocess, sys, time
def tree(root):
    kids = {}
    for d in os.listdir('/proc'):
        if not d.isdigit(): continue
        try:
            with open(f'/proc/{d}/stat') as f: ppid = int(f.read().rsplit(')', 1)[1].split()[1])
        except OSError: continue
        kids.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop(); out.append(p); todo.extend(kids.get(p, []))
    return out
def hwm(pid):
    try:
        with open(f'/proc/{pid}/status') as f:
            for line in f:
                if line.startswith('VmHWM:'): return int(line.split()[1])
    except OSError: return None
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
peaks = {}
while p.poll() is None:
    for pid in tree(p.pid):
        v = hwm(pid)
        if v: peaks[pid] = max(peaks.get(pid, 0), v)
    time.sleep(0.002)
print(sum(peaks.values()), len(peaks))`;

// 4. CLI cold start, against Node's own start measured in the same run, in turns: `node -e 0`,
// `connect-login status` and `connect-login token` with a fresh token (a child measured by the kernel).
{
  const user = await SharedBrowser.start();
  await signIn({ settings: { issuer: provider.issuer, clientId: provider.publicClientId }, profile: 'bench-cli', store, browser: user.opener() });
  await user.close();
  const probe = 'import resource,subprocess,sys,time\nt=time.perf_counter()\nsubprocess.run(sys.argv[1:],stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL)\nprint(time.perf_counter()-t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)';
  const runs = {
    node: [process.execPath, '-e', '0'],
    status: [process.execPath, CLI, 'status', '--profile', 'bench-cli'],
    token: [process.execPath, CLI, 'token', '--profile', 'bench-cli'],
  };
  const wall: Record<keyof typeof runs, number[]> = { node: [], status: [], token: [] };
  const rss: Record<keyof typeof runs, number[]> = { node: [], status: [], token: [] };
  for (let i = 0; i < 22; i++) {
    for (const [name, command] of Object.entries(runs) as [keyof typeof runs, string[]][]) {
      const out = spawnSync('python3', ['-c', probe, ...command], { encoding: 'utf8' }).stdout.trim().split(' ');
      if (i < 2) continue;
      wall[name].push(Number(out[0]) * 1000);
      rss[name].push(Number(out[1]) / 1024);
    }
  }
  // Memory: every process a command starts (only the CLI itself, since the keychain is spoken to over
  // D-Bus in process), each one's peak RSS (VmHWM) read from /proc while it runs, added up. Polling
  // costs time, so apart from the runs above, which time the start.
  const sums: Record<'status' | 'token', number[]> = { status: [], token: [] };
  const processes = new Set<number>();
  for (let i = 0; i < 6; i++) {
    for (const name of ['status', 'token'] as const) {
      const out = spawnSync('python3', ['-c', MEMORY_PROBE, ...runs[name]], { encoding: 'utf8' }).stdout.trim().split(' ');
      sums[name].push(Number(out[0]) / 1024);
      processes.add(Number(out[1]));
    }
  }
  await store.remove('bench-cli');
  for (const name of ['status', 'token'] as const) {
    record(`CLI memory: connect-login ${name}, peak RSS of all its processes (${[...processes].join(' or ')}) added up`, 'MB', sums[name], '≤ 60 MB');
  }
  const floor = quantile(wall.node, 0.5);
  record('node -e 0 (the floor for a CLI start)', 'ms', wall.node);
  for (const name of ['status', 'token'] as const) {
    record(`CLI cold start: connect-login ${name}`, 'ms', wall[name]);
    record(`CLI cold start: connect-login ${name} / node -e 0`, 'ratio', [quantile(wall[name], 0.5) / floor], '≤ 1.5');
  }
  record('CLI cold start: peak RSS of connect-login status (the largest process)', 'MB', rss.status);
}

// 5. Refresh: latency, and 100 concurrent getAccessToken() → refresh requests.
{
  let refreshes = 0;
  provider.provider.on('grant.success', (ctx: { oidc: { params?: { grant_type?: unknown } } }) => {
    if (ctx.oidc.params?.grant_type === 'refresh_token') refreshes++;
  });
  const user = await SharedBrowser.start();
  await signIn({ settings: { issuer: provider.issuer, clientId: provider.publicClientId }, profile: 'bench-refresh', store, browser: user.opener() });
  await user.close();
  const latency: number[] = [];
  for (let i = 0; i < 12; i++) {
    const t = performance.now();
    await getAccessToken(store, 'bench-refresh', { force: true });
    if (i >= 2) latency.push(performance.now() - t);
  }
  record('refresh (forced, under the profile lock)', 'ms', latency);
  const session = (await store.load('bench-refresh')) as StoredSession;
  await store.save('bench-refresh', { ...session, expiresAt: Math.floor(Date.now() / 1000) - 1 });
  const before = refreshes;
  await Promise.all(Array.from({ length: 100 }, () => getAccessToken(store, 'bench-refresh')));
  record('100 concurrent getAccessToken() on an expired token → refresh requests', 'requests', [refreshes - before], '1');
  await store.remove('bench-refresh');
}

// 5a. Round trips: a cold `connect-login token` that renews, counted by a server in front of the
// provider (the adversary, honest here and letting its answers be cached like a real provider's).
{
  const front = await startAdversary();
  front.tamper = { cacheable: true };
  const user = await SharedBrowser.start();
  await signIn({ settings: { issuer: front.issuer, clientId: front.provider.publicClientId }, profile: 'bench-round-trips', store, browser: user.opener() });
  await user.close();
  const cold: number[] = [];
  for (let i = 0; i < 3; i++) {
    const stored = (await store.load('bench-round-trips')) as StoredSession;
    await store.save('bench-round-trips', { ...stored, expiresAt: Math.floor(Date.now() / 1000) - 1 });
    const at = front.seen.length;
    // Not spawnSync: the server in front of the provider runs in this process and must answer meanwhile.
    await new Promise((resolve) => execFile(process.execPath, [CLI, 'token', '--profile', 'bench-round-trips'], resolve));
    cold.push(front.seen.length - at);
  }
  record('cold connect-login token that renews → requests to the provider', 'requests', cold, '1');
  await store.remove('bench-round-trips');
  await front.close();
}

// 5c. The cost of DPoP (issue #20): the same protected call, refresh and sign-in with Bearer tokens
// and with DPoP-bound ones (a key pair made at sign-in, a proof signed for every request), in turns.
{
  const user = await SharedBrowser.start();
  const modes = ['off', 'on'] as const;
  const signInAs = async (dpop: (typeof modes)[number]) =>
    signIn({ settings: { issuer: provider.issuer, clientId: provider.publicClientId, dpop }, profile: `bench-dpop-${dpop}`, store, browser: user.opener() });
  const samples = { call: { off: [] as number[], on: [] as number[] }, refresh: { off: [] as number[], on: [] as number[] }, signIn: { off: [] as number[], on: [] as number[] } };
  for (let i = 0; i < 7; i++) {
    for (const dpop of modes) {
      const t = performance.now();
      await signInAs(dpop);
      if (i >= 1) samples.signIn[dpop].push(performance.now() - t);
    }
  }
  const api = `${provider.issuer}/api/resource`;
  for (let i = 0; i < 42; i++) {
    for (const dpop of modes) {
      const t = performance.now();
      const response = await authorizedFetch(store, `bench-dpop-${dpop}`, api);
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`the protected call answered ${response.status} (dpop ${dpop})`);
      if (i >= 2) samples.call[dpop].push(performance.now() - t);
    }
  }
  for (let i = 0; i < 12; i++) {
    for (const dpop of modes) {
      const t = performance.now();
      await getAccessToken(store, `bench-dpop-${dpop}`, { force: true });
      if (i >= 2) samples.refresh[dpop].push(performance.now() - t);
    }
  }
  await user.close();
  for (const dpop of modes) await store.remove(`bench-dpop-${dpop}`);
  for (const [what, label] of [['call', 'protected call (fetch /api/resource)'], ['signIn', 'whole sign-in, provider session open'], ['refresh', 'refresh (forced)']] as const) {
    record(`${label}: Bearer`, 'ms', samples[what].off);
    record(`${label}: DPoP-bound`, 'ms', samples[what].on);
    record(`${label}: DPoP's cost (difference of medians)`, 'ms', [quantile(samples[what].on, 0.5) - quantile(samples[what].off, 0.5)], 'reported');
  }
}

// 5b. Chaos: renewals killed (kill -9) at random moments; how many sessions were lost, and where.
{
  const runs = Number(process.env.CONNECT_CHAOS_RUNS ?? 40);
  const user = await SharedBrowser.start();
  const signInChaos = async () => {
    await signIn({ settings: { issuer: provider.issuer, clientId: provider.publicClientId }, profile: 'bench-chaos', store, browser: user.opener() });
  };
  await signInChaos();
  const chaos = await chaosRun(provider, store, 'bench-chaos', signInChaos, runs);
  await user.close();
  await store.remove('bench-chaos');
  record(`chaos: ${runs} renewals killed at random (0–${Math.round(1.5 * chaos.renewalMs)} ms) → sessions lost`, 'sessions', [
    chaos.lost.beforeRenewal + chaos.lost.beforeStored + chaos.lost.afterStored + chaos.lost.finished,
  ], `only the ${chaos.killedBeforeStored} killed between the answer and its storing`);
  record('chaos: lost although killed after the answer was stored', 'sessions', [chaos.lost.afterStored], '0');
  record('chaos: lost although killed before the provider renewed', 'sessions', [chaos.lost.beforeRenewal], '0');
  chaosFigures = chaos;
}

// 6. Keychain: write and read a full token set (chunked over several entries).
{
  const full: StoredSession = {
    version: 2, settings: { issuer: provider.issuer, clientId: provider.publicClientId, redirectUri: 'http://127.0.0.1/connect/oauth2callback', scope: 'openid profile email offline_access' },
    scope: 'openid profile email offline_access', sub: 'alice', claims: { sub: 'alice', name: 'Alice Example', email: 'alice@example.com' },
    accessToken: 'a'.repeat(900), tokenType: 'Bearer', expiresAt: null, refreshToken: 'r'.repeat(400), idToken: 'i'.repeat(1000), obtainedAt: 1,
  };
  const writes: number[] = [];
  const reads: number[] = [];
  for (let i = 0; i < 22; i++) {
    let t = performance.now();
    await store.save('bench-keychain', full);
    if (i >= 2) writes.push(performance.now() - t);
    t = performance.now();
    await store.load('bench-keychain');
    if (i >= 2) reads.push(performance.now() - t);
  }
  await store.remove('bench-keychain');
  record(`keychain write of a token set (${JSON.stringify(full).length} chars)`, 'ms', writes);
  record('keychain read of a token set', 'ms', reads);
}

// 7. Renderer: bundle size, and first contentful paint in Chromium.
{
  const dir = join(ROOT, 'dist/renderer');
  const bytes = readdirSync(dir).filter((f) => !f.endsWith('.map')).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
  record('renderer bundle (html + js + css)', 'KB', [bytes / 1024]);
  const host = await RendererHost.start();
  const signedOut = { ok: true, value: { signedIn: false, issuer: provider.issuer, clientId: 'bench', redirectUri: 'http://127.0.0.1/cb', redirectKind: 'loopback' } };
  const settings = { ok: true, value: { configured: true, issuer: provider.issuer, clientId: 'bench', hasSecret: false, redirectKind: 'loopback', scope: 'openid', platformDefault: 'loopback', demoIssuer: provider.issuer } };
  const api = new Proxy({}, { get: (_t, name) => async () => (name === 'settings' ? settings : signedOut) }) as never;
  const paints: number[] = [];
  for (let i = 0; i < 8; i++) {
    const page = await host.open(browser, api);
    await page.locator('#signed-out').waitFor();
    // The paint entry is recorded asynchronously: wait for it (buffered) rather than read it once.
    paints.push(
      Number(
        await page.evaluate(`new Promise((resolve) => {
          new PerformanceObserver((list) => {
            const entry = list.getEntriesByName('first-contentful-paint')[0];
            if (entry) resolve(entry.startTime);
          }).observe({ type: 'paint', buffered: true });
          setTimeout(() => resolve(NaN), 5000);
        })`),
      ),
    );
    await page.context().close();
  }
  host.close();
  record('renderer first contentful paint', 'ms', paints);
}

// 8. Over a real network's latency: 50 ms each way and TLS with a test CA, ours beside the floor and
// AppAuth-JS (latency.ts, in a process of its own: Node reads NODE_EXTRA_CA_CERTS only at start).
{
  const tls = makeTestCa();
  const run = spawnSync(process.execPath, [join(ROOT, 'dist/test/bench/latency.js'), tls], {
    env: { ...process.env, NODE_EXTRA_CA_CERTS: join(tls, 'ca.pem') },
    encoding: 'utf8',
    timeout: 10 * 60_000,
  });
  if (run.status !== 0) throw new Error(`the latency bench failed (${run.status ?? run.signal}): ${run.stderr.slice(-2000)}`);
  for (const line of run.stdout.trim().split('\n')) {
    const row = JSON.parse(line) as { name: string; unit: string; samples: number[]; target?: string };
    record(row.name, row.unit, row.samples, row.target);
  }
}

await browser.close();
await provider.close();

const versions = (name: string) => (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
const result = {
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memoryGB: Math.round(totalmem() / 2 ** 30), platform: process.platform },
  versions: {
    node: process.version,
    'openid-client': versions('openid-client'),
    'oidc-provider': versions('oidc-provider'),
    '@openid/appauth': versions('@openid/appauth'),
    '@napi-rs/keyring': versions('@napi-rs/keyring'),
    chromium: spawnSync('/usr/bin/chromium', ['--version'], { encoding: 'utf8' }).stdout.trim(),
  },
  figures,
  chaos: chaosFigures,
};
// One file per Node major: `npm run bench` runs on Node 20 and on Node 22 (the Node Electron embeds).
const file = `bench/results-node${process.versions.node.split('.')[0]}.json`;
mkdirSync(join(ROOT, 'bench'), { recursive: true });
writeFileSync(join(ROOT, file), `${JSON.stringify(result, null, 2)}\n`);

const width = Math.max(...figures.map((f) => f.name.length));
console.log(`\n${'figure'.padEnd(width)}  ${'median'.padStart(9)}  ${'p95'.padStart(9)}  unit           n   target`);
for (const f of figures) {
  console.log(`${f.name.padEnd(width)}  ${String(f.median).padStart(9)}  ${String(f.p95).padStart(9)}  ${f.unit.padEnd(13)} ${String(f.n).padStart(3)}   ${f.target ?? ''}`);
}
console.log(`\nWrote ${file} (${result.machine.cpus} cores, Node ${process.version}).`);
process.exit(0);
