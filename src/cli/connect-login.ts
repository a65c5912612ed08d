#!/usr/bin/env node
// The connect-login executable. On Linux the keychain is reached through a helper process, whose
// start-up costs about as much as loading the CLI itself: start it first, so that the two overlap,
// then load and run the CLI (main.ts).
import { warmUpKeychain } from '../secret-store/keychain.js';

/** Commands that never read the keychain. */
const KEYCHAIN_FREE = new Set(['redirect-defaults', 'deliver', 'discover', 'help', 'completion', '--help', '-h', '--version']);

const argv = process.argv.slice(2);
if (argv.length > 0 && !argv.some((arg) => KEYCHAIN_FREE.has(arg))) warmUpKeychain();
const { main } = await import('./main.js');
process.exitCode = await main(argv);
