// Windows window titles through user32 (koffi): EnumWindows + GetWindowTextW over visible top-level
// windows. Title changes arrive as EVENT_OBJECT_NAMECHANGE from an out-of-context SetWinEventHook,
// which Windows delivers through the hooking thread's message loop ("The client thread that calls
// SetWinEventHook must have a message loop in order to receive events"). In the Electron app the
// main thread runs Chromium's loop, which delivers them: the source adds nothing there. A plain
// Node process has no loop, so the source checks the thread for sent messages on a timer, taking
// nothing from its queue. A slower poll covers systems that do not raise the event (Wine 8).
import koffi from 'koffi';
import { ConnectError } from '../common/errors.js';
import { whenChanged, type TitleWatch, type WindowTitleSource } from './source.js';

const EVENT_OBJECT_SHOW = 0x8002;
const EVENT_OBJECT_NAMECHANGE = 0x800c;
const WINEVENT_OUTOFCONTEXT = 0x0000;
const WINEVENT_SKIPOWNPROCESS = 0x0002;
const OBJID_WINDOW = 0;
const PM_NOREMOVE = 0x0000;
/** PM_QS_SENDMESSAGE: only deliver sent messages (and win events), nothing posted. */
const PM_QS_SENDMESSAGE = 0x0004 << 16;
/** A filter that matches no message anyone posts: thread messages (hwnd -1) of one private id. */
const THREAD_MESSAGES_ONLY = -1;
const NO_SUCH_MESSAGE = 0xbffe;
/** sizeof(MSG) on x64 is 48 bytes; room to spare. */
const MSG_SIZE = 64;
const PUMP_MS = 25;
const POLL_MS = 250;

type Pointer = unknown;

function loadUser32() {
  const user32 = koffi.load('user32.dll');
  // Named handle types, used by name in the declarations below.
  koffi.pointer('Win32HWND', koffi.opaque());
  koffi.pointer('Win32HWINEVENTHOOK', koffi.opaque());
  koffi.proto('bool __stdcall Win32EnumWindowsProc(Win32HWND hwnd, intptr_t lParam)');
  const WinEventProc = koffi.proto(
    'void __stdcall Win32WinEventProc(Win32HWINEVENTHOOK hook, uint32_t event, Win32HWND hwnd, long idObject, long idChild, uint32_t thread, uint32_t time)',
  );
  return {
    EnumWindows: user32.func('bool __stdcall EnumWindows(Win32EnumWindowsProc *callback, intptr_t lParam)') as (
      callback: (hwnd: Pointer, lParam: number) => boolean,
      lParam: number,
    ) => boolean,
    IsWindowVisible: user32.func('bool __stdcall IsWindowVisible(Win32HWND hwnd)') as (hwnd: Pointer) => boolean,
    GetWindowTextLengthW: user32.func('int __stdcall GetWindowTextLengthW(Win32HWND hwnd)') as (hwnd: Pointer) => number,
    GetWindowTextW: user32.func('int __stdcall GetWindowTextW(Win32HWND hwnd, void *text, int max)') as (
      hwnd: Pointer,
      text: Buffer,
      max: number,
    ) => number,
    SetWinEventHook: user32.func(
      'Win32HWINEVENTHOOK __stdcall SetWinEventHook(uint32_t eventMin, uint32_t eventMax, void *module, Win32WinEventProc *callback, uint32_t process, uint32_t thread, uint32_t flags)',
    ) as (min: number, max: number, module: null, callback: unknown, process: number, thread: number, flags: number) => Pointer | null,
    UnhookWinEvent: user32.func('bool __stdcall UnhookWinEvent(Win32HWINEVENTHOOK hook)') as (hook: Pointer) => boolean,
    PeekMessageW: user32.func('bool __stdcall PeekMessageW(void *msg, intptr_t hwnd, uint32_t min, uint32_t max, uint32_t remove)') as (
      msg: Buffer,
      hwnd: number,
      min: number,
      max: number,
      remove: number,
    ) => boolean,
    WinEventProc,
  };
}

type User32 = ReturnType<typeof loadUser32>;
let user32: User32 | undefined;

function load(): User32 {
  if (!user32) {
    try {
      user32 = loadUser32();
    } catch (error) {
      throw new ConnectError('window_titles_unavailable', 'Window titles cannot be read: user32.dll could not be loaded.', { cause: error });
    }
  }
  return user32;
}

/** Titles of the visible top-level windows, in z-order. */
function visibleTitles(u: User32): string[] {
  const titles: string[] = [];
  u.EnumWindows((hwnd) => {
    if (!u.IsWindowVisible(hwnd)) return true;
    const length = u.GetWindowTextLengthW(hwnd);
    if (length <= 0) return true;
    const buffer = Buffer.alloc((length + 1) * 2);
    const copied = u.GetWindowTextW(hwnd, buffer, length + 1);
    if (copied > 0) titles.push(buffer.toString('utf16le', 0, copied * 2));
    return true;
  }, 0);
  return titles;
}

export interface Win32SourceOptions {
  /** How often to re-read all titles when no event said they changed. Default 250 ms. */
  pollMs?: number;
  /**
   * Check the thread for sent messages on a timer, so win events arrive without a message loop.
   * Default true; false inside Electron, whose message loop delivers them (a timer of ours must not
   * dispatch messages to Electron's windows).
   */
  checkThread?: boolean;
}

export function win32TitleSource(options: Win32SourceOptions = {}): WindowTitleSource {
  const u = load();
  const pollMs = options.pollMs ?? POLL_MS;
  const checkThread = options.checkThread ?? true;
  return {
    name: 'win32',
    titles: () => visibleTitles(u),
    watch(onTitles): TitleWatch {
      let dirty = true;
      const report = whenChanged(onTitles);
      const hookProc = koffi.register((_hook: Pointer, _event: number, _hwnd: Pointer, idObject: number) => {
        if (idObject === OBJID_WINDOW) dirty = true;
      }, koffi.pointer(u.WinEventProc));
      const hooks = [EVENT_OBJECT_NAMECHANGE, EVENT_OBJECT_SHOW]
        .map((event) => u.SetWinEventHook(event, event, null, hookProc, 0, 0, WINEVENT_OUTOFCONTEXT | WINEVENT_SKIPOWNPROCESS))
        .filter((hook): hook is Pointer => !!hook);
      const message = Buffer.alloc(MSG_SIZE);
      let sincePoll = 0;
      const tick = () => {
        // Out-of-context win events are delivered while this thread checks for sent messages (the
        // hook callback runs inside this call). Nothing is removed from the queue.
        if (checkThread) u.PeekMessageW(message, THREAD_MESSAGES_ONLY, NO_SUCH_MESSAGE, NO_SUCH_MESSAGE, PM_NOREMOVE | PM_QS_SENDMESSAGE);
        sincePoll += PUMP_MS;
        if (!dirty && sincePoll < pollMs) return;
        sincePoll = 0;
        dirty = false;
        report(visibleTitles(u));
      };
      tick();
      const timer = setInterval(tick, PUMP_MS);
      timer.unref();
      return {
        close() {
          clearInterval(timer);
          for (const hook of hooks) u.UnhookWinEvent(hook);
          koffi.unregister(hookProc as bigint);
        },
      };
    },
  };
}
