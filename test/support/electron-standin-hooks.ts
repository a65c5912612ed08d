// Module resolution hook for electron-standin-register.ts: `electron` is the stand-in.
const STANDIN = new URL('./electron-standin.js', import.meta.url).href;

export async function resolve(
  specifier: string,
  context: unknown,
  next: (specifier: string, context: unknown) => Promise<{ url: string }>,
): Promise<{ url: string; shortCircuit?: boolean }> {
  return specifier === 'electron' ? { url: STANDIN, shortCircuit: true } : next(specifier, context);
}
