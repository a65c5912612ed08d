#!/usr/bin/env node
// The connect-login executable (shipped bundled: build/bundle-cli.mjs). On Linux it starts connecting
// to the keychain (the session bus, then the Secret Service) first, so that connecting overlaps
// loading the CLI (main.ts). main.ts loads the protocol code (openid-client) only for the commands
// that talk to the provider: status, and token with a fresh token, read the keychain only.
import module from 'node:module';

// Node 22.1 and later keep the compiled code of the modules between runs (public code, in the
// system's temporary folder): a later start parses less. Older Node has no such cache. It applies
// to modules loaded after this line, which is why everything below is imported dynamically.
(module as { enableCompileCache?: () => unknown }).enableCompileCache?.();

/** Commands that never read the keychain. */
const KEYCHAIN_FREE = new Set(['redirect-defaults', 'deliver', 'discover', 'help', 'completion', '--help', '-h', '--version']);

const argv = process.argv.slice(2);
if (argv.length > 0 && !argv.some((arg) => KEYCHAIN_FREE.has(arg))) (await import('../secret-store/keychain.js')).warmUpKeychain();
const { main } = await import('./main.js');
process.exitCode = await main(argv);
