// A small D-Bus client: the session bus over its Unix socket, method calls and signals, and the wire
// format for the types the Secret Service uses. It exists so that the keychain is reached without a
// native library: every read and write is asynchronous I/O on this process's event loop, so a bus or
// keyring daemon that never answers costs a timeout, never a frozen or unkillable process (the
// native library connects synchronously, on the calling thread). Spec: the D-Bus Specification,
// "Message Protocol" and "Authentication Protocol".
import { existsSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';

/** A variant: a value together with its D-Bus type. */
export interface Variant {
  type: string;
  value: unknown;
}

/** An error the bus or the called service answered with. */
export class BusError extends Error {
  constructor(
    /** The D-Bus error name, e.g. org.freedesktop.DBus.Error.ServiceUnknown. */
    readonly busName: string,
    message: string,
  ) {
    super(message);
  }
}

/** A call that got no answer in time; the words say how long it waited. */
export class BusTimeout extends Error {}

/** "5 seconds", "1 second", "500 ms": how long a call waited, in words. */
export function waited(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  return `${s} second${s === 1 ? '' : 's'}`;
}

const ALIGN: Record<string, number> = { y: 1, b: 4, n: 2, q: 2, i: 4, u: 4, x: 8, t: 8, d: 8, s: 4, o: 4, g: 1, a: 4, '(': 8, '{': 8, v: 1, h: 4 };
/** Answers larger than this are refused (the spec allows 128 MiB; a keychain entry is kilobytes). */
const MAX_MESSAGE = 16 * 1024 * 1024;

/** The end (exclusive) of the single complete type that starts at `start` in `signature`. */
function typeEnd(signature: string, start: number, depth = 0): number {
  const c = signature[start];
  if (depth > 32) throw new Error(`D-Bus signature "${signature}" nests too deep`);
  if (c === 'a') return typeEnd(signature, start + 1, depth + 1);
  if (c === '(' || (c === '{' && signature[start - 1] === 'a')) {
    const close = c === '(' ? ')' : '}';
    let i = start + 1;
    let fields = 0;
    while (signature[i] !== close) {
      if (i >= signature.length) throw new Error(`bad D-Bus signature "${signature}"`);
      i = typeEnd(signature, i, depth + 1);
      fields++;
    }
    // The spec's rules: no empty structs; a dict entry is a basic key and one value.
    if (fields === 0 || (c === '{' && (fields !== 2 || 'av({'.includes(signature[start + 1] as string)))) {
      throw new Error(`bad D-Bus signature "${signature}"`);
    }
    return i + 1;
  }
  if (c === undefined || !(c in ALIGN) || c === '(' || c === '{') throw new Error(`bad D-Bus signature "${signature}"`);
  return start + 1;
}

/** The complete types of a signature, in order: "sa{sv}" → ["s", "a{sv}"]. */
export function splitSignature(signature: string): string[] {
  const types: string[] = [];
  for (let i = 0; i < signature.length; ) {
    const end = typeEnd(signature, i);
    types.push(signature.slice(i, end));
    i = end;
  }
  return types;
}

/** Writes values in the wire format (little-endian), aligned from the start of the message. */
class Writer {
  #parts: Buffer[] = [];
  length = 0;

  #push(bytes: Buffer): void {
    this.#parts.push(bytes);
    this.length += bytes.length;
  }

  align(n: number): void {
    const pad = (n - (this.length % n)) % n;
    if (pad) this.#push(Buffer.alloc(pad));
  }

  u32(value: number): void {
    this.align(4);
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value >>> 0);
    this.#push(b);
  }

  write(type: string, value: unknown): void {
    const c = type[0];
    switch (c) {
      case 'y':
        this.#push(Buffer.from([Number(value) & 0xff]));
        return;
      case 'b':
        this.u32(value ? 1 : 0);
        return;
      case 'u':
        this.u32(Number(value));
        return;
      case 's':
      case 'o': {
        // The bus drops a connection that sends a NUL inside a string: refuse it here, in words.
        if (String(value).includes('\0')) throw new Error('a text sent to the keyring holds a NUL character');
        const bytes = Buffer.from(String(value), 'utf8');
        this.u32(bytes.length);
        this.#push(Buffer.concat([bytes, Buffer.alloc(1)]));
        return;
      }
      case 'g': {
        const bytes = Buffer.from(String(value), 'ascii');
        this.#push(Buffer.concat([Buffer.from([bytes.length]), bytes, Buffer.alloc(1)]));
        return;
      }
      case 'v': {
        const variant = value as Variant;
        this.write('g', variant.type);
        this.write(variant.type, variant.value);
        return;
      }
      case '(': {
        const fields = splitSignature(type.slice(1, -1));
        const values = value as unknown[];
        this.align(8);
        fields.forEach((field, i) => this.write(field, values[i]));
        return;
      }
      case 'a': {
        const element = type.slice(1);
        this.u32(0);
        const lengthAt = this.#parts.length - 1;
        this.align(ALIGN[element[0] as string] ?? 1);
        const start = this.length;
        if (element === 'y') {
          this.#push(Buffer.from(value as Uint8Array));
        } else if (element[0] === '{') {
          const [keyType, valueType] = splitSignature(element.slice(1, -1)) as [string, string];
          const entries = value instanceof Map ? [...value.entries()] : Object.entries(value as object);
          for (const [k, v] of entries) {
            this.align(8);
            this.write(keyType, k);
            this.write(valueType, v);
          }
        } else {
          for (const item of value as unknown[]) this.write(element, item);
        }
        (this.#parts[lengthAt] as Buffer).writeUInt32LE(this.length - start);
        return;
      }
      default:
        throw new Error(`D-Bus type "${type}" is not supported here`);
    }
  }

  bytes(): Buffer {
    return Buffer.concat(this.#parts);
  }
}

/** Reads values in the wire format from a whole message (either byte order). */
class Reader {
  offset: number;
  #variants = 0;
  constructor(
    readonly buffer: Buffer,
    readonly littleEndian: boolean,
    offset = 0,
  ) {
    this.offset = offset;
  }

  #need(n: number): void {
    if (this.offset + n > this.buffer.length) throw new Error('a D-Bus message ended too soon');
  }

  align(n: number): void {
    this.offset += (n - (this.offset % n)) % n;
  }

  u32(): number {
    this.align(4);
    this.#need(4);
    const v = this.littleEndian ? this.buffer.readUInt32LE(this.offset) : this.buffer.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  read(type: string): unknown {
    const c = type[0];
    switch (c) {
      case 'y':
        this.#need(1);
        return this.buffer[this.offset++];
      case 'b':
        return this.u32() !== 0;
      case 'u':
        return this.u32();
      case 'i':
        return this.u32() | 0;
      case 'n':
      case 'q': {
        this.align(2);
        this.#need(2);
        const v = this.littleEndian ? this.buffer.readUInt16LE(this.offset) : this.buffer.readUInt16BE(this.offset);
        this.offset += 2;
        return c === 'n' ? (v << 16) >> 16 : v;
      }
      case 'x':
      case 't':
      case 'd': {
        this.align(8);
        this.#need(8);
        const at = this.offset;
        this.offset += 8;
        if (c === 'd') return this.littleEndian ? this.buffer.readDoubleLE(at) : this.buffer.readDoubleBE(at);
        const big = this.littleEndian ? this.buffer.readBigUInt64LE(at) : this.buffer.readBigUInt64BE(at);
        return c === 'x' ? BigInt.asIntN(64, big) : big;
      }
      case 'h':
        return this.u32();
      case 's':
      case 'o': {
        const length = this.u32();
        this.#need(length + 1);
        const text = this.buffer.toString('utf8', this.offset, this.offset + length);
        this.offset += length + 1;
        return text;
      }
      case 'g': {
        this.#need(1);
        const length = this.buffer[this.offset++] as number;
        this.#need(length + 1);
        const text = this.buffer.toString('ascii', this.offset, this.offset + length);
        this.offset += length + 1;
        return text;
      }
      case 'v': {
        const inner = this.read('g') as string;
        if (splitSignature(inner).length !== 1) throw new Error('a D-Bus variant holds more than one value');
        if (++this.#variants > 64) throw new Error('D-Bus variants nest too deep');
        try {
          return { type: inner, value: this.read(inner) } satisfies Variant;
        } finally {
          this.#variants--;
        }
      }
      case '(': {
        this.align(8);
        return splitSignature(type.slice(1, -1)).map((field) => this.read(field));
      }
      case 'a': {
        const element = type.slice(1);
        const length = this.u32();
        this.align(ALIGN[element[0] as string] ?? 1);
        this.#need(length);
        const end = this.offset + length;
        if (element === 'y') {
          const bytes = Buffer.from(this.buffer.subarray(this.offset, end));
          this.offset = end;
          return bytes;
        }
        const items: unknown[] = [];
        if (element[0] === '{') {
          const [keyType, valueType] = splitSignature(element.slice(1, -1)) as [string, string];
          while (this.offset < end) {
            this.align(8);
            items.push([this.read(keyType), this.read(valueType)]);
          }
        } else {
          while (this.offset < end) items.push(this.read(element));
        }
        if (this.offset !== end) throw new Error('a D-Bus array is not as long as it says');
        return items;
      }
      default:
        throw new Error(`D-Bus type "${type}" is not supported here`);
    }
  }
}

export const METHOD_CALL = 1;
export const METHOD_RETURN = 2;
export const ERROR = 3;
export const SIGNAL = 4;
/** Header field codes. */
export const FIELD = { path: 1, interface: 2, member: 3, errorName: 4, replySerial: 5, destination: 6, sender: 7, signature: 8 } as const;

export interface Call {
  destination: string;
  path: string;
  interface: string;
  member: string;
  signature?: string;
  body?: unknown[];
  /** The reply's signature, if it is known: a reply of another type is refused, in words. */
  reply?: string;
}

export interface Message {
  type: number;
  serial: number;
  sender?: string;
  path?: string;
  interface?: string;
  member?: string;
  errorName?: string;
  replySerial?: number;
  signature: string;
  body: unknown[];
}

/** Any message in the wire format (little-endian): header fields by code, then the body. */
export function encodeMessage(type: number, serial: number, fields: [number, Variant][], signature = '', body: unknown[] = []): Buffer {
  const content = new Writer();
  splitSignature(signature).forEach((t, i) => content.write(t, body[i]));
  const head = new Writer();
  head.write('y', 'l'.charCodeAt(0));
  head.write('y', type);
  head.write('y', 0);
  head.write('y', 1);
  head.u32(content.length);
  head.u32(serial);
  head.write('a(yv)', signature ? [...fields, [FIELD.signature, { type: 'g', value: signature }]] : fields);
  head.align(8);
  return Buffer.concat([head.bytes(), content.bytes()]);
}

/** A method call in the wire format. */
export function encodeCall(serial: number, call: Call): Buffer {
  const fields: [number, Variant][] = [
    [FIELD.path, { type: 'o', value: call.path }],
    [FIELD.interface, { type: 's', value: call.interface }],
    [FIELD.member, { type: 's', value: call.member }],
    [FIELD.destination, { type: 's', value: call.destination }],
  ];
  return encodeMessage(METHOD_CALL, serial, fields, call.signature ?? '', call.body ?? []);
}

/** The length of the whole message at the start of `buffer`, or undefined if its fixed header has not all arrived. */
export function messageLength(buffer: Buffer): number | undefined {
  if (buffer.length < 16) return undefined;
  const le = buffer[0] === 0x6c;
  if (!le && buffer[0] !== 0x42) throw new Error('the bus sent something that is not a D-Bus message');
  const body = le ? buffer.readUInt32LE(4) : buffer.readUInt32BE(4);
  const fields = le ? buffer.readUInt32LE(12) : buffer.readUInt32BE(12);
  const length = 16 + fields + ((8 - ((16 + fields) % 8)) % 8) + body;
  if (length > MAX_MESSAGE) throw new Error(`the bus sent a message of ${length} bytes, more than this client accepts`);
  return length;
}

/** Decodes one whole message. */
export function decodeMessage(buffer: Buffer): Message {
  const reader = new Reader(buffer, buffer[0] === 0x6c, 1);
  const type = reader.read('y') as number;
  reader.offset = 8;
  const serial = reader.u32();
  const message: Message = { type, serial, signature: '', body: [] };
  for (const [code, variant] of reader.read('a(yv)') as [number, Variant][]) {
    const value = variant.value;
    if (code === FIELD.path) message.path = String(value);
    else if (code === FIELD.interface) message.interface = String(value);
    else if (code === FIELD.member) message.member = String(value);
    else if (code === FIELD.errorName) message.errorName = String(value);
    else if (code === FIELD.replySerial) message.replySerial = Number(value);
    else if (code === FIELD.signature) message.signature = String(value);
    else if (code === FIELD.sender) message.sender = String(value);
  }
  reader.align(8);
  message.body = splitSignature(message.signature).map((t) => reader.read(t));
  return message;
}

/** Where the session bus listens: DBUS_SESSION_BUS_ADDRESS's first unix address, else $XDG_RUNTIME_DIR/bus. */
export function sessionBusPath(env: NodeJS.ProcessEnv = process.env): string {
  const address = env.DBUS_SESSION_BUS_ADDRESS;
  if (address) {
    for (const entry of address.split(';')) {
      const [transport, rest = ''] = entry.split(/:(.*)/s) as [string, string?];
      if (transport !== 'unix') continue;
      const keys = new Map(rest.split(',').map((pair) => pair.split(/=(.*)/s) as [string, string]));
      const value = (key: string) => {
        const raw = keys.get(key);
        return raw === undefined ? undefined : decodeURIComponent(raw);
      };
      const path = value('path');
      if (path) return path;
      const abstract = value('abstract');
      // Linux's abstract socket namespace: Node reaches it with a leading NUL.
      if (abstract) return `\0${abstract}`;
    }
    throw new Error(`the session bus address "${address}" names no Unix socket this client can use`);
  }
  const runtime = env.XDG_RUNTIME_DIR;
  if (runtime && existsSync(`${runtime}/bus`)) return `${runtime}/bus`;
  throw new Error('there is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set)');
}

type Pending = { resolve: (m: Message) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

/**
 * One connection to the session bus. Method calls time out on their own; while none is waiting the
 * socket does not keep the process alive. After any failure the connection is closed for good and
 * every waiting call fails: open a new one.
 */
export class BusConnection {
  #socket: Socket;
  #serial = 0;
  #input: Buffer = Buffer.alloc(0);
  #pending = new Map<number, Pending>();
  #signalListeners = new Set<(message: Message) => void>();
  #holds = 0;
  #closed: Error | undefined;
  #closeListeners = new Set<(reason: Error) => void>();

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    socket.on('error', (error) => this.#close(new Error(`the session bus connection failed (${(error as NodeJS.ErrnoException).code ?? error.message})`)));
    socket.on('close', () => this.#close(new Error('the session bus closed the connection')));
  }

  /**
   * Connects, authenticates as this user (EXTERNAL) and says Hello, all within `timeoutMs`. It does
   * not keep the process alive by itself: a caller that waits for it holds the process (a warm-up
   * that nobody waits for lets the process end).
   */
  static async open(path: string, timeoutMs: number): Promise<BusConnection> {
    const deadline = performance.now() + timeoutMs;
    const socket = createConnection(path);
    socket.unref();
    const timer = setTimeout(() => socket.destroy(new BusTimeout('timeout')), timeoutMs);
    timer.unref();
    try {
      await new Promise<void>((resolve, reject) => {
        let text = '';
        const onData = (chunk: Buffer) => {
          text += chunk.toString('latin1');
          if (!text.includes('\r\n')) {
            // The answer to AUTH is one short line: anything longer is not a bus.
            if (text.length > 1024) reject(new Error('the session bus answered the sign-in with something that is not D-Bus'));
            return;
          }
          socket.off('data', onData);
          if (text.startsWith('OK ')) resolve();
          else reject(new Error(`the session bus refused this user (${text.trim().slice(0, 80)})`));
        };
        socket.on('data', onData);
        socket.once('error', reject);
        socket.once('close', () => reject(new Error('the session bus closed the connection')));
        const uid = Buffer.from(String(process.getuid?.() ?? 0)).toString('hex');
        socket.write(`\0AUTH EXTERNAL ${uid}\r\n`);
      });
    } catch (error) {
      socket.destroy();
      if (error instanceof BusTimeout) throw new BusTimeout(`it did not answer within ${waited(timeoutMs)}`);
      const code = (error as NodeJS.ErrnoException).code;
      throw new Error(code ? `the session bus could not be reached (${code})` : error instanceof Error ? error.message : String(error));
    } finally {
      clearTimeout(timer);
    }
    socket.removeAllListeners('error');
    socket.removeAllListeners('close');
    socket.write('BEGIN\r\n');
    const bus = new BusConnection(socket);
    try {
      const hello = { destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'Hello' };
      await bus.call(hello, Math.max(1, deadline - performance.now()), false);
    } catch (error) {
      bus.close();
      throw error;
    }
    return bus;
  }

  get closed(): boolean {
    return this.#closed !== undefined;
  }

  /** Keeps the process alive while someone waits for the bus (a call, or a signal). */
  hold(): () => void {
    if (this.#holds++ === 0) this.#socket.ref();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.#holds === 0) this.#socket.unref();
    };
  }

  /**
   * Calls a method; resolves with the reply's body, rejects with a BusError, or with a BusTimeout
   * after `timeoutMs`. While it waits it keeps the process alive, unless `hold` is false.
   */
  call(call: Call, timeoutMs: number, hold = true): Promise<unknown[]> {
    if (this.#closed) return Promise.reject(this.#closed);
    const serial = ++this.#serial;
    const release = hold ? this.hold() : () => {};
    return new Promise<Message>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(serial);
        reject(new BusTimeout(`it did not answer within ${waited(timeoutMs)}`));
      }, timeoutMs);
      if (!hold) timer.unref();
      this.#pending.set(serial, { resolve, reject, timer });
      this.#socket.write(encodeCall(serial, call));
    })
      .then((reply) => {
        if (reply.type === ERROR) {
          // The service's own words, cut short: they are quoted to the user.
          const words = typeof reply.body[0] === 'string' ? reply.body[0].slice(0, 200) : (reply.errorName ?? 'error');
          throw new BusError(reply.errorName ?? 'org.freedesktop.DBus.Error.Failed', words);
        }
        if (call.reply !== undefined && reply.signature !== call.reply) {
          throw new Error(`the bus answered ${call.member} with values of type "${reply.signature}", not "${call.reply}"`);
        }
        return reply.body;
      })
      .finally(release);
  }

  /** Hears the connection end, with the reason. Returns a function that stops listening. */
  onClose(listener: (reason: Error) => void): () => void {
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  /** Hears every signal this connection receives (after an AddMatch). Returns a function that stops it. */
  onSignal(listener: (message: Message) => void): () => void {
    this.#signalListeners.add(listener);
    return () => this.#signalListeners.delete(listener);
  }

  close(): void {
    this.#close(new Error('the session bus connection was closed'));
  }

  #receive(chunk: Buffer): void {
    this.#input = this.#input.length ? Buffer.concat([this.#input, chunk]) : chunk;
    try {
      for (;;) {
        const length = messageLength(this.#input);
        if (length === undefined || this.#input.length < length) return;
        const message = decodeMessage(this.#input.subarray(0, length));
        this.#input = this.#input.subarray(length);
        this.#dispatch(message);
      }
    } catch (error) {
      this.#close(error instanceof Error ? error : new Error(String(error)));
    }
  }

  #dispatch(message: Message): void {
    if ((message.type === METHOD_RETURN || message.type === ERROR) && message.replySerial !== undefined) {
      const waiter = this.#pending.get(message.replySerial);
      if (!waiter) return;
      this.#pending.delete(message.replySerial);
      clearTimeout(waiter.timer);
      waiter.resolve(message);
    } else if (message.type === SIGNAL) {
      for (const listener of this.#signalListeners) listener(message);
    }
  }

  #close(reason: Error): void {
    if (this.#closed) return;
    this.#closed = reason;
    this.#socket.destroy();
    for (const [serial, waiter] of this.#pending) {
      this.#pending.delete(serial);
      clearTimeout(waiter.timer);
      waiter.reject(reason);
    }
    for (const listener of this.#closeListeners) listener(reason);
    this.#closeListeners.clear();
  }
}
