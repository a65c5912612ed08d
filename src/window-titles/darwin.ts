// macOS window titles through CoreGraphics (koffi): CGWindowListCopyWindowInfo, `kCGWindowName` of
// on-screen, normal-layer windows. Since macOS 10.15 other apps' titles need the Screen Recording
// permission: without it the names are simply missing, so this source checks
// CGPreflightScreenCaptureAccess first and explains what to do. macOS has no cheap title-change
// notification for other apps' windows, so this source polls.
import koffi from 'koffi';
import { ConnectError } from '../errors.js';
import { whenChanged, type TitleWatch, type WindowTitleSource } from './source.js';

const ON_SCREEN_ONLY = 1 << 0;
const EXCLUDE_DESKTOP_ELEMENTS = 1 << 4;
const NULL_WINDOW_ID = 0;
const UTF8 = 0x08000100;
const SINT32 = 3;
const POLL_MS = 200;

type Pointer = unknown;

export const SCREEN_RECORDING_HELP =
  'macOS needs the Screen Recording permission to read the browser\'s window title: open System Settings → ' +
  'Privacy & Security → Screen Recording, turn it on for this app, and restart it. Or choose another redirect ' +
  'kind: the custom URI scheme is the default on macOS.';

function loadFrameworks() {
  const cf = koffi.load('/System/Library/Frameworks/CoreFoundation.framework/CoreFoundation');
  const cg = koffi.load('/System/Library/Frameworks/CoreGraphics.framework/CoreGraphics');
  let preflight: (() => boolean) | undefined;
  try {
    preflight = cg.func('bool CGPreflightScreenCaptureAccess()') as () => boolean;
  } catch {
    preflight = undefined; // before macOS 10.15: no permission needed
  }
  return {
    CGWindowListCopyWindowInfo: cg.func('void *CGWindowListCopyWindowInfo(uint32_t option, uint32_t relativeToWindow)') as (
      option: number,
      relativeTo: number,
    ) => Pointer | null,
    CFArrayGetCount: cf.func('long CFArrayGetCount(void *array)') as (array: Pointer) => number,
    CFArrayGetValueAtIndex: cf.func('void *CFArrayGetValueAtIndex(void *array, long index)') as (array: Pointer, index: number) => Pointer,
    CFDictionaryGetValue: cf.func('void *CFDictionaryGetValue(void *dict, void *key)') as (dict: Pointer, key: Pointer) => Pointer | null,
    CFStringCreateWithCString: cf.func('void *CFStringCreateWithCString(void *allocator, const char *text, uint32_t encoding)') as (
      allocator: null,
      text: string,
      encoding: number,
    ) => Pointer,
    CFStringGetLength: cf.func('long CFStringGetLength(void *text)') as (text: Pointer) => number,
    CFStringGetMaximumSizeForEncoding: cf.func('long CFStringGetMaximumSizeForEncoding(long length, uint32_t encoding)') as (
      length: number,
      encoding: number,
    ) => number,
    CFStringGetCString: cf.func('bool CFStringGetCString(void *text, void *buffer, long size, uint32_t encoding)') as (
      text: Pointer,
      buffer: Buffer,
      size: number,
      encoding: number,
    ) => boolean,
    CFNumberGetValue: cf.func('bool CFNumberGetValue(void *number, int type, void *value)') as (
      number: Pointer,
      type: number,
      value: Buffer,
    ) => boolean,
    CFRelease: cf.func('void CFRelease(void *ref)') as (ref: Pointer) => void,
    preflight,
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
    const layer = Buffer.alloc(4);
    for (let i = 0, n = f.CFArrayGetCount(list); i < n; i++) {
      const info = f.CFArrayGetValueAtIndex(list, i);
      const layerRef = f.CFDictionaryGetValue(info, keys.layer);
      if (layerRef && f.CFNumberGetValue(layerRef, SINT32, layer) && layer.readInt32LE(0) !== 0) continue;
      const nameRef = f.CFDictionaryGetValue(info, keys.name);
      const name = nameRef ? cfString(f, nameRef) : null;
      if (name) titles.push(name);
    }
    return titles;
  } finally {
    f.CFRelease(list);
  }
}

export function darwinTitleSource(): WindowTitleSource {
  const { f } = load();
  if (f.preflight && !f.preflight()) throw new ConnectError('window_titles_unavailable', SCREEN_RECORDING_HELP);
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
