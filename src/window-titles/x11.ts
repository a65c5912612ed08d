// X11 window titles through libX11 (koffi): `_NET_WM_NAME` (UTF-8), else `WM_NAME`, of top-level
// windows: the window manager's `_NET_CLIENT_LIST` when there is one, else the root's children and
// grandchildren (frames of a reparenting window manager). Event-driven: PropertyNotify on the
// windows' names and SubstructureNotify on the root, read when the X connection's socket is readable.
import koffi from 'koffi';
import { ConnectError } from '../common/errors.js';
import type { TitleWatch, WindowTitleSource } from './source.js';

const PROPERTY_CHANGE_MASK = 1 << 22;
const SUBSTRUCTURE_NOTIFY_MASK = 1 << 19;
const CREATE_NOTIFY = 16;
const DESTROY_NOTIFY = 17;
const MAP_NOTIFY = 19;
const REPARENT_NOTIFY = 21;
const PROPERTY_NOTIFY = 28;
/** sizeof(XEvent): a union padded to 24 longs. */
const XEVENT_SIZE = 24 * 8;
/** Offset of XPropertyEvent.atom on LP64: type, serial, send_event, display, window, atom. */
const PROPERTY_EVENT_ATOM = 40;
const ANY_PROPERTY_TYPE = 0;
const MAX_NAME_LONGS = 4096;

type Pointer = unknown;

function loadXlib() {
  const x = koffi.load('libX11.so.6');
  koffi.pointer('X11Display', koffi.opaque()); // named: used by name below
  const ErrorHandler = koffi.proto('int X11ErrorHandler(X11Display display, void *event)');
  return {
    XOpenDisplay: x.func('X11Display XOpenDisplay(const char *name)') as (name: string | null) => Pointer | null,
    XCloseDisplay: x.func('int XCloseDisplay(X11Display display)') as (d: Pointer) => number,
    XDefaultRootWindow: x.func('unsigned long XDefaultRootWindow(X11Display display)') as (d: Pointer) => number,
    XInternAtom: x.func('unsigned long XInternAtom(X11Display display, const char *name, int onlyIfExists)') as (
      d: Pointer,
      name: string,
      onlyIfExists: number,
    ) => number,
    XQueryTree: x.func(
      'int XQueryTree(X11Display display, unsigned long w, _Out_ unsigned long *root, _Out_ unsigned long *parent, _Out_ void **children, _Out_ unsigned int *count)',
    ) as (d: Pointer, w: number, root: unknown[], parent: unknown[], children: unknown[], count: number[]) => number,
    XGetWindowProperty: x.func(
      'int XGetWindowProperty(X11Display display, unsigned long w, unsigned long property, long offset, long length, int del, unsigned long reqType, _Out_ unsigned long *actualType, _Out_ int *actualFormat, _Out_ unsigned long *nitems, _Out_ unsigned long *bytesAfter, _Out_ void **prop)',
    ) as (
      d: Pointer,
      w: number,
      property: number,
      offset: number,
      length: number,
      del: number,
      reqType: number,
      actualType: number[],
      actualFormat: number[],
      nitems: number[],
      bytesAfter: number[],
      prop: unknown[],
    ) => number,
    XSelectInput: x.func('int XSelectInput(X11Display display, unsigned long w, long mask)') as (d: Pointer, w: number, mask: number) => number,
    XPending: x.func('int XPending(X11Display display)') as (d: Pointer) => number,
    XNextEvent: x.func('int XNextEvent(X11Display display, void *event)') as (d: Pointer, event: Buffer) => number,
    XConnectionNumber: x.func('int XConnectionNumber(X11Display display)') as (d: Pointer) => number,
    XFlush: x.func('int XFlush(X11Display display)') as (d: Pointer) => number,
    XFree: x.func('int XFree(void *data)') as (data: unknown) => number,
    XSetErrorHandler: x.func('void *XSetErrorHandler(void *handler)') as (handler: unknown) => unknown,
    ErrorHandler,
  };
}

type Xlib = ReturnType<typeof loadXlib>;
let xlib: Xlib | undefined;
let errorHandler: bigint | undefined;

function unavailable(why: string, cause?: unknown): ConnectError {
  return new ConnectError(
    'window_titles_unavailable',
    `Window titles cannot be read: ${why}. Choose another redirect kind (loopback works everywhere).`,
    { cause },
  );
}

function load(): Xlib {
  if (!xlib) {
    try {
      xlib = loadXlib();
    } catch (error) {
      throw unavailable('libX11 could not be loaded', error);
    }
    // Xlib's default error handler exits the process; a window that closes between being listed and
    // being read raises BadWindow, which is expected here and ignored.
    errorHandler = koffi.register(() => 0, koffi.pointer(xlib.ErrorHandler)) as bigint;
    xlib.XSetErrorHandler(errorHandler);
  }
  return xlib;
}

class X11Connection {
  readonly x: Xlib;
  readonly display: Pointer;
  readonly root: number;
  readonly atoms: { netWmName: number; utf8: number; wmName: number; clientList: number };

  constructor(x: Xlib, displayName: string) {
    this.x = x;
    const display = x.XOpenDisplay(displayName);
    if (!display) throw unavailable(`the X display "${displayName}" could not be opened`);
    this.display = display;
    this.root = x.XDefaultRootWindow(display);
    this.atoms = {
      netWmName: x.XInternAtom(display, '_NET_WM_NAME', 0),
      utf8: x.XInternAtom(display, 'UTF8_STRING', 0),
      wmName: x.XInternAtom(display, 'WM_NAME', 0),
      clientList: x.XInternAtom(display, '_NET_CLIENT_LIST', 0),
    };
  }

