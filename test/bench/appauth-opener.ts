// Stands in for the `opener` package inside AppAuth-JS during the bench: the URL goes to the same
// Playwright-driven chromium that the other contenders use (set by bench.ts as a global).
export default function opener(url: string): void {
  const open = (globalThis as { benchOpenUrl?: (url: string) => void }).benchOpenUrl;
  if (!open) throw new Error('bench: no browser to open the authorization URL in');
  open(url);
}
