// `npm start` in a clone: the demo provider, then the Electron app configured for it, so the whole
// flow works without any account. (The packaged app ships neither this file nor the demo provider.)
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { startTestProvider } from './provider.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const provider = await startTestProvider({ port: Number(process.env.CONNECT_DEMO_PORT ?? 9090), registration: 'open' }).catch(async () =>
  // 9090 taken: any free port.
  startTestProvider({ registration: 'open' }),
);
console.log(`Demo provider: ${provider.issuer} (any login name and password work)`);

// electron/cli.js downloads the Electron binary on first run, then starts it.
const electronCli = createRequire(import.meta.url).resolve('electron/cli.js');
const app = spawn(process.execPath, [electronCli, root], {
  stdio: 'inherit',
  env: { ...process.env, CONNECT_DEMO_ISSUER: provider.issuer },
});
const stop = (code: number) => {
  void provider.close().then(() => process.exit(code));
};
app.on('exit', (code) => stop(code ?? 0));
app.on('error', (error) => {
  console.error(`error: could not start Electron: ${error.message}`);
  stop(1);
});
process.on('SIGINT', () => app.kill('SIGINT'));
process.on('SIGTERM', () => app.kill('SIGTERM'));
