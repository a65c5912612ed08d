// `npm run rename -- --product-name NAME --app-id REVERSE.DNS.ID --scheme SCHEME`: makes the template
// yours. Rewrites identity.json (the one file that names the app: the build, the app, the CLI's
// messages and the tests all read it), checked with the app's own rules, then says what else to do.
// Asks for what is missing when run in a terminal, never otherwise. Exit 0 done, 2 bad input.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { checkIdentity } from '../dist/src/config/identity-rules.js';

const FILE = new URL('../identity.json', import.meta.url);
const fail = (message) => {
  console.error(`error: ${message}`);
  process.exit(2);
};

let values;
try {
  ({ values } = parseArgs({
    options: {
      'product-name': { type: 'string' },
      'app-id': { type: 'string' },
      scheme: { type: 'string' },
      'folder-name': { type: 'string' },
      icon: { type: 'string' },
    },
  }));
} catch (error) {
  fail(`${error.message}\nUsage: npm run rename -- --product-name NAME --app-id REVERSE.DNS.ID --scheme SCHEME [--folder-name NAME] [--icon FILE.png]`);
}

const current = JSON.parse(readFileSync(FILE, 'utf8'));
const wanted = [
  ['product-name', 'Product name (what users see)', current.productName],
  ['app-id', 'App id (reverse DNS, e.g. com.example.app)', current.appId],
  ['scheme', 'Custom URI scheme (your client id, for the <client-id>://connect/oauth2callback redirect)', current.scheme],
];
const missing = wanted.filter(([flag]) => values[flag] === undefined);
if (missing.length) {
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    fail(`rename needs ${missing.map(([flag]) => `--${flag}`).join(', ')} (not asked for: this is not a terminal)`);
  }
  const ask = createInterface({ input: process.stdin, output: process.stdout });
  try {
    for (const [flag, label, was] of missing) values[flag] = (await ask.question(`${label} [${was}]: `)).trim() || was;
  } catch {
    // Ctrl+C or Ctrl+D at a prompt
    console.error('\nrename cancelled; identity.json was not changed.');
    process.exit(2);
  } finally {
    ask.close();
  }
}

const productName = values['product-name'].trim();
// The data folder and keychain service follow the product name, so two apps made from this template
// never share a folder or a keychain entry.
const slug = productName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64).replace(/-+$/, '');
if (!slug && values['folder-name'] === undefined) {
  fail(`"${productName}" has no letters or digits to name the app's folder after: give one with --folder-name NAME`);
}
const folderName = values['folder-name'] ?? slug;
if (values.icon !== undefined && !existsSync(values.icon)) fail(`the icon "${values.icon}" does not exist`);

const next = {
  ...current,
  productName,
  appId: values['app-id'].trim(),
  scheme: values.scheme.trim(),
  folderName,
  keychainService: folderName,
  ...(values.icon !== undefined ? { icon: values.icon } : {}),
};
try {
  checkIdentity(next);
} catch (error) {
  fail(error.message);
}
writeFileSync(FILE, `${JSON.stringify(next, null, 2)}\n`);

console.log(`identity.json now names "${next.productName}" (${next.appId}), scheme ${next.scheme}://, folder and keychain service "${next.folderName}".

What is left to do:
  1. Register the app with your provider: ${next.cliName} register --request-only writes the request
     document; for macOS its redirect URI is ${next.scheme}://connect/oauth2callback, so the client id
     the provider gives you should be "${next.scheme}" (or use the loopback redirect everywhere).
  2. Put your provider in identity.json's "defaultProvider" (issuer, clientId), or let the setup screen ask.
  3. Replace ${next.icon} with your icon (a PNG of 512x512 or more).
  4. Code signing: CSC_LINK and CSC_KEY_PASSWORD (Windows and macOS), and for notarization APPLE_ID,
     APPLE_APP_SPECIFIC_PASSWORD and APPLE_TEAM_ID (docs/make-it-yours.md).
  5. npm run build && npm test && npm run package`);
