// For the tests that node.exe runs under Wine (test/wine/run.sh): another Wine process that shows
// windows and changes their titles on cue (title-window.ts).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Step = { create: string; title: string } | { set: string; title: string; notify?: boolean } | { wait: number };

export interface Windows {
  stop(): Promise<void>;
}

/** Starts title-window.js in its own node.exe with `steps`; resolves once its first windows exist. */
export async function showWindows(steps: Step[]): Promise<Windows> {
  const plan = join(mkdtempSync(join(tmpdir(), 'connect-windows-')), 'plan.json');
  writeFileSync(plan, JSON.stringify(steps));
  // Output to files, never pipes: node.exe under Wine fails with EBADF on a Unix pipe.
  const child = spawn(process.execPath, [fileURLToPath(new URL('./title-window.js', import.meta.url)), plan], { stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const deadline = Date.now() + 20_000;
  while (!existsSync(`${plan}.ready`)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('the window helper did not start');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    async stop() {
      writeFileSync(`${plan}.stop`, '');
      await exited;
    },
  };
}
