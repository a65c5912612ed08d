// A stand-in for the `electron` module, for running the built main process under plain Node where no
// Electron binary exists. It is not a mock of the app: it plays Electron's and the OS's *documented*
// rules, and refuses what they refuse, so main.ts is tested against the lifecycle it will meet:
// - `ready` comes only after the main module has finished evaluating (docs/tutorial/esm.md; Electron
//   waits for the entry's import, top-level awaits included, before it emits `ready`);
// - before `ready`: protocol.registerSchemesAsPrivileged (once), app.enableSandbox; after `ready`
//   only: BrowserWindow, screen, session.defaultSession, protocol.handle (each throws Electron's own
//   message otherwise);
// - macOS: `open-url` may arrive before `ready` (a listener added later misses it);
//   setAsDefaultProtocolClient succeeds only for a scheme the bundle's Info.plist declares, and a
//   development run's bundle (Electron's own) declares none;
// - Windows: setAsDefaultProtocolClient writes HKCU\Software\Classes\<scheme>, and
//   removeAsDefaultProtocolClient removes it only when it points at this executable;
// - Linux: registration goes through the desktop file Electron names (CHROME_DESKTOP, which Electron
//   always sets, `<name>.desktop` for a development run);
// - `second-instance` comes after `ready`, with the second launch's argv.
// The harness (electron-harness.ts) sets the scenario, drives the OS side and reports what happened.
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface Scenario {
  platform: 'linux' | 'win32' | 'darwin';
  /** app.isPackaged; a development run (`electron .`) has process.defaultApp. */
  packaged: boolean;
  /** The launch's command line after the executable (a protocol launch carries the URL). */
  args: string[];
  /** The schemes the bundle declares (macOS Info.plist, from the build configuration). */
  declaredSchemes: string[];
  /** Registrations other apps (or the installer) made: scheme → owner. */
  registry: Record<string, ProtocolOwner>;
  /** URLs macOS hands over with open-url before `ready` (a launch by URL). */
  openUrlsBeforeReady: string[];
  /** Work areas of the connected displays, the primary first. */
  displays: Rect[];
  /** app.getPath('appData'): the folder the app's data folder goes in. */
  appData: string;
  /** Where main.ts is expected to keep its data (appData/<identity folderName>), for the tests. */
  userData: string;
  /** Another instance holds the single-instance lock. */
  anotherInstance: boolean;
  /** Where the harness writes the port its "OS" takes URLs on (electron-os.ts reads it). */
  osPortFile: string;
}

export interface ProtocolOwner {
  name: string;
  path: string;
  args: string[];
}

/** What happened, in order, for the harness to report. */
export type Report = (event: Record<string, unknown>) => void;

export const world = {
  scenario: undefined as unknown as Scenario,
  report: (() => {}) as Report,
  ready: false,
  execPath: '',
  windows: [] as BrowserWindow[],
  handlers: new Map<string, (event: unknown, ...args: unknown[]) => unknown>(),
  protocols: new Map<string, (request: Request) => Response | Promise<Response>>(),
  privileged: undefined as undefined | { scheme: string; privileges?: Record<string, boolean> }[],
};

function afterReady(what: string): void {
  if (!world.ready) throw new Error(what);
}

class App extends EventEmitter {
  #readyResolve!: () => void;
  readonly #whenReady = new Promise<void>((resolve) => (this.#readyResolve = resolve));
  sandbox = false;

