// Bundles connect-login (part of `npm run build`): the compiled CLI and the core it uses become a few
// files in dist/src/bundle/ instead of dozens of modules, since Node loads each module with several
// file system calls, and a CLI that scripts call before every request starts as often as it runs.
// Dependencies stay outside the bundle (openid-client is loaded only by commands that talk to the
// provider), and so does each lazily imported step: `status` and a fresh `token` load only what they
// run. The bundle sits as deep as dist/src/cli/ so its paths to identity.json and package.json hold.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

// Chunks are named by their content: clear out the ones from earlier builds.
rmSync('dist/src/bundle', { recursive: true, force: true });

await build({
  entryPoints: ['dist/src/cli/connect-login.js'],
  outdir: 'dist/src/bundle',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  logLevel: 'warning',
});
