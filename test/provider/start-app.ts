// `npm start` in a clone: the demo provider, then the Electron app configured for it, so the whole
// flow works without any account. `npm run app` (--no-provider): the app alone, with the settings it
// has. (The packaged app ships neither this file nor the demo provider.)
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { electronBinary, noElectronAdvice } from '../support/electron.js';
import { startTestProvider, type TestProvider } from './provider.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const binary = electronBinary();
if (!binary) {
  console.error(noElectronAdvice());
  process.exit(1);
}

let provider: TestProvider | undefined;
if (!process.argv.includes('--no-provider')) {
  provider = await startTestProvider({ port: Number(process.env.CONNECT_DEMO_PORT ?? 9090), registration: 'open', par: 'on', deviceFlow: true }).catch(async () =>
    // 9090 taken: any free port.
    startTestProvider({ registration: 'open', par: 'on', deviceFlow: true }),
  );
  console.log(`Demo provider: ${provider.issuer} (any login name and password work)`);
}

const app = spawn(binary, [root], {
  stdio: 'inherit',
  env: { ...process.env, ...(provider ? { CONNECT_DEMO_ISSUER: provider.issuer } : {}) },
});
const stop = (code: number) => {
  void (provider?.close() ?? Promise.resolve()).then(() => process.exit(code));
};
app.on('exit', (code) => stop(code ?? 0));
app.on('error', (error) => {
  console.error(`error: could not start Electron (${binary}): ${error.message}`);
  stop(1);
});
process.on('SIGINT', () => app.kill('SIGINT'));
process.on('SIGTERM', () => app.kill('SIGTERM'));
