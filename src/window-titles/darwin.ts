// macOS window titles through CoreGraphics (koffi): CGWindowListCopyWindowInfo, `kCGWindowName` of
// on-screen, normal-layer windows. Since macOS 10.15 other apps' titles need the Screen Recording
// permission: without it the names are simply missing, so this source checks
// CGPreflightScreenCaptureAccess first and explains what to do. In the app it also calls
// CGRequestScreenCaptureAccess (macOS 11+), which asks once and lists the app under Screen Recording;
// in a terminal the permission belongs to the terminal app. macOS has no cheap title-change
// notification for other apps' windows, so this source polls.
import koffi from 'koffi';
import { ConnectError } from '../common/errors.js';
import type { TitleSourceHost } from './open.js';
import { whenChanged, type TitleWatch, type WindowTitleSource } from './source.js';

const ON_SCREEN_ONLY = 1 << 0;
const EXCLUDE_DESKTOP_ELEMENTS = 1 << 4;
const NULL_WINDOW_ID = 0;
const UTF8 = 0x08000100;
/** kCFNumberSInt64Type: the layer is read into 8 bytes, whatever width the number was made with. */
const SINT64 = 4;
const POLL_MS = 200;

type Pointer = unknown;

/**
 * The C declarations, with Apple's types spelled at their width on 64-bit macOS: CFIndex and
 * CFNumberType (an enum of CFIndex) are `long` (8 bytes), CFStringEncoding and CGWindowID are 32-bit.
 */
export const DECLARATIONS = {
  CGWindowListCopyWindowInfo: 'void *CGWindowListCopyWindowInfo(uint32_t option, uint32_t relativeToWindow)',
  CGPreflightScreenCaptureAccess: 'bool CGPreflightScreenCaptureAccess()',
  CGRequestScreenCaptureAccess: 'bool CGRequestScreenCaptureAccess()',
  CFArrayGetCount: 'long CFArrayGetCount(void *array)',
  CFArrayGetValueAtIndex: 'void *CFArrayGetValueAtIndex(void *array, long index)',
  CFDictionaryGetValue: 'void *CFDictionaryGetValue(void *dict, void *key)',
  CFStringCreateWithCString: 'void *CFStringCreateWithCString(void *allocator, const char *text, uint32_t encoding)',
  CFStringGetLength: 'long CFStringGetLength(void *text)',
  CFStringGetMaximumSizeForEncoding: 'long CFStringGetMaximumSizeForEncoding(long length, uint32_t encoding)',
  CFStringGetCString: 'bool CFStringGetCString(void *text, void *buffer, long size, uint32_t encoding)',
  CFNumberGetValue: 'bool CFNumberGetValue(void *number, long type, void *value)',
  CFRelease: 'void CFRelease(void *ref)',
} as const;

/** What to do without the permission, for the app or for a terminal. */
export function screenRecordingHelp(host: TitleSourceHost): string {
  const who =
    host === 'app'
      ? 'turn it on for this app (macOS has just asked, and listed it there), and restart the app'
      : 'turn it on for the terminal app this command runs in (Terminal, iTerm, your editor), and restart that app';
  return (
    'macOS needs the Screen Recording permission to read the browser\'s window title: open System Settings → ' +
    `Privacy & Security → Screen Recording, ${who}. Or choose another redirect kind: the loopback redirect ` +
    'needs no permission.'
  );
}

