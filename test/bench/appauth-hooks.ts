// Module resolution hooks that let AppAuth-JS 1.4.0 run on plain Node for the side-by-side bench
// (its published ESM build imports its own files without extensions, which only bundlers and tsx
// resolve), and that hand its `opener` (xdg-open) the same test browser the other contenders use.
// Registered by bench.ts with module.register(); used nowhere else.
interface ResolveContext {
  parentURL?: string;
}
type NextResolve = (specifier: string, context: ResolveContext) => Promise<{ url: string }>;

export async function resolve(specifier: string, context: ResolveContext, nextResolve: NextResolve): Promise<{ url: string; shortCircuit?: boolean }> {
  const fromAppAuth = context.parentURL?.includes('/node_modules/@openid/appauth/') ?? false;
  if (!fromAppAuth) return nextResolve(specifier, context);
  if (specifier === 'opener') return { url: new URL('./appauth-opener.js', import.meta.url).href, shortCircuit: true };
  if (specifier.startsWith('.') && !/\.[cm]?js$/.test(specifier)) return nextResolve(`${specifier}.js`, context);
  return nextResolve(specifier, context);
}
