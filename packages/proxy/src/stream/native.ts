import { EventEmitter } from 'node:events';
import net from 'node:net';
import { internAddress } from './address.js';
import { CB, KIND, LINK, SLAB, UNLINK, loadNative, type NativeIo } from '@weir/io';

/** What a server connection hears from the native plane (its bytes are framed in C). */
export interface NativeServerSink {
  nativeData(chunk: Buffer, readyCount: number, txStatus: number): void;
  nativeEvent(type: number, body: Buffer): void;
}

/** What a client session hears: release and idle points, the end of its link, an armed client's bytes. */
export interface NativeLinkSink {
  linkIdle(slab: Float64Array): void;
  linkEnded(reason: number, slab: Float64Array): void;
  /** The client was armed (see NativeIo.arm) and sent bytes: they wait in the plane for a link. */
  linkWant(): void;
}

/**
 * A logged-in client's session as its native socket's one listener: bytes and the close go
 * straight to it, with no EventEmitter listeners or closures per idle client.
 */
export interface NativeClientSink extends NativeLinkSink {
  clientData(chunk: Buffer): void;
  /** The connection is gone (`error`: the socket error that ended it, else null). */
  clientClosed(error: string | null): void;
}

// net.Socket's listener types vary per event; these are passed through to an EventEmitter.
type Listener = (...args: any[]) => void;

/**
 * A connection owned by the native plane, with the part of net.Socket's surface the session and
 * the server connection use (write/pause/resume/end/destroy, 'data'/'close'/'error'/'drain').
 * Its addresses are taken from the node:net socket it replaced. Events go through an
 * EventEmitter made on the first listener: a logged-in client's session is its `client` sink
 * and needs none (an EventEmitter costs ~180 bytes per idle client).
 */
export class NativeSocket {
  destroyed = false;
  private events: EventEmitter | null = null;
  /** Set on a server connection: its framed bytes and messages. */
  server: NativeServerSink | null = null;
  /** Set while a client is linked to a server. */
  link: NativeLinkSink | null = null;
  /**
   * Set on a logged-in client: its session, which hears its bytes, its close and `want` (when
   * armed) directly; 'data' and 'close' are then not emitted.
   */
  client: NativeClientSink | null = null;

  constructor(
    readonly plane: NativePlane,
    readonly id: number,
    readonly remoteAddress: string | undefined,
    readonly remotePort: number | undefined,
    readonly localAddress: string | undefined,
    readonly localPort: number | undefined,
  ) {}

  on(event: string, listener: Listener): this {
    (this.events ??= new EventEmitter()).on(event, listener);
    return this;
  }

  once(event: string, listener: Listener): this {
    (this.events ??= new EventEmitter()).once(event, listener);
    return this;
  }

  off(event: string, listener: Listener): this {
    this.events?.off(event, listener);
    return this;
  }

  removeAllListeners(event?: string): this {
    this.events?.removeAllListeners(event);
    return this;
  }

  /** An 'error' nobody listens to is dropped: the 'close' that follows it ends the connection. */
  emit(event: string, ...args: unknown[]): boolean {
    const ee = this.events;
    if (ee === null || (event === 'error' && ee.listenerCount('error') === 0)) return false;
    return ee.emit(event, ...args);
  }

  /** Bytes not yet handed to the kernel (a copy kept by the addon). */
  get writableLength(): number {
    return this.destroyed ? 0 : this.plane.io.queued(this.id);
  }

  write(bytes: Buffer): boolean {
    if (this.destroyed) return true;
    return this.plane.io.write(this.id, bytes);
  }

  end(bytes?: Buffer): void {
    if (this.destroyed) return;
    if (bytes !== undefined) this.plane.io.write(this.id, bytes);
    this.plane.io.end(this.id);
  }

  /** What is queued goes out, then the connection closes (as net.Socket's destroySoon). */
  destroySoon(): void {
    this.end();
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.plane.io.close(this.id);
  }

  pause(): void {
    if (!this.destroyed) this.plane.io.pause(this.id, true);
  }

