// When a process started, as an opaque id: two reads for one running process give the same id, and a
// process that later gets the same PID (after the first one ended) gives another. The profile lock
// uses it to tell its holder from an unrelated process that reuses the holder's PID after a crash.
// Only equality means anything; null when it cannot be known (the process is gone, or the system
// does not say), and the caller must then judge some other way.
//   - Linux: field 22 of /proc/<pid>/stat (starttime, in clock ticks since boot), with the boot's id
//     so a lock file that outlives a reboot is not mistaken for a process of this boot;
//   - Windows: the creation time GetProcessTimes gives (kernel32, through koffi);
//   - macOS: `ps -o lstart=` (to the second; a PID is not reused within one second in practice).
import { readFile } from 'node:fs/promises';

export async function processStart(pid: number): Promise<string | null> {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    if (process.platform === 'linux') return await linuxStart(pid);
    if (process.platform === 'win32') return await win32Start(pid);
    if (process.platform === 'darwin') return await darwinStart(pid);
  } catch {
    // Unknown rather than wrong: the caller falls back to another rule.
  }
  return null;
}

let bootId: Promise<string> | undefined;

async function linuxStart(pid: number): Promise<string | null> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Field 2 is "(comm)", the program's name, which may itself hold spaces and parentheses: the
  // fields are counted after its last ')'. That text starts with field 3, so field 22 is index 19.
  const fields = stat.slice(stat.lastIndexOf(')') + 1).trim().split(/\s+/);
  // A zombie (ended, not yet reaped by its parent) is not running anything: unknown, not alive.
  if (fields[0] === 'Z' || fields[0] === 'X') return null;
  const ticks = fields[19];
  if (!ticks || !/^\d+$/.test(ticks)) return null;
  bootId ??= readFile('/proc/sys/kernel/random/boot_id', 'utf8').then(
    (text) => text.trim(),
    () => '',
  );
  return `linux:${await bootId}:${ticks}`;
}

async function darwinStart(pid: number): Promise<string | null> {
  // LC_ALL=C: the same words whoever runs it, so two processes compare equal texts.
  const { execFile } = await import('node:child_process');
  const text = await new Promise<string>((resolve, reject) =>
    execFile('/bin/ps', ['-o', 'lstart=', '-p', String(pid)], { env: { ...process.env, LC_ALL: 'C' }, timeout: 5000 }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    ),
  );
  const start = text.trim().replace(/\s+/g, ' ');
  return start ? `darwin:${start}` : null;
}

const PROCESS_QUERY_LIMITED_INFORMATION = 0x1000;
const STILL_ACTIVE = 259;

interface Kernel32 {
  OpenProcess(access: number, inherit: number, pid: number): unknown;
  GetProcessTimes(process: unknown, creation: Buffer, exit: Buffer, kernel: Buffer, user: Buffer): number;
  GetExitCodeProcess(process: unknown, code: Buffer): number;
  CloseHandle(handle: unknown): number;
}
let kernel32: Promise<Kernel32> | undefined;

async function loadKernel32(): Promise<Kernel32> {
  // Loaded on Windows only, and on first use: other systems never load the native module for this.
  const { default: koffi } = await import('koffi');
  const lib = koffi.load('kernel32.dll');
  return {
    OpenProcess: lib.func('void * __stdcall OpenProcess(uint32_t access, int inherit, uint32_t pid)') as Kernel32['OpenProcess'],
    // Each FILETIME is 8 bytes (100 ns units since 1601), read from a buffer of our own.
    GetProcessTimes: lib.func(
      'int __stdcall GetProcessTimes(void *process, void *creation, void *exit, void *kernel, void *user)',
    ) as Kernel32['GetProcessTimes'],
    GetExitCodeProcess: lib.func('int __stdcall GetExitCodeProcess(void *process, void *code)') as Kernel32['GetExitCodeProcess'],
    CloseHandle: lib.func('int __stdcall CloseHandle(void *handle)') as Kernel32['CloseHandle'],
  };
}

async function win32Start(pid: number): Promise<string | null> {
  const api = await (kernel32 ??= loadKernel32());
  const handle = api.OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, 0, pid);
  if (!handle) return null;
  try {
    // An ended process stays open to whoever still holds a handle to it (its parent, often): it has
    // no start id then, as a zombie has none on Linux.
    const code = Buffer.alloc(4);
    if (!api.GetExitCodeProcess(handle, code) || code.readUInt32LE(0) !== STILL_ACTIVE) return null;
    const [creation, exit, kernel, user] = [0, 0, 0, 0].map(() => Buffer.alloc(8)) as [Buffer, Buffer, Buffer, Buffer];
    if (!api.GetProcessTimes(handle, creation, exit, kernel, user)) return null;
    const created = creation.readBigUInt64LE(0);
    return created ? `win32:${created}` : null;
  } finally {
    api.CloseHandle(handle);
  }
}
