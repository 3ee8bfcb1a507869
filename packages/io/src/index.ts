import fs from 'node:fs';
import path from 'node:path';

/** The addon's functions (see native/weir_io.c for each one's contract). */
export interface NativeIo {
  init(callbacks: readonly ((...args: never[]) => void)[], slab: Float64Array): void;
  /** `reuseport`: SO_REUSEPORT before bind, so other processes can listen on the same address. */
  listen(ip: string, port: number, backlog: number, id: number, reuseport?: boolean): { handle: unknown; port: number };
  /**
   * Close a listener. `drain`: first accept what is queued (their ids, as the accept callback's,
   * returned), so that closing resets no connection the kernel had completed.
   */
  listenClose(handle: unknown, drain?: boolean): number[];
  /** A TCP socket bound to ip:port (SO_REUSEPORT when asked), not listening: for node:net's server.listen({ fd }). */
  bindSocket(ip: string, port: number, reuseport: boolean): number;
  /**
   * For a listening socket node:net owns: accept, without blocking, every connection queued on
   * it (their fds), then stop it listening in the same call (shutdown SHUT_RD); node:net still closes it.
   */
  stopListening(fd: number): number[];
  connect(ip: string, port: number): number;
  adopt(id: number, wrapper: object, kind: number, maxMessage: number): boolean;
  /**
   * A connection in js mode, not linked, nothing queued (a client asking for TLS while logging
   * in) leaves the plane: a duplicate of its descriptor for node:net, the plane's handle closed
   * with no close callback. -errno if it cannot leave (the connection is then untouched).
   */
  detach(id: number): number;
  /** [remoteAddress, remotePort, localAddress, localPort] of a TCP connection (empty once closed). */
  peer(id: number): [string?, number?, string?, number?];
  write(id: number, bytes: Buffer): boolean;
  end(id: number): void;
  close(id: number): void;
  pause(id: number, paused: boolean): void;
  queued(id: number): number;
  /**
   * `flags`: LINK.txMode (release at idle), LINK.rearm (arm the client when the link releases).
   * `subscribed`: a 32-byte mask of client message types the link stops at (held until the server
   * owes nothing). `watch` > 0: log up to that many answer-ending server message types (linkLog).
   * Bytes the client sent while armed are forwarded by the link.
   */
  link(client: number, server: number, flags: number, pending: number, unsynced: boolean, inTx: boolean, subscribed?: Buffer | null, watch?: number): boolean;
  /**
   * Arm a client with no server: its next bytes are held in the addon and the `want` callback
   * asks for a link, which forwards them. False when the client cannot be armed (linked, closed).
   */
  arm(client: number, on: boolean): boolean;
  /** The bytes an armed client sent, taken back as data (reads go on), or null when none are held. */
  takeHeld(client: number): Buffer | null;
  /** The answer-ending server message types of the last watched link, in order (null: more than it could hold). */
  linkLog(client: number): Buffer | null;
  unlink(client: number): boolean;
  peek(client: number): boolean;
  atBoundary(id: number): boolean;
  /** The framing core alone, for tests: [type, length, …] pairs, or -(index of the chunk that failed) - 1. */
  frames(chunks: readonly Buffer[], maxLength: number): (number[] & { atBoundary: boolean }) | number;
}

/** Callback order for init(). */
export const CB = { accept: 0, connected: 1, data: 2, close: 3, drain: 4, idle: 5, unlinked: 6, event: 7, want: 8 } as const;
/** link() flags. */
export const LINK = { txMode: 1, rearm: 2 } as const;
/** Connection kinds for adopt(). */
export const KIND = { client: 1, server: 2 } as const;
/** Fields of the slab the addon fills before it reports a link's state. */
export const SLAB = {
  released: 0, txStatus: 1, pending: 2, unsynced: 3, bytesIn: 4, bytesOut: 5, queries: 6, parses: 7,
  binds: 8, queryMicros: 9, queryAge: 10, idleAge: 11, txAge: 12, clientAtBoundary: 13,
} as const;
/** Why a link ended (the unlinked callback's second argument). */
export const UNLINK = { terminate: 1, badMessage: 2, closed: 3, subscribed: 4 } as const;

export type Loaded = { io: NativeIo; file: string } | { io: null; reason: string };

const BUILD = path.join(__dirname, '..', 'build');

/**
 * Load the addon: build/weir_io.node, or the sanitizer build when WEIR_IO_ADDON=asan (run node
 * with LD_PRELOAD=$(gcc -print-file-name=libasan.so) then). Never throws: says why it did not load.
 */
export function loadNative(): Loaded {
  const file = path.join(BUILD, process.env.WEIR_IO_ADDON === 'asan' ? 'weir_io.asan.node' : 'weir_io.node');
  if (!fs.existsSync(file)) {
    let reason = 'the native addon was not built';
    try {
      reason = `the native addon was not built: ${(JSON.parse(fs.readFileSync(path.join(BUILD, 'status.json'), 'utf8')) as { reason: string }).reason}`;
    } catch {
      // no status: the build step never ran
    }
    return { io: null, reason };
  }
  try {
    return { io: require(file) as NativeIo, file };
  } catch (e) {
    return { io: null, reason: `the native addon did not load: ${(e as Error).message}` };
  }
}
