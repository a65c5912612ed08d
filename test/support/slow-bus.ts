// A keychain that takes its time, the way macOS's keychain does while its "allow access" prompt
// waits for the user: a pass-through proxy in front of the real D-Bus session bus (and so the real
// Secret Service) that holds back its answers, once the client asks about items (SearchItems,
// CreateItem, …), until `holdMs` after the proxy started. Connecting (Hello, OpenSession) is not held:
// the Linux library connects synchronously, and the prompt being modelled comes with the request.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface SlowBus {
  /** DBUS_SESSION_BUS_ADDRESS for the client. */
  address: string;
  close(): void;
}

function realBusPath(): string {
  const address = process.env.DBUS_SESSION_BUS_ADDRESS ?? '';
  const path = /unix:path=([^,;]+)/.exec(address)?.[1];
  if (!path) throw new Error(`the slow bus needs a unix:path session bus, not "${address}"`);
  return path;
}

/** The Secret Service calls that touch items: what a keychain asks the user about. */
const ITEM_CALLS = ['SearchItems', 'CreateItem', 'ReadAlias', 'GetSecrets', 'Delete'];

export async function startSlowBus(holdMs: number): Promise<SlowBus> {
  const real = realBusPath();
  const socket = join(mkdtempSync(join(tmpdir(), 'connect-slow-bus-')), 'bus');
  const until = Date.now() + holdMs;
  const sockets: Socket[] = [];
  const server: Server = createServer((client) => {
    const bus = createConnection(real);
    let asked = false;
    sockets.push(client, bus);
    client.on('data', (chunk: Buffer) => {
      asked ||= ITEM_CALLS.some((call) => chunk.includes(call));
      bus.write(chunk);
    });
    bus.on('data', (chunk) => {
      const wait = asked ? until - Date.now() : 0;
      if (wait <= 0) client.write(chunk);
      else {
        bus.pause();
        setTimeout(() => {
          client.write(chunk);
          bus.resume();
        }, wait);
      }
    });
    const end = () => sockets.forEach((s) => s.destroy());
    client.on('close', end);
    bus.on('close', end);
    client.on('error', end);
    bus.on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(socket, resolve));
  return {
    address: `unix:path=${socket}`,
    close: () => {
      server.close();
      sockets.forEach((s) => s.destroy());
    },
  };
}