function loadFrameworks() {
  const cf = koffi.load('/System/Library/Frameworks/CoreFoundation.framework/CoreFoundation');
  const cg = koffi.load('/System/Library/Frameworks/CoreGraphics.framework/CoreGraphics');
  const optional = <T>(declaration: string): T | undefined => {
    try {
      return cg.func(declaration) as T;
    } catch {
      return undefined; // older macOS: preflight before 10.15 (no permission needed), request before 11
    }
  };
  const d = DECLARATIONS;
  return {
    CGWindowListCopyWindowInfo: cg.func(d.CGWindowListCopyWindowInfo) as (option: number, relativeTo: number) => Pointer | null,
    CFArrayGetCount: cf.func(d.CFArrayGetCount) as (array: Pointer) => number,
    CFArrayGetValueAtIndex: cf.func(d.CFArrayGetValueAtIndex) as (array: Pointer, index: number) => Pointer,
    CFDictionaryGetValue: cf.func(d.CFDictionaryGetValue) as (dict: Pointer, key: Pointer) => Pointer | null,
    CFStringCreateWithCString: cf.func(d.CFStringCreateWithCString) as (allocator: null, text: string, encoding: number) => Pointer,
    CFStringGetLength: cf.func(d.CFStringGetLength) as (text: Pointer) => number,
    CFStringGetMaximumSizeForEncoding: cf.func(d.CFStringGetMaximumSizeForEncoding) as (length: number, encoding: number) => number,
    CFStringGetCString: cf.func(d.CFStringGetCString) as (text: Pointer, buffer: Buffer, size: number, encoding: number) => boolean,
    CFNumberGetValue: cf.func(d.CFNumberGetValue) as (number: Pointer, type: number, value: Buffer) => boolean,
    CFRelease: cf.func(d.CFRelease) as (ref: Pointer) => void,
    preflight: optional<() => boolean>(d.CGPreflightScreenCaptureAccess),
    request: optional<() => boolean>(d.CGRequestScreenCaptureAccess),
  };
}

type Frameworks = ReturnType<typeof loadFrameworks>;
let frameworks: { f: Frameworks; keys: { name: Pointer; layer: Pointer } } | undefined;

function load() {
  if (!frameworks) {
    let f: Frameworks;
    try {
      f = loadFrameworks();
    } catch (error) {
      throw new ConnectError('window_titles_unavailable', 'Window titles cannot be read: CoreGraphics could not be loaded.', { cause: error });
    }
    // The key constants' values are the CFStrings of their own names; equal strings find the values.
    frameworks = {
      f,
      keys: {
        name: f.CFStringCreateWithCString(null, 'kCGWindowName', UTF8),
        layer: f.CFStringCreateWithCString(null, 'kCGWindowLayer', UTF8),
      },
    };
  }
  return frameworks;
}

function cfString(f: Frameworks, ref: Pointer): string | null {
  const size = f.CFStringGetMaximumSizeForEncoding(f.CFStringGetLength(ref), UTF8) + 1;
  const buffer = Buffer.alloc(size);
  if (!f.CFStringGetCString(ref, buffer, size, UTF8)) return null;
  const end = buffer.indexOf(0);
  return buffer.toString('utf8', 0, end < 0 ? size : end);
}

function windowTitles(): string[] {
  const { f, keys } = load();
  const list = f.CGWindowListCopyWindowInfo(ON_SCREEN_ONLY | EXCLUDE_DESKTOP_ELEMENTS, NULL_WINDOW_ID);
  if (!list) return [];
  try {
    const titles: string[] = [];
    const layer = Buffer.alloc(8);
    for (let i = 0, n = f.CFArrayGetCount(list); i < n; i++) {
      const info = f.CFArrayGetValueAtIndex(list, i);
      const layerRef = f.CFDictionaryGetValue(info, keys.layer);
      if (layerRef && f.CFNumberGetValue(layerRef, SINT64, layer) && layer.readBigInt64LE(0) !== 0n) continue;
      const nameRef = f.CFDictionaryGetValue(info, keys.name);
      const name = nameRef ? cfString(f, nameRef) : null;
      if (name) titles.push(name);
    }
    return titles;
  } finally {
    f.CFRelease(list);
  }
}

export function darwinTitleSource(options: { host?: TitleSourceHost } = {}): WindowTitleSource {
  const host = options.host ?? 'terminal';
  const { f } = load();
  if (f.preflight && !f.preflight()) {
    // The app asks (once; macOS shows its prompt and lists the app in System Settings). A terminal
    // process would only list the terminal app, so the help says where to look instead.
    if (host === 'app') f.request?.();
    throw new ConnectError('window_titles_unavailable', screenRecordingHelp(host));
  }
  return {
    name: 'darwin',
    titles: windowTitles,
    watch(onTitles): TitleWatch {
      const report = whenChanged(onTitles);
      const tick = () => report(windowTitles());
      tick();
      const timer = setInterval(tick, POLL_MS);
      timer.unref();
      return { close: () => clearInterval(timer) };
    },
  };
}
