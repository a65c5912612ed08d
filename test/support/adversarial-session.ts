// What the hardening tests share: the adversarial provider, one chromium as the user's browser, the
// real keychain, a profile per test (removed at the end), and a sign-in through either face (the core
// API, or connect-login --json), reported the same way: signed in as `sub`, or a code and sentence.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { ConnectError } from '../../src/common/errors.js';
import { keychainStore } from '../../src/secret-store/keychain.js';
import { startSignIn } from '../../src/steps/sign-in.js';
import { TokenStore } from '../../src/session/token-store.js';
import type { TestProviderOptions } from '../provider/provider.js';
import { startAdversary, type Adversary } from './adversary.js';
import { jsonOf, runCli, testProfile } from './cli.js';
import { SharedBrowser } from './shared-browser.js';

export const LOOPBACK = 'http://127.0.0.1/connect/oauth2callback';

export type Outcome = { sub?: string; code?: string; message?: string };

export interface SignInSettings {
  issuer?: string;
  scope?: string;
  /** Seconds per answer from the provider. */
  requestTimeout?: number;
  /** DPoP (default: the client's default, auto). */
  dpop?: 'on' | 'off' | 'auto';
}

export type SignInFace = (profile: string, settings?: SignInSettings) => Promise<Outcome>;

export interface AdversarialSession {
  readonly adversary: Adversary;
  readonly browser: SharedBrowser;
  readonly store: TokenStore;
  profileFor(label: string): string;
  /** The two faces every case runs through. */
  faces: Record<'core API' | 'CLI', SignInFace>;
  signInCore: SignInFace;
}

/** Start the fixtures before the file's tests and stop them after (call at the top level). */
export function adversarialSession(options: TestProviderOptions = {}): AdversarialSession {
  let adversary: Adversary;
  let browser: SharedBrowser;
  const store = new TokenStore(keychainStore());
  const profiles: string[] = [];

  before(async () => {
    adversary = await startAdversary(options);
    browser = await SharedBrowser.start();
  });

  after(async () => {
    for (const profile of profiles) await store.remove(profile);
    await browser.close();
    await adversary.close();
  });

  const signInCore: SignInFace = async (profile, s = {}) => {
    const settings = {
      issuer: s.issuer ?? adversary.issuer,
      clientId: adversary.provider.publicClientId,
      redirectUri: LOOPBACK,
      ...(s.scope ? { scope: s.scope } : {}),
      ...(s.requestTimeout ? { requestTimeoutSeconds: s.requestTimeout } : {}),
      ...(s.dpop ? { dpop: s.dpop } : {}),
    };
    try {
      return { sub: (await startSignIn({ settings, profile, store, browser: browser.opener(), timeoutMs: 60_000 }).result).sub };
    } catch (error) {
      assert.ok(error instanceof ConnectError, `a typed error, not ${String(error)}`);
      return { code: error.code, message: error.message };
    }
  };

  const signInCli: SignInFace = async (profile, s = {}) => {
    const args = ['login', '--issuer', s.issuer ?? adversary.issuer, '--client-id', adversary.provider.publicClientId, '--redirect-uri', LOOPBACK];
    if (s.scope) args.push('--scope', s.scope);
    if (s.requestTimeout) args.push('--request-timeout', String(s.requestTimeout));
    if (s.dpop) args.push('--dpop', s.dpop);
    const login = await runCli([...args, '--profile', profile, '--json'], { BROWSER: await browser.command() }, { timeoutMs: 60_000 });
    assert.notEqual(login.code, null, 'connect-login finished on its own (no hang)');
    const out = jsonOf(login);
    if (login.code === 0) return { sub: String(out.sub) };
    assert.equal(login.code, 1, login.stderr);
    return { code: String(out.error), message: String(out.error_description) };
  };

  return {
    get adversary() {
      return adversary;
    },
    get browser() {
      return browser;
    },
    store,
    profileFor(label) {
      const profile = testProfile(label);
      profiles.push(profile);
      return profile;
    },
    faces: { 'core API': signInCore, CLI: signInCli },
    signInCore,
  };
}
