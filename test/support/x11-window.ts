// A bare X11 top-level window whose title a test or the bench sets directly (XStoreName + XFlush), so the
// oob:auto figure can start the clock when the X server has the new title, not when a browser's
// page changes its own (Chromium passes that on to X about 200 ms later).
import koffi from 'koffi';

const x = koffi.load('libX11.so.6');
const Display = koffi.pointer('BenchDisplay', koffi.opaque());
const XOpenDisplay = x.func('XOpenDisplay', Display, ['str']) as (name: string | null) => unknown;
const XDefaultRootWindow = x.func('XDefaultRootWindow', 'unsigned long', [Display]) as (d: unknown) => number;
const XCreateSimpleWindow = x.func('XCreateSimpleWindow', 'unsigned long', [
  Display, 'unsigned long', 'int', 'int', 'unsigned int', 'unsigned int', 'unsigned int', 'unsigned long', 'unsigned long',
]) as (d: unknown, parent: number, x: number, y: number, w: number, h: number, border: number, bc: number, bg: number) => number;
const XMapWindow = x.func('XMapWindow', 'int', [Display, 'unsigned long']) as (d: unknown, w: number) => number;
const XStoreName = x.func('XStoreName', 'int', [Display, 'unsigned long', 'str']) as (d: unknown, w: number, name: string) => number;
const XSync = x.func('XSync', 'int', [Display, 'int']) as (d: unknown, discard: number) => number;
const XDestroyWindow = x.func('XDestroyWindow', 'int', [Display, 'unsigned long']) as (d: unknown, w: number) => number;
const XCloseDisplay = x.func('XCloseDisplay', 'int', [Display]) as (d: unknown) => number;

export interface TitledWindow {
  /** Sets the title; returns once the X server has it. */
  setTitle(title: string): void;
  close(): void;
}

export function openTitledWindow(title: string): TitledWindow {
  const display = XOpenDisplay(null);
  if (!display) throw new Error('cannot open the X display');
  const window = XCreateSimpleWindow(display, XDefaultRootWindow(display), 0, 0, 200, 100, 0, 0, 0);
  XStoreName(display, window, title);
  XMapWindow(display, window);
  XSync(display, 0);
  return {
    setTitle: (next) => {
      XStoreName(display, window, next);
      XSync(display, 0);
    },
    close: () => {
      XDestroyWindow(display, window);
      XCloseDisplay(display);
    },
  };
}