  get isPackaged(): boolean {
    return world.scenario.packaged;
  }
  getName(): string {
    return 'connect-desktop';
  }
  whenReady(): Promise<void> {
    return this.#whenReady;
  }
  isReady(): boolean {
    return world.ready;
  }
  /** Called by the harness once the main module has finished evaluating. */
  _emitReady(): void {
    world.ready = true;
    this.#readyResolve();
    this.emit('ready', {}, {});
  }
  enableSandbox(): void {
    if (world.ready) throw new Error('app.enableSandbox() can only be called before app is ready');
    this.sandbox = true;
  }
  requestSingleInstanceLock(): boolean {
    return !world.scenario.anotherInstance;
  }
  #paths = new Map<string, string>();
  name = 'Electron';
  getPath(name: string): string {
    if (name === 'appData') return world.scenario.appData;
    if (name !== 'userData') throw new Error(`the stand-in has no path "${name}"`);
    return this.#paths.get(name) ?? join(world.scenario.appData, 'Electron');
  }
  setPath(name: string, path: string): void {
    if (world.ready && name === 'userData') world.report({ type: 'warning', message: 'userData set after ready' });
    this.#paths.set(name, path);
  }
  setName(name: string): void {
    this.name = name;
  }
  quit(): void {
    world.report({ type: 'quit' });
    this.emit('before-quit', {});
    this.emit('will-quit', {});
    setImmediate(() => process.exit(0));
  }
  exit(code = 0): void {
    world.report({ type: 'exit', code });
    setImmediate(() => process.exit(code));
  }

  // ---- protocol clients, per OS ----
  #owner(path?: string, args?: string[]): ProtocolOwner {
    return { name: world.scenario.packaged ? 'CONNECT Desktop' : 'Electron', path: path ?? world.execPath, args: args ?? [] };
  }
  setAsDefaultProtocolClient(scheme: string, path?: string, args?: string[]): boolean {
    const s = world.scenario;
    let ok: boolean;
    if (s.platform === 'darwin') ok = s.packaged && s.declaredSchemes.includes(scheme);
    else if (s.platform === 'linux') ok = true;
    else ok = /^[a-z][a-z0-9+.-]*$/i.test(scheme);
    if (ok) s.registry[scheme] = this.#owner(path, args);
    world.report({ type: 'set-protocol-client', scheme, ok, args: args ?? [] });
    return ok;
  }
  removeAsDefaultProtocolClient(scheme: string, path?: string, args?: string[]): boolean {
    const s = world.scenario;
    if (s.platform === 'linux') return false; // not implemented on Linux (docs: macOS, Windows)
    const owner = s.registry[scheme];
    if (owner && this.isDefaultProtocolClient(scheme, path, args)) {
      delete s.registry[scheme];
      world.report({ type: 'remove-protocol-client', scheme });
    }
    return true;
  }
  isDefaultProtocolClient(scheme: string, path?: string, args?: string[]): boolean {
    const owner = world.scenario.registry[scheme];
    const me = this.#owner(path, args);
    return !!owner && owner.path === me.path && JSON.stringify(owner.args) === JSON.stringify(me.args);
  }
  getApplicationNameForProtocol(url: string): string {
    const scheme = url.replace(/:.*$/, '');
    return world.scenario.registry[scheme]?.name ?? '';
  }
}

export const app = new App();

class WebContents extends EventEmitter {
  readonly mainFrame = { url: '', origin: 'null' };
  openHandler: ((details: { url: string }) => { action: string }) | undefined;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.openHandler = handler;
  }
  send(channel: string, ...args: unknown[]): void {
    world.report({ type: 'send', channel, args });
  }
}

export class BrowserWindow extends EventEmitter {
  readonly webContents = new WebContents();
  readonly options: Record<string, unknown>;
  #bounds: Rect;
  #destroyed = false;

  constructor(options: Record<string, unknown> = {}) {
    super();
    afterReady('Cannot create BrowserWindow before app is ready');
    this.options = options;
    const preload = (options.webPreferences as Record<string, unknown> | undefined)?.preload;
    if (preload !== undefined && (typeof preload !== 'string' || !existsSync(preload))) throw new Error(`the preload script does not exist: ${String(preload)}`);
    this.#bounds = { x: Number(options.x ?? 0), y: Number(options.y ?? 0), width: Number(options.width ?? 800), height: Number(options.height ?? 600) };
    world.windows.push(this);
    app.emit('web-contents-created', {}, this.webContents);
    world.report({ type: 'window', options: { ...options, webPreferences: { ...(options.webPreferences as object), ...(preload ? { preload: 'exists' } : {}) } } });
  }

