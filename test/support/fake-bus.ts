// A session bus with a Secret Service that misbehaves on cue, for what a real keyring will not do on
// demand: a prompt that never completes while the keyring dies, a session lost to a restart, a call
// that is never answered. It speaks the real wire format (src/secret-store/dbus.ts encodes and
// decodes it, and dbus-daemon accepts what that encoder writes: secret-store.test.ts) and answers
// AUTH itself; every call goes to `answer` first, which says whether it took it (answered, or chose to
// stay silent). Hello, AddMatch and RemoveMatch are answered here if it did not.
import { mkdtempSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ERROR, FIELD, METHOD_RETURN, SIGNAL, decodeMessage, encodeMessage, messageLength, type Message } from '../../src/secret-store/dbus.js';

export interface Reply {
  /** Answer with these values. */
  ok(signature: string, body: unknown[]): void;
  /** Answer with a D-Bus error. */
  fail(name: string, message: string): void;
  /** Send the client a signal, as from the bus itself (org.freedesktop.DBus). */
  signal(path: string, iface: string, member: string, signature: string, body: unknown[]): void;
  /** The client's connection, to close or to leave silent. */
  socket: Socket;
  /** Which connection this is, from 1. */
  connection: number;
}

export interface FakeBus {
  address: string;
  /** Connections made so far, and how many of them the client has closed. */
  connections: number;
  closedByClient: number;
  /** The members called, in order (Hello included). */
  calls: string[];
  close(): void;
}

export async function startFakeBus(answer: (call: Message, reply: Reply) => boolean): Promise<FakeBus> {
  const path = join(mkdtempSync(join(tmpdir(), 'connect-fake-bus-')), 'bus');
  const sockets = new Set<Socket>();
  let serial = 1000;
  const bus: FakeBus = { address: `unix:path=${path}`, connections: 0, closedByClient: 0, calls: [], close: () => {} };
  const server = createServer((socket) => {
    const connection = ++bus.connections;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // The client closing its end (a close from this side brings no 'end').
    socket.on('end', () => bus.closedByClient++);
    socket.on('error', () => undefined);
    let authed = false;
    let input = Buffer.alloc(0);
    const send = (message: Buffer) => socket.destroyed || socket.write(message);
    socket.on('data', (chunk: Buffer) => {
      input = Buffer.concat([input, chunk]);
      if (!authed) {
        const text = input.toString('latin1');
        if (!text.includes('BEGIN\r\n')) {
          if (text.includes('AUTH') && text.endsWith('\r\n')) socket.write('OK 0123456789abcdef0123456789abcdef\r\n');
          return;
        }
        authed = true;
        input = input.subarray(input.indexOf('BEGIN\r\n') + 7);
      }
      for (;;) {
        const length = messageLength(input);
        if (length === undefined || input.length < length) return;
        const call = decodeMessage(input.subarray(0, length));
        input = input.subarray(length);
        bus.calls.push(call.member ?? '');
        const fields = (extra: [number, { type: string; value: unknown }][] = []) => [[FIELD.replySerial, { type: 'u', value: call.serial }] as [number, { type: string; value: unknown }], ...extra];
        const reply: Reply = {
          ok: (signature, body) => send(encodeMessage(METHOD_RETURN, ++serial, fields(), signature, body)),
          fail: (name, message) => send(encodeMessage(ERROR, ++serial, fields([[FIELD.errorName, { type: 's', value: name }]]), 's', [message])),
          signal: (path, iface, member, signature, body) =>
            send(
              encodeMessage(
                SIGNAL,
                ++serial,
                [
                  [FIELD.path, { type: 'o', value: path }],
                  [FIELD.interface, { type: 's', value: iface }],
                  [FIELD.member, { type: 's', value: member }],
                  [FIELD.sender, { type: 's', value: 'org.freedesktop.DBus' }],
                ],
                signature,
                body,
              ),
            ),
          socket,
          connection,
        };
        if (answer(call, reply)) continue;
        if (call.member === 'Hello') reply.ok('s', [`:1.${connection}`]);
        else if (call.member === 'AddMatch' || call.member === 'RemoveMatch') reply.ok('', []);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  bus.close = () => {
    for (const s of sockets) s.destroy();
    server.close();
  };
  return bus;
}

/** A Secret Service that works: one item per username, in memory. For the parts a test leaves alone. */
export function workingService(items = new Map<string, string>()): (call: Message, reply: Reply) => boolean {
  return (call, reply) => {
    switch (call.member) {
      case 'OpenSession':
        reply.ok('vo', [{ type: 's', value: '' }, `/org/freedesktop/secrets/session/s${reply.connection}`]);
        return true;
      case 'SearchItems': {
        const attributes = new Map(call.body[0] as [string, string][]);
        const name = attributes.get('username');
        reply.ok('aoao', [name !== undefined && items.has(name) ? [`/org/freedesktop/secrets/collection/login/${Buffer.from(name).toString('hex')}`] : [], []]);
        return true;
      }
      case 'GetSecret': {
        const name = Buffer.from((call.path ?? '').split('/').pop() ?? '', 'hex').toString();
        reply.ok('(oayays)', [[call.body[0], Buffer.alloc(0), Buffer.from(items.get(name) ?? ''), 'text/plain']]);
        return true;
      }
      default:
        return false;
    }
  };
}
