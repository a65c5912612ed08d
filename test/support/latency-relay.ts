// A network's latency on loopback: a TCP relay that holds every chunk for `delayMs` in each direction
// before passing it on, in order, so that each round trip a client makes (TLS's handshake, each HTTP
// request) costs 2 × delayMs, as it would to a server that far away. It counts the connections made
// through it. (The relay accepts a connection at once: TCP's own handshake is the one round trip it
// does not delay.)
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface LatencyRelay {
  port: number;
  /** Connections made through it so far. */
  connections: number;
  /** Where it relays to (a port on 127.0.0.1); set before the first connection. */
  target: number;
  close(): Promise<void>;
}

function delayed(from: Socket, to: Socket, delayMs: number): void {
  let last = 0;
  from.on('data', (chunk: Buffer) => {
    // Never before a chunk that came earlier: order is kept even if timers drift.
    const at = Math.max(performance.now() + delayMs, last);
    last = at;
    setTimeout(() => to.destroyed || to.write(chunk), at - performance.now());
  });
  from.on('end', () => setTimeout(() => to.end(), Math.max(0, last - performance.now()) + delayMs));
  from.on('error', () => to.destroy());
  from.on('close', () => setTimeout(() => to.destroy(), Math.max(0, last - performance.now()) + delayMs + 1));
}

export async function startLatencyRelay(delayMs: number): Promise<LatencyRelay> {
  const sockets = new Set<Socket>();
  const relay: LatencyRelay = { port: 0, connections: 0, target: 0, close: async () => {} };
  const server: Server = createServer((client) => {
    relay.connections++;
    const upstream = createConnection(relay.target, '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.setNoDelay(true);
    }
    delayed(client, upstream, delayMs);
    delayed(upstream, client, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  relay.port = (server.address() as AddressInfo).port;
  relay.close = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
  return relay;
}