  /** Loads the page through the registered protocol handler, and its scripts and styles relative to it. */
  async loadURL(url: string): Promise<void> {
    const fetchOne = async (target: string) => {
      const scheme = new URL(target).protocol.slice(0, -1);
      if (scheme === 'data') {
        world.report({ type: 'loaded', url: 'data:', status: 200 });
        return '';
      }
      const handler = world.protocols.get(scheme);
      if (!handler) throw new Error(`ERR_UNKNOWN_URL_SCHEME (-302) loading '${target}'`);
      const response = await handler(new Request(target));
      const body = await response.text();
      world.report({ type: 'loaded', url: target, status: response.status, contentType: response.headers.get('content-type'), bytes: body.length });
      if (response.status !== 200) throw new Error(`ERR_HTTP_RESPONSE_CODE_FAILURE (-379) loading '${target}'`);
      return body;
    };
    const html = await fetchOne(url);
    // A standard scheme resolves the page's relative URLs against it, as https would.
    for (const [, ref] of html.matchAll(/(?:src|href)="([^"]+)"/g)) await fetchOne(new URL(ref as string, url).href);
    const origin = new URL(url);
    this.webContents.mainFrame.url = url;
    this.webContents.mainFrame.origin = `${origin.protocol}//${origin.host}`;
    this.webContents.emit('did-finish-load');
    this.emit('ready-to-show');
  }
  show(): void {
    world.report({ type: 'show' });
  }
  focus(): void {}
  isMinimized(): boolean {
    return false;
  }
  restore(): void {}
  isDestroyed(): boolean {
    return this.#destroyed;
  }
  getNormalBounds(): Rect {
    return this.#bounds;
  }
  close(): void {
    this.emit('close', { preventDefault() {} });
    this.#destroyed = true;
    this.emit('closed');
    world.windows = world.windows.filter((w) => w !== this);
    if (world.windows.length === 0) app.emit('window-all-closed');
  }
}

export const ipcMain = {
  handle(channel: string, handler: (event: unknown, ...args: unknown[]) => unknown): void {
    if (world.handlers.has(channel)) throw new Error(`Attempted to register a second handler for '${channel}'`);
    world.handlers.set(channel, handler);
  },
};

export const protocol = {
  registerSchemesAsPrivileged(schemes: { scheme: string; privileges?: Record<string, boolean> }[]): void {
    if (world.ready || world.privileged) throw new Error('protocol.registerSchemesAsPrivileged should be called before app is ready');
    world.privileged = schemes;
  },
  handle(scheme: string, handler: (request: Request) => Response | Promise<Response>): void {
    afterReady('Session can only be received when app is ready');
    // Electron serves a custom scheme's pages with an origin only when it was registered as standard.
    if (!world.privileged?.some((s) => s.scheme === scheme && s.privileges?.standard)) {
      throw new Error(`the stand-in serves pages only from a scheme registered as privileged and standard (got "${scheme}")`);
    }
    world.protocols.set(scheme, handler);
  },
};

export const session = {
  get defaultSession() {
    afterReady('Session can only be received when app is ready');
    return {
      setPermissionRequestHandler: () => {},
      setPermissionCheckHandler: () => {},
    };
  },
};

export const screen = {
  getAllDisplays() {
    afterReady("The 'screen' module can't be used before the app 'ready' event");
    return world.scenario.displays.map((workArea, id) => ({ id, workArea, bounds: workArea }));
  },
  getPrimaryDisplay() {
    return screen.getAllDisplays()[0];
  },
};

export const shell = {
  openExternal: async (url: string) => {
    // Where it goes, never the URL itself (it carries the attempt's state).
    world.report({ type: 'open-external', protocol: new URL(url).protocol, origin: new URL(url).origin });
  },
};

export const dialog = {
  showErrorBox(title: string, content: string): void {
    world.report({ type: 'error-box', title, content });
  },
  async showMessageBox(_window: unknown, options: { message: string; type?: string }) {
    world.report({ type: 'message-box', message: options.message, kind: options.type ?? 'none' });
    return { response: 0 };
  },
};

export default { app, BrowserWindow, ipcMain, protocol, session, screen, shell, dialog };
