// Reading a file the user names (--config, a registration details file, the app's settings file)
// without trusting what is there: a device such as /dev/zero would fill the memory, a FIFO would
// block for ever, a folder or a huge file is a mistake. Only a regular file under a stated size is
// read, and never more than that size, even if the file grows while it is read.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';

/** The most any input file of this program may hold: settings and details files are a few KB. */
export const MAX_INPUT_FILE_BYTES = 1024 * 1024;

// O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting for one (the fstat
// below then refuses it). O_NOCTTY: opening a terminal device never makes it this process's
// controlling terminal. Windows has neither flag, and no FIFOs or terminals to open by path.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/**
 * What was wrong with the file, for the caller to map to its own error code:
 * - `missing`: no such file (ENOENT), which some callers accept (a first run);
 * - `not_regular`: a device, FIFO, socket or folder;
 * - `too_large`: more than the limit;
 * - `unreadable`: any other error from the OS (`errno` says which).
 */
export type BoundedFileProblem = 'missing' | 'not_regular' | 'too_large' | 'unreadable';

export class BoundedFileError extends Error {
  override readonly name = 'BoundedFileError';

  /**
   * `reason` completes a sentence that starts with the file's name, e.g.
   * `The settings file "x.json" ${reason}.`; callers put the file's name first.
   */
  constructor(
    readonly problem: BoundedFileProblem,
    readonly path: string,
    readonly reason: string,
    readonly errno?: string,
  ) {
    super(`"${path}" ${reason}`);
  }
}

/** "1 MB", "64 KB" or "100 bytes": the limit as the user reads it. */
export function sizeText(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / 1024 / 1024} MB`;
  if (bytes % 1024 === 0) return `${bytes / 1024} KB`;
  return `${bytes} bytes`;
}

function osProblem(path: string, error: unknown): BoundedFileError {
  const errno = (error as NodeJS.ErrnoException).code ?? 'EIO';
  // Windows refuses to open a folder as a file: the same mistake as a folder opened on Unix.
  if (errno === 'EISDIR') return new BoundedFileError('not_regular', path, NOT_REGULAR, errno);
  return new BoundedFileError(errno === 'ENOENT' ? 'missing' : 'unreadable', path, `cannot be read (${errno})`, errno);
}

const NOT_REGULAR = 'is not a regular file (a device, pipe or folder)';

/**
 * The file's text (UTF-8, without a byte-order mark), or a BoundedFileError. The size is checked
 * twice: on the open file (fstat, so no other file can be swapped in between), and by reading at
 * most `limit + 1` bytes, for a file that grows while it is read.
 */
export function readBoundedFileSync(path: string, limit = MAX_INPUT_FILE_BYTES): string {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (error) {
    throw osProblem(path, error);
  }
  const tooLarge = () => new BoundedFileError('too_large', path, `is larger than ${sizeText(limit)} (the limit for this file)`);
  try {
    let stat;
    try {
      stat = fstatSync(fd);
    } catch (error) {
      throw osProblem(path, error);
    }
    if (!stat.isFile()) throw new BoundedFileError('not_regular', path, NOT_REGULAR);
    if (stat.size > limit) throw tooLarge();
    const buffer = Buffer.alloc(limit + 1);
    let length = 0;
    for (;;) {
      let read: number;
      try {
        read = readSync(fd, buffer, length, buffer.length - length, null);
      } catch (error) {
        throw osProblem(path, error);
      }
      if (read === 0) break;
      length += read;
      if (length > limit) throw tooLarge();
    }
    const text = buffer.toString('utf8', 0, length);
    // Windows editors and PowerShell 5's `Out-File -Encoding utf8` start UTF-8 files with a byte-order mark.
    return text.startsWith('\uFEFF') ? text.slice(1) : text;
  } finally {
    closeSync(fd);
  }
}
