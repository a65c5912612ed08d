// Run connect-login as a user or a script would: a separate process, real stdout/stderr/exit code.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DriverReport } from './browser-driver.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CLI = join(ROOT, 'dist/src/bundle/connect-login.js');
const DRIVER = join(ROOT, 'dist/test/support/browser-driver.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, options: { timeoutMs?: number } = {}): Promise<CliResult> {
  return startCli(args, env, { ...options, stdin: 'ignore' }).done;
}

/** Start connect-login with a writable stdin (to paste into), as a user at a terminal would. */
export function startCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  options: { timeoutMs?: number; stdin?: 'pipe' | 'ignore' } = {},
): { child: ChildProcessWithoutNullStreams; done: Promise<CliResult> } {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, BROWSER: 'true', ...env },
    stdio: [options.stdin ?? 'pipe', 'pipe', 'pipe'],
  }) as ChildProcessWithoutNullStreams;
  const done = new Promise<CliResult>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  return { child, done };
}

/** A profile name of its own for each test, so tests never share or touch a real profile. */
export function testProfile(label: string): string {
  return `test-${label}-${randomBytes(4).toString('hex')}`;
}

/** Test profiles that a test file signs out of (through the CLI) when it is done. */
export function profileTracker(): { profileFor(label: string): string; signOutAll(): Promise<void> } {
  const profiles: string[] = [];
  return {
    profileFor(label) {
      const profile = testProfile(label);
      profiles.push(profile);
      return profile;
    },
    async signOutAll() {
      for (const profile of profiles.splice(0)) await runCli(['logout', '--profile', profile]);
    },
  };
}

export interface BrowserUser {
  /** BROWSER command line that signs in as the user would. */
  BROWSER: string;
  /** What the browser showed at the end (undefined until the driver wrote it). */
  report(): Promise<DriverReport>;
  /** Let a headful browser close its window. */
  release(): void;
}

/** A real chromium that signs in on the provider's pages (see browser-driver.ts). */
export function browserUser(
  options: { user?: string; password?: string; action?: 'approve' | 'deny'; tamper?: string; schemeHandler?: string[]; headful?: boolean } = {},
): BrowserUser {
  const reportPath = join(mkdtempSync(join(tmpdir(), 'connect-driver-')), 'report.json');
  const words = ['node', DRIVER, '--report', reportPath, '--user', options.user ?? 'alice', '--action', options.action ?? 'approve'];
  if (options.tamper) words.push('--tamper', options.tamper);
  if (options.password) words.push('--password', options.password);
  const release = join(dirname(reportPath), 'release');
  if (options.headful) words.push('--headful', '--hold-until', release);
  if (options.schemeHandler) words.push('--scheme-handler', options.schemeHandler.map((w) => `'${w}'`).join(' '));
  return {
    BROWSER: words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(' '),
    release: () => writeFileSync(release, ''),
    async report() {
      // The CLI does not wait for the browser; the driver writes its report as it closes.
      for (let i = 0; i < 200 && !existsSync(reportPath); i++) await new Promise((r) => setTimeout(r, 100));
      return JSON.parse(readFileSync(reportPath, 'utf8')) as DriverReport;
    },
  };
}

/** The single JSON object a --json command printed (fails if stdout holds anything else). */
export function jsonOf(result: CliResult): Record<string, unknown> {
  const text = result.stdout.trim();
  if (!text || text.includes('\n')) throw new Error(`expected exactly one JSON line on stdout, got: ${JSON.stringify(result.stdout)}`);
  return JSON.parse(text) as Record<string, unknown>;
}
