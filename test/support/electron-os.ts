// The OS's URL handler for the stand-in app: `node electron-os.js PORT_FILE URL` hands URL to the
// running main process (electron-harness.ts, which wrote its port to PORT_FILE), which raises
// open-url or second-instance as the OS would.
import { readFileSync } from 'node:fs';

const [portFile, url] = process.argv.slice(2);
const port = readFileSync(portFile as string, 'utf8').trim();
await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: url });
