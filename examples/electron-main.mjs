// A minimal Electron main process using the library with the custom-scheme redirect
// (<client-id>://connect/oauth2callback): the OS hands the URL back, the library finishes signing in.
//   ISSUER=http://127.0.0.1:9090 CLIENT_ID=<the demo client id> npx electron examples/electron-main.mjs
// Electron emits `ready` only after this module has finished evaluating: never `await` it at the
// top level (the app would hang with no window). Register the OS's URL handlers before `ready`.
import { app, BrowserWindow, dialog, shell } from 'electron';
import { createClient } from 'connect-desktop';

// The provider's convention for desktop clients: the client id is the custom scheme.
const scheme = process.env.CLIENT_ID ?? 'com.example.desktop-app';
const client = createClient({
  settings: { issuer: process.env.ISSUER ?? 'http://127.0.0.1:9090', clientId: scheme, redirectUri: `${scheme}://connect/oauth2callback` },
  // The system browser, only for the URLs the library built.
  browser: { open: (url) => shell.openExternal(url) },
});

const deliver = (url) => client.deliverRedirect(url).catch((error) => console.error(`refused: ${error.code}`));
const urlIn = (argv) => argv.find((arg) => arg.toLowerCase().startsWith(`${scheme}:`));

if (!app.requestSingleInstanceLock()) app.quit();
// macOS hands the URL over with open-url; Windows and Linux start a second instance with it in argv.
app.on('open-url', (event, url) => {
  event.preventDefault();
  deliver(url);
});
app.on('second-instance', (_event, argv) => {
  const url = urlIn(argv);
  if (url) deliver(url);
});
// macOS routes only schemes the app's Info.plist declares (electron-builder's `protocols`).
if (process.defaultApp) app.setAsDefaultProtocolClient(scheme, process.execPath, [process.argv[1]]);
else app.setAsDefaultProtocolClient(scheme);

app.whenReady().then(async () => {
  const window = new BrowserWindow({ width: 420, height: 240, webPreferences: { contextIsolation: true, sandbox: true } });
  await window.loadURL('data:text/html,<h1 style="font-family:sans-serif">Finish signing in in your browser...</h1>');
  try {
    const session = await client.signIn();
    window.show();
    await dialog.showMessageBox(window, { message: `Signed in as ${session.claims.name ?? session.sub}` });
  } catch (error) {
    await dialog.showMessageBox(window, { type: 'error', message: `${error.code}: ${error.message}` });
  }
  app.quit();
});