  resume(): void {
    if (!this.destroyed) this.plane.io.pause(this.id, false);
  }

  setNoDelay(): void {
    // The addon sets TCP_NODELAY when it adopts a connection.
  }

  setKeepAlive(): void {
    // The addon sets keepalive (30 s) when it adopts a connection.
  }

  /** The plane reports the connection gone. */
  closed(error: string | null): void {
    this.destroyed = true;
    const client = this.client;
    if (client !== null) return client.clientClosed(error);
    if (error !== null) this.emit('error', new Error(error));
    this.emit('close', error !== null);
  }
}

/** A connection on either path. */
export type Wire = net.Socket | NativeSocket;

/**
 * Which data path runs: `general.io` (the WEIR_IO environment variable overrides it, so one test
 * suite runs on both paths), and why when the native one was asked for and did not load.
 */
export function choosePlane(configured: 'native' | 'node'): { plane: NativePlane | null; why: string; fellBack: boolean } {
  const env = process.env.WEIR_IO;
  const io = env === 'node' || env === 'native' ? env : configured;
  const from = env === io ? 'WEIR_IO' : 'general.io';
  if (io === 'node') return { plane: null, why: `${from} is node`, fellBack: false };
  const st = NativePlane.load();
  if (st.plane === null) return { plane: null, why: st.why, fellBack: true };
  return { plane: st.plane, why: `${from} is native; ${st.why}`, fellBack: false };
}

export type PlaneStatus = { plane: NativePlane; why: string } | { plane: null; why: string };

/**
 * The process's one native plane: the addon's callbacks routed to the connections' wrappers.
 * The addon keeps global state, so there is one per process, whatever the number of proxies.
 */
export class NativePlane {
  readonly slab = new Float64Array(16);
  private readonly connects = new Map<number, (status: number | string, fd: number) => void>();
  private readonly listeners = new Map<number, (id: number) => void>();
  private nextListener = 1;

  private constructor(readonly io: NativeIo, readonly file: string) {
    const slab = this.slab;
    const cbs: ((...a: never[]) => void)[] = [];
    cbs[CB.accept] = (l: number, id: number) => {
      const on = this.listeners.get(l);
      if (on !== undefined) on(id);
      else io.close(id);
    };
    cbs[CB.connected] = (id: number, status: number | string, fd: number) => {
      const on = this.connects.get(id);
      this.connects.delete(id);
      if (on !== undefined) on(status, fd);
      else if (status === 0) io.close(id);
    };
    cbs[CB.data] = (w: NativeSocket, chunk: Buffer, ready?: number, tx?: number) => {
      if (w.server !== null) w.server.nativeData(chunk, ready!, tx!);
      else if (w.client !== null) w.client.clientData(chunk);
      else w.emit('data', chunk);
    };
    cbs[CB.close] = (w: NativeSocket, error: string | null) => w.closed(error);
    cbs[CB.drain] = (w: NativeSocket) => w.emit('drain');
    cbs[CB.idle] = (w: NativeSocket) => w.link?.linkIdle(slab);
    cbs[CB.unlinked] = (w: NativeSocket, why: number) => {
      const sink = w.link;
      w.link = null;
      sink?.linkEnded(why, slab);
    };
    cbs[CB.event] = (w: NativeSocket, type: number, body: Buffer) => w.server?.nativeEvent(type, body);
    cbs[CB.want] = (w: NativeSocket) => w.client?.linkWant();
    io.init(cbs, slab);
  }

  private static status: PlaneStatus | null = null;

  /** Load the addon once per process: the plane, or why there is none. */
  static load(): PlaneStatus {
    if (NativePlane.status === null) {
      const loaded = loadNative();
      NativePlane.status = loaded.io === null ? { plane: null, why: loaded.reason }
        : { plane: new NativePlane(loaded.io, loaded.file), why: `addon ${loaded.file}` };
    }
    return NativePlane.status;
  }