  /** A property's raw bytes (format 8) or longs (format 32), or null. */
  property(window: number, atom: number, type: number): { format: number; items: number; data: Buffer } | null {
    const actualType = [0];
    const format = [0];
    const items = [0];
    const after = [0];
    const prop: unknown[] = [null];
    const status = this.x.XGetWindowProperty(this.display, window, atom, 0, MAX_NAME_LONGS, 0, type, actualType, format, items, after, prop);
    if (status !== 0 || !prop[0]) return null;
    try {
      const count = Number(items[0]);
      const bytes = format[0] === 32 ? count * 8 : format[0] === 16 ? count * 2 : count;
      const data = Buffer.from(koffi.view(prop[0], bytes)).subarray(0);
      return { format: format[0] as number, items: count, data: Buffer.from(data) };
    } finally {
      this.x.XFree(prop[0]);
    }
  }

  name(window: number): string | null {
    const utf8 = this.property(window, this.atoms.netWmName, this.atoms.utf8);
    if (utf8 && utf8.format === 8 && utf8.items > 0) return utf8.data.toString('utf8');
    const legacy = this.property(window, this.atoms.wmName, ANY_PROPERTY_TYPE);
    if (legacy && legacy.format === 8 && legacy.items > 0) return legacy.data.toString('latin1');
    return null;
  }

  children(window: number): number[] {
    const root = [0];
    const parent = [0];
    const children: unknown[] = [null];
    const count = [0];
    if (!this.x.XQueryTree(this.display, window, root, parent, children, count) || !children[0]) return [];
    try {
      const data = Buffer.from(koffi.view(children[0], Number(count[0]) * 8));
      return Array.from({ length: Number(count[0]) }, (_, i) => Number(data.readBigUInt64LE(i * 8)));
    } finally {
      this.x.XFree(children[0]);
    }
  }

  /** Top-level windows: the window manager's client list, or the root's children and grandchildren. */
  topLevel(): number[] {
    const list = this.property(this.root, this.atoms.clientList, ANY_PROPERTY_TYPE);
    if (list && list.format === 32 && list.items > 0) {
      return Array.from({ length: list.items }, (_, i) => Number(list.data.readBigUInt64LE(i * 8)));
    }
    const windows: number[] = [];
    for (const child of this.children(this.root)) {
      windows.push(child);
      windows.push(...this.children(child));
    }
    return windows;
  }

  close(): void {
    this.x.XCloseDisplay(this.display);
  }
}

export function x11TitleSource(env: NodeJS.ProcessEnv = process.env): WindowTitleSource {
  const displayName = env.DISPLAY;
  if (!displayName) {
    throw unavailable('there is no X display (DISPLAY is not set; a Wayland-only session does not show other programs\' titles)');
  }
  const x = load();

  const titlesOf = (connection: X11Connection, windows: number[]) =>
    windows.map((w) => connection.name(w)).filter((t): t is string => t !== null && t !== '');

  return {
    name: 'x11',
    titles() {
      const connection = new X11Connection(x, displayName);
      try {
        return titlesOf(connection, connection.topLevel());
      } finally {
        connection.close();
      }
    },
    watch(onTitles): TitleWatch {
      const connection = new X11Connection(x, displayName);
      const { display } = connection;
      const watched = new Set<number>();
      const event = Buffer.alloc(XEVENT_SIZE);
      const nameAtoms = new Set([connection.atoms.netWmName, connection.atoms.wmName, connection.atoms.clientList]);
      x.XSelectInput(display, connection.root, SUBSTRUCTURE_NOTIFY_MASK | PROPERTY_CHANGE_MASK);

      const scan = () => {
        const windows = connection.topLevel();
        for (const w of windows) {
          if (watched.has(w)) continue;
          watched.add(w);
          x.XSelectInput(display, w, PROPERTY_CHANGE_MASK | SUBSTRUCTURE_NOTIFY_MASK);
        }
        x.XFlush(display);
        onTitles(titlesOf(connection, windows));
      };

      let closed = false;
      const drain = () => {
        if (closed) return;
        for (let rounds = 0; rounds < 16 && x.XPending(display) > 0; rounds++) {
          let relevant = false;
          while (x.XPending(display) > 0) {
            x.XNextEvent(display, event);
            const type = event.readInt32LE(0);
            if (type === PROPERTY_NOTIFY) {
              if (nameAtoms.has(Number(event.readBigUInt64LE(PROPERTY_EVENT_ATOM)))) relevant = true;
            } else if (type === CREATE_NOTIFY || type === MAP_NOTIFY || type === REPARENT_NOTIFY || type === DESTROY_NOTIFY) {
              relevant = true;
            }
          }
          if (relevant) scan();
        }
      };

      scan();
      // Read events as soon as the X server sends them; a slow timer is the safety net.
      const poll = koffi.node?.poll?.(x.XConnectionNumber(display), { readable: true }, drain);
      poll?.unref();
      const timer = setInterval(drain, poll ? 1000 : 50);
      timer.unref();
      return {
        close() {
          if (closed) return;
          closed = true;
          clearInterval(timer);
          poll?.close();
          connection.close();
        },
      };
    },
  };
}
