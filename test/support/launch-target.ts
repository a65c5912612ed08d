// Where a launch page (src/browser/launch-page.ts) sends the browser: what a browser reads from it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function launchTarget(opened: string): string {
  if (!opened.startsWith('file:')) return opened;
  const html = readFileSync(fileURLToPath(opened), 'utf8');
  const target = /<meta http-equiv="refresh" content="0;url=([^"]*)">/.exec(html)?.[1];
  if (!target) throw new Error(`${opened} is not a launch page`);
  return target.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
}
