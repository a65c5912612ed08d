// Run by node.exe under Wine: another program's top-level windows, as a browser's would be, whose
// titles change on cue. `node title-window.js PLAN.json` where the plan is a list of steps:
//   { "create": "a", "title": "New Tab - Microsoft Edge" }        a visible window
//   { "set": "a", "title": "Success state=…", "notify": true }      SetWindowTextW (+ NotifyWinEvent)
//   { "wait": 500 }                                                 milliseconds
// It writes "ready" to PLAN.json.ready once the first steps up to the first wait are done, and
// keeps its windows until PLAN.json.stop exists (or 60 s pass).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import koffi from 'koffi';

type Step = { create: string; title: string } | { set: string; title: string; notify?: boolean } | { wait: number };

const WS_OVERLAPPEDWINDOW = 0x00cf0000;
const WS_VISIBLE = 0x10000000;
const EVENT_OBJECT_NAMECHANGE = 0x800c;
const OBJID_WINDOW = 0;
const CHILDID_SELF = 0;
const PM_REMOVE = 0x0001;

const user32 = koffi.load('user32.dll');
const HWND = koffi.pointer('HelperHWND', koffi.opaque());
const CreateWindowExW = user32.func('__stdcall', 'CreateWindowExW', HWND, [
  'uint32_t', 'str16', 'str16', 'uint32_t', 'int', 'int', 'int', 'int', 'void *', 'void *', 'void *', 'void *',
]) as (...args: unknown[]) => unknown;
const SetWindowTextW = user32.func('__stdcall', 'SetWindowTextW', 'bool', [HWND, 'str16']) as (hwnd: unknown, text: string) => boolean;
const NotifyWinEvent = user32.func('__stdcall', 'NotifyWinEvent', 'void', ['uint32_t', HWND, 'long', 'long']) as (
  event: number,
  hwnd: unknown,
  idObject: number,
  idChild: number,
) => void;
const PeekMessageW = user32.func('__stdcall', 'PeekMessageW', 'bool', ['void *', 'void *', 'uint32_t', 'uint32_t', 'uint32_t']) as (
  msg: Buffer,
  hwnd: null,
  min: number,
  max: number,
  remove: number,
) => boolean;
const DispatchMessageW = user32.func('__stdcall', 'DispatchMessageW', 'intptr_t', ['void *']) as (msg: Buffer) => number;
const DestroyWindow = user32.func('__stdcall', 'DestroyWindow', 'bool', [HWND]) as (hwnd: unknown) => boolean;

const plan = process.argv[2] ?? '';
const steps = JSON.parse(readFileSync(plan, 'utf8')) as Step[];
const windows = new Map<string, unknown>();
const message = Buffer.alloc(64);
const pump = () => {
  // A window's own message loop: dispatched, or WM_PAINT would come back for ever.
  while (PeekMessageW(message, null, 0, 0, PM_REMOVE)) DispatchMessageW(message);
};
const pumping = setInterval(pump, 10);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let ready = false;
for (const step of steps) {
  if ('create' in step) {
    const hwnd = CreateWindowExW(0, 'STATIC', step.title, WS_OVERLAPPEDWINDOW | WS_VISIBLE, 10, 10, 400, 200, null, null, null, null);
    if (!hwnd) throw new Error(`could not create window ${step.create}`);
    windows.set(step.create, hwnd);
  } else if ('set' in step) {
    const hwnd = windows.get(step.set);
    SetWindowTextW(hwnd, step.title);
    if (step.notify) NotifyWinEvent(EVENT_OBJECT_NAMECHANGE, hwnd, OBJID_WINDOW, CHILDID_SELF);
  } else {
    if (!ready) {
      ready = true;
      writeFileSync(`${plan}.ready`, 'ready');
    }
    await sleep(step.wait);
  }
}
if (!ready) writeFileSync(`${plan}.ready`, 'ready');
const until = Date.now() + 60_000;
while (!existsSync(`${plan}.stop`) && Date.now() < until) await sleep(50);
for (const hwnd of windows.values()) DestroyWindow(hwnd);
clearInterval(pumping);