  /**
   * Listen natively (`reusePort`: SO_REUSEPORT, general.so_reuseport); each accepted connection
   * arrives as its native id (see {@link adoptClient}). close() first accepts what the kernel has
   * queued and returns their ids, then closes the socket in the same call.
   */
  listen(ip: string, port: number, onAccept: (id: number) => void, reusePort = false): { port: number; close(): number[] } {
    const n = this.nextListener++;
    const l = this.io.listen(ip, port, 4096, n, reusePort);
    this.listeners.set(n, onAccept);
    return { port: l.port, close: () => {
      this.listeners.delete(n);
      return this.io.listenClose(l.handle, true);
    } };
  }

  /**
   * An accepted client's connection, read by the plane from the start: it logs in on it (its
   * bytes go to JavaScript until it is linked). Null if the peer is already gone.
   */
  adoptClient(id: number, maxMessage: number): NativeSocket | null {
    const [remoteAddress, remotePort, localAddress, localPort] = this.io.peer(id);
    const wire = new NativeSocket(this, id, internAddress(remoteAddress), remotePort, internAddress(localAddress), localPort);
    if (this.io.adopt(id, wire, KIND.client, maxMessage)) return wire;
    this.io.close(id);
    return null;
  }

  /**
   * A connection leaves the plane for node:net (a client that asked for TLS while logging in):
   * a node:net socket on a duplicate of its descriptor; the plane's handle is closed and reports
   * nothing more. Null if it cannot leave (linked, or writes queued in the plane).
   */
  detach(wire: NativeSocket): net.Socket | null {
    if (wire.destroyed) return null;
    const fd = this.io.detach(wire.id);
    if (fd < 0) return null;
    wire.destroyed = true;
    return new net.Socket({ fd, readable: true, writable: true });
  }

  /** Connect natively: the native id and a duplicate fd for the login. An abort closes the attempt. */
  connect(ip: string, port: number, signal: AbortSignal): Promise<{ id: number; fd: number }> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new Error('aborted'));
      const id = this.io.connect(ip, port);
      const onAbort = () => {
        this.connects.delete(id);
        this.io.close(id);
        reject(new Error('aborted'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.connects.set(id, (status, fd) => {
        signal.removeEventListener('abort', onAbort);
        if (status === 0) resolve({ id, fd });
        else reject(new Error(String(status)));
      });
    });
  }

  /**
   * Hand a logged-in server connection from its node:net socket (a duplicate descriptor) to the
   * plane (clients log in on the plane from the start: {@link adoptClient}):
   * bytes node:net already read come back as `leftover`, the duplicate is closed, and reads go
   * on natively. Null (and the plane's handle closed) when the socket cannot be handed over: TLS,
   * or writes still queued in node:net; it then stays on node:net.
   */
  handOver(id: number, socket: net.Socket, maxMessage: number, detachListeners: () => void): { wire: NativeSocket; leftover: Buffer | null } | null {
    if ('encrypted' in socket || socket.writableLength !== 0 || socket.destroyed) {
      this.io.close(id);
      return null;
    }
    const addr = { remoteAddress: internAddress(socket.remoteAddress), remotePort: socket.remotePort, localAddress: internAddress(socket.localAddress), localPort: socket.localPort };
    socket.pause();
    const parts: Buffer[] = [];
    for (let b = socket.read() as Buffer | null; b !== null; b = socket.read() as Buffer | null) parts.push(b);
    detachListeners();
    socket.removeAllListeners('data');
    socket.on('error', () => {});
    socket.destroy();
    const wire = new NativeSocket(this, id, addr.remoteAddress, addr.remotePort, addr.localAddress, addr.localPort);
    if (!this.io.adopt(id, wire, KIND.server, maxMessage)) {
      // The peer left while logging in: the new socket reports the close, as node:net would have.
      wire.destroyed = true;
      setImmediate(() => wire.closed(null));
    }
    return { wire, leftover: parts.length === 0 ? null : Buffer.concat(parts) };
  }

}

export { LINK, SLAB, UNLINK };
