// Hand-off of a custom-scheme URL to a waiting `connect-login login`: the OS launches the registered
// handler (`connect-login deliver <url>`), which passes the URL to the waiting process over a local
// socket of the user's own (a Unix socket in a 0700 folder, or a Windows named pipe).
import { unlinkSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { ConnectError, isErrorCode } from '../common/errors.js';
import { runtimeDir } from './runtime-dir.js';
import { IDENTITY } from '../config/identity.js';

const MAX_LINE = 16 * 1024;

/** Where the login for `profile` listens. */
export function handoffPath(profile: string, env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (platform === 'win32') return `\\\\.\\pipe\\${IDENTITY.folderName}-${userInfo().username}-${profile}`;
  return join(runtimeDir(env), `${profile}.sock`);
}

function readLine(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
      const end = data.indexOf('\n');
      if (end >= 0) resolve(data.slice(0, end));
      else if (data.length > MAX_LINE) reject(new Error('line too long'));
    });
    socket.on('end', () => resolve(data));
    socket.on('error', reject);
  });
}

export interface HandoffServer {
  close(): Promise<void>;
}

/** Accept URLs for `profile` until closed; each is answered with the outcome of `onUrl`. */
export async function serveHandoff(profile: string, onUrl: (url: string) => Promise<void>): Promise<HandoffServer> {
  const path = handoffPath(profile);
  const server: Server = createServer((socket) => {
    socket.setTimeout(10_000, () => socket.destroy());
    readLine(socket)
      .then(onUrl)
      .then(
        () => ({ ok: true }),
        (error: unknown) => ({
          ok: false,
          error:
            error instanceof ConnectError
              ? { code: error.code, message: error.message }
              : { code: 'invalid_response', message: 'The URL could not be used.' },
        }),
      )
      .then((answer) => socket.end(`${JSON.stringify(answer)}\n`))
      .catch(() => socket.destroy());
  });
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  try {
    await listen();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || process.platform === 'win32') throw handoffBusy(profile, error);
    // A socket file is left over: in use by another waiting login, or stale from one that died.
    const alive = await new Promise<boolean>((resolve) => {
      const probe = connect(path, () => {
        probe.destroy();
        resolve(true);
      });
      probe.on('error', () => resolve(false));
    });
    if (alive) throw handoffBusy(profile, error);
    unlinkSync(path);
    await listen();
  }
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
  };
}

function handoffBusy(profile: string, cause: unknown): ConnectError {
  return new ConnectError(
    'handoff_busy',
    `Another sign-in for profile "${profile}" is already waiting for its browser response; finish or cancel it first.`,
    { cause },
  );
}

/** Hand a URL to the login waiting for `profile`. Throws `no_pending_attempt` when none is. */
export async function sendHandoff(profile: string, url: string, timeoutMs = 60_000): Promise<void> {
  const path = handoffPath(profile);
  const socket = connect(path);
  const answer = await new Promise<string>((resolve, reject) => {
    socket.once('connect', () => {
      socket.write(`${url}\n`);
      readLine(socket).then(resolve, reject);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ECONNREFUSED') {
        reject(new ConnectError('no_pending_attempt', `No sign-in for profile "${profile}" is waiting for a browser response; the URL was ignored.`));
      } else reject(error);
    });
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new ConnectError('timeout', 'The waiting sign-in did not answer in time.'));
    });
  });
  socket.destroy();
  let parsed: { ok?: boolean; error?: { code?: string; message?: string } };
  try {
    parsed = JSON.parse(answer) as typeof parsed;
  } catch {
    throw new ConnectError('invalid_response', 'The waiting sign-in gave an answer that could not be read.');
  }
  if (!parsed.ok) {
    const code = parsed.error?.code;
    throw new ConnectError(isErrorCode(code) ? code : 'invalid_response', parsed.error?.message ?? 'The URL was refused.');
  }
}
