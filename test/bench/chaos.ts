// The chaos run of `npm run bench`: N renewals through connect-login, each killed (kill -9) at a random
// moment, then one more `token` to see whether the session survived. Every run is put in one of
// three windows by what the provider and the client's CONNECT_DEBUG lines show:
//
// - killed before the provider renewed anything: nothing was spent; the session must survive;
// - killed after the provider renewed, before the client had stored the answer: the rotated refresh
//   token existed only in the dying process; no client can save these (a provider's refresh-token
//   grace period can: it accepts the previous token again for a short while);
// - killed after the answer was stored: the session must survive.
//
// Reported, never asserted: the figures say how many sessions were lost and in which window.
import { spawn } from 'node:child_process';
import type { TestProvider } from '../provider/provider.js';
import type { StoredSession } from '../../src/session/session.js';
import type { TokenStore } from '../../src/session/token-store.js';
import { CLI } from '../support/cli.js';

export interface ChaosResult {
  runs: number;
  killedBeforeRenewal: number;
  killedBeforeStored: number;
  killedAfterStored: number;
  finishedBeforeKill: number;
  lost: { beforeRenewal: number; beforeStored: number; afterStored: number; finished: number };
  /** Median time of an undisturbed `token` that renews, in ms (the kills fall in 0..1.5 × this). */
  renewalMs: number;
}

interface Run {
  code: number | null;
  stderr: string;
  stdout: string;
  ms: number;
}

function token(profile: string, killAfterMs?: number): Promise<Run> {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, 'token', '--profile', profile], {
    env: { ...process.env, CONNECT_DEBUG: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr, stdout, ms: Date.now() - started });
    });
  });
}

export async function chaosRun(
  provider: TestProvider,
  store: TokenStore,
  profile: string,
  signInAgain: () => Promise<void>,
  runs: number,
): Promise<ChaosResult> {
  let renewals = 0;
  provider.provider.on('grant.success', (ctx: { oidc: { params?: { grant_type?: unknown } } }) => {
    if (ctx.oidc.params?.grant_type === 'refresh_token') renewals++;
  });
  const expire = async () => {
    const session = (await store.load(profile)) as StoredSession;
    await store.save(profile, { ...session, expiresAt: Math.floor(Date.now() / 1000) - 60 });
  };
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    await expire();
    times.push((await token(profile)).ms);
  }
  const renewalMs = [...times].sort((a, b) => a - b)[2] as number;

  const result: ChaosResult = {
    runs,
    killedBeforeRenewal: 0,
    killedBeforeStored: 0,
    killedAfterStored: 0,
    finishedBeforeKill: 0,
    lost: { beforeRenewal: 0, beforeStored: 0, afterStored: 0, finished: 0 },
    renewalMs,
  };
  for (let i = 0; i < runs; i++) {
    await expire();
    const before = renewals;
    const run = await token(profile, Math.random() * 1.5 * renewalMs);
    const renewed = renewals > before;
    const answered = run.stderr.indexOf('refresh: the provider answered with renewed tokens');
    const stored = answered >= 0 && run.stderr.indexOf(`keychain: wrote profile:${profile}:session`, answered) >= 0;
    const window: keyof ChaosResult['lost'] = run.code !== null ? 'finished' : !renewed ? 'beforeRenewal' : stored ? 'afterStored' : 'beforeStored';
    if (window === 'finished') result.finishedBeforeKill++;
    else if (window === 'beforeRenewal') result.killedBeforeRenewal++;
    else if (window === 'beforeStored') result.killedBeforeStored++;
    else result.killedAfterStored++;
    const next = await token(profile);
    if (next.code !== 0) {
      result.lost[window]++;
      await store.remove(profile);
      await signInAgain();
    }
  }
  return result;
}
