import net from 'node:net';
import tls from 'node:tls';
import dns from 'node:dns/promises';
import type { ConnectionId } from '@weir/kernel';
import { WeirError } from '@weir/kernel';
import {
  Framer, Msg, decodeAuthentication, decodeErrorFields, decodeParameterStatus, decodeBackendKeyData,
  startupMessage, passwordMessage, saslInitialResponse, saslResponse, md5Response, ScramClient, terminate,
} from '@weir/protocol';
import { Scanner, interestTable, BODY, type ScanSink } from '../stream/scanner.js';
import { describeCredentials, type ServerCredentials } from './credentials.js';
import { negotiateServerTls, type ServerTls } from './tls.js';
import { NativeSocket, type NativePlane, type NativeServerSink, type Wire } from '../stream/native.js';

/** Where a connection's bytes go while it logs in: the TLS negotiation first, then the connection. */
interface LoginRoute {
  conn: ServerConnection | null;
  pre: ((chunk: Buffer) => void) | null;
}

/** Whoever holds a server connection right now (a client session) gets its bytes. */
export interface ServerOwner {
  onServerData(chunk: Buffer, readyCount: number): void;
  onServerClosed(error: Error): void;
}

export interface ServerAddress {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
}

const SERVER_INTEREST = interestTable({ [Msg.ReadyForQuery]: BODY, [Msg.ParameterStatus]: BODY, [Msg.ErrorResponse]: BODY });
const MAX_SERVER_MESSAGE = 1 << 30;
const READ_BUFFER = 32 * 1024;

/** A logged-in connection to PostgreSQL. Its bytes go to its owner; alone, it only watches for being killed. */
export class ServerConnection implements ScanSink, NativeServerSink {
  backendPid = 0;
  backendSecret = 0;
  /** Reported parameter values (ParameterStatus), kept current. */
  readonly params = new Map<string, string>();
  /** Unreported parameters weir SET on this connection for its current client (see paramSyncQuery). */
  readonly applied = new Map<string, string>();
  /** Transaction status from the last ReadyForQuery. */
  txStatus = 73; // 'I'
  owner: ServerOwner | null = null;
  broken = false;
  /** Coarse time it last went back to its pool (0: never leased); for server_check_delay. */
  releasedAt = 0;
  /** The server sent a FATAL (or PANIC) ErrorResponse: it is ending the connection. */
  fatalSeen = false;
  /** Closed by us, or its end already handled. */
  private ended = false;
  closeReason = '';
  /** Set by whoever last synced client parameters onto this server. */
  paramsSyncedFor: object | null = null;
  paramsSyncedVersion = -1;
  /** Bumped on every ParameterStatus after login: tells a session its parameters may need syncing. */
  paramsVersion = 0;
  /** The last ErrorResponse seen (code and message), for answers the proxy consumes itself. */
  lastError: { code: string; message: string } | null = null;
  /** While a watched native link runs: the SQLSTATE of each ErrorResponse, in order (for the framed path's plan). */
  errorLog: string[] | null = null;
  private readyCount = 0;
  private buf = Buffer.allocUnsafe(READ_BUFFER);
  private retained = false;
  private loginSink: ((chunk: Buffer) => void) | null = null;
  /** Set by the connector: tells the pool an idle connection broke. */
  reportIdleBroken: ((error: unknown) => void) | undefined = undefined;
  private readonly scanner: Scanner;

  private constructor(
    readonly id: ConnectionId,
    /** node:net, or (native path, after login) the plane's. */
    public socket: Wire,
    readonly address: ServerAddress,
  ) {
    this.scanner = new Scanner(SERVER_INTEREST, this, MAX_SERVER_MESSAGE);
  }

  static async open(
    id: ConnectionId, address: ServerAddress, creds: ServerCredentials, signal: AbortSignal,
    extraParams?: Record<string, string>, tlsOpts?: ServerTls | null, plane?: NativePlane | null,
  ): Promise<ServerConnection> {
    if (plane != null) return ServerConnection.openNative(plane, id, address, creds, signal, extraParams, tlsOpts);
    // Reads land in the connection's own buffer (no allocation per read); see readBuffer().
    // Over TLS the TLS socket reads instead, and its chunks come as 'data' events.
    const route: LoginRoute = { conn: null, pre: null };
    const first = Buffer.allocUnsafe(READ_BUFFER);
    const socket = net.connect({
      host: address.host,
      port: address.port,
      onread: {
        buffer: () => (route.conn === null ? first : route.conn.readBuffer()),
        callback: (n: number, buf: Uint8Array) => {
          if (route.conn !== null) return route.conn.onRead(n, buf as Buffer);
          route.pre?.(Buffer.from(buf.subarray(0, n)));
          return true;
        },
      },
    });
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 30_000);
    return ServerConnection.loginOver(socket, route, id, address, creds, signal, extraParams, tlsOpts);
  }

  /** TLS as the mode says, then the login, over `socket`; `route` tells its reader where the bytes go. */
  private static async loginOver(
    socket: net.Socket, route: LoginRoute, id: ConnectionId, address: ServerAddress, creds: ServerCredentials, signal: AbortSignal,
    extraParams?: Record<string, string>, tlsOpts?: ServerTls | null,
  ): Promise<ServerConnection> {
    let wire: net.Socket = socket;
    if (tlsOpts != null && tlsOpts.mode !== 'disable' && tlsOpts.mode !== 'allow') {
      wire = (await negotiateServerTls(socket, tlsOpts, address, signal, (fn) => { route.pre = fn; })) ?? socket;
    }
    const c = new ServerConnection(id, wire, address);
    route.conn = c;
    if (wire !== socket) wire.on('data', (chunk: Buffer) => c.onChunk(chunk));
    await c.login(creds, signal, extraParams);
    return c;
  }

  /**
   * Native path: the plane connects; the login (and a TLS negotiation) runs on node:net over a
   * duplicate of the descriptor, then the plane takes the connection over. Over TLS it stays on
   * node:net.
   */
  private static async openNative(
    plane: NativePlane, id: ConnectionId, address: ServerAddress, creds: ServerCredentials, signal: AbortSignal,
    extraParams?: Record<string, string>, tlsOpts?: ServerTls | null,
  ): Promise<ServerConnection> {
    let native: { id: number; fd: number };
    try {
      const ip = net.isIP(address.host) ? address.host : (await dns.lookup(address.host)).address;
      native = await plane.connect(ip, address.port, signal);
    } catch (e) {
      if (signal.aborted) throw new WeirError('WEIR_E_CONNECT_TIMEOUT', `connecting to server ${address.host}:${address.port} as "${address.user}" timed out`, { ...address });
      throw new WeirError('WEIR_E_SERVER_CONNECT', `cannot reach server ${address.host}:${address.port}: ${(e as Error).message}`, { ...address }, { cause: e });
    }
    const socket = new net.Socket({ fd: native.fd, readable: true, writable: true });
    const route: LoginRoute = { conn: null, pre: null };
    socket.on('data', (chunk: Buffer) => (route.conn !== null ? route.conn.onChunk(chunk) : route.pre?.(chunk)));
    let c: ServerConnection;
    try {
      c = await ServerConnection.loginOver(socket, route, id, address, creds, signal, extraParams, tlsOpts);
    } catch (e) {
      plane.io.close(native.id);
      socket.destroy();
      throw e;
    }
    const wire = c.socket as net.Socket;
    const taken = plane.handOver(native.id, wire, MAX_SERVER_MESSAGE, () => {
      wire.removeAllListeners('error');
      wire.removeAllListeners('close');
    });
    if (taken === null) return c; // over TLS: node:net carries it
    if (taken.leftover !== null) {
      taken.wire.destroy();
      throw c.authError('sent data after ReadyForQuery during login');
    }
    c.socket = taken.wire;
    taken.wire.server = c;
    taken.wire.on('error', (e: Error) => c.onBroken(e.message));
    taken.wire.on('close', () => c.onBroken('server closed the connection'));
    return c;
  }

  /** NativeServerSink: framed in C; `readyCount` ReadyForQuery messages ended in this chunk. */
  nativeData(chunk: Buffer, readyCount: number, txStatus: number): void {
    this.txStatus = txStatus;
    const owner = this.owner;
    if (owner !== null) owner.onServerData(chunk, readyCount);
  }

  /** NativeServerSink: a ParameterStatus or ErrorResponse (its body), before the bytes that carry it. */
  nativeEvent(type: number, body: Buffer): void {
    this.onMessage(type, body, 0, body.length);
  }

  /** Over TLS: is the connection encrypted (for SHOW SERVERS)? */
  get encrypted(): boolean {
    return this.socket instanceof tls.TLSSocket;
  }

  private login(creds: ServerCredentials, signal: AbortSignal, extraParams?: Record<string, string>): Promise<void> {
    const { socket, address } = this;
    const framer = new Framer(1 << 24);
    let scram: ScramClient | null = null;
    return new Promise<void>((resolve, reject) => {
      const fail = (err: Error) => {
        cleanup();
        socket.destroy();
        reject(err);
      };
      const onAbort = () => fail(new WeirError('WEIR_E_CONNECT_TIMEOUT',
        `connecting to server ${address.host}:${address.port} as "${address.user}" timed out`, { ...address }));
      const onError = (e: Error) => fail(new WeirError('WEIR_E_SERVER_CONNECT',
        `cannot reach server ${address.host}:${address.port}: ${e.message}`, { ...address }, { cause: e }));
      const onClose = () => fail(new WeirError('WEIR_E_SERVER_CONNECT',
        `server ${address.host}:${address.port} closed the connection during login`, { ...address }));
      const cleanup = () => {
        signal.removeEventListener('abort', onAbort);
        socket.off('error', onError);
        socket.off('close', onClose);
        this.loginSink = null;
      };
      const onData = (chunk: Buffer) => {
        try {
          framer.push(chunk);
          while (framer.next()) {
            const { type, buffer, bodyStart, end } = framer;
            if (type === Msg.Authentication) {
              const auth = decodeAuthentication(buffer, bodyStart, end);
              if (auth.code === 0) continue;
              if (auth.code === 3) {
                if (creds.kind !== 'password') throw this.authError(`asked for a cleartext password but weir has ${describeCredentials(creds)}`);
                socket.write(passwordMessage(creds.password));
              } else if (auth.code === 5) {
                if (creds.kind === 'password') socket.write(passwordMessage(md5Response(creds.password, address.user, auth.salt!)));
                else if (creds.kind === 'md5') socket.write(passwordMessage(md5Response(creds.hash, address.user, auth.salt!)));
                else throw this.authError(`asked for md5 but weir has ${describeCredentials(creds)}`);
              } else if (auth.code === 10) {
                if (!auth.mechanisms?.includes('SCRAM-SHA-256')) throw this.authError(`offers only SASL mechanisms ${auth.mechanisms?.join(', ')}`);
                if (creds.kind === 'password') scram = new ScramClient(address.user, { password: creds.password });
                else if (creds.kind === 'scram-keys') scram = new ScramClient(address.user, { clientKey: creds.clientKey, serverKey: creds.serverKey });
                else throw this.authError(`asked for SCRAM-SHA-256 but weir has ${describeCredentials(creds)}` +
                  (creds.kind === 'md5' ? '; store a SCRAM verifier or a password for this user, or set server_password' : ''));
                socket.write(saslInitialResponse('SCRAM-SHA-256', scram.clientFirst()));
              } else if (auth.code === 11) {
                if (!scram) throw this.authError('sent SASLContinue out of order');
                socket.write(saslResponse(scram.handleServerFirst(auth.data!)));
              } else if (auth.code === 12) {
                if (!scram) throw this.authError('sent SASLFinal out of order');
                scram.verifyServerFinal(auth.data!);
              } else {
                throw this.authError(`asked for an unsupported authentication method (code ${auth.code})`);
              }
            } else if (type === Msg.ParameterStatus) {
              const p = decodeParameterStatus(buffer, bodyStart, end);
              this.params.set(p.name, p.value);
            } else if (type === Msg.BackendKeyData) {
              const k = decodeBackendKeyData(buffer, bodyStart, end);
              this.backendPid = k.pid;
              this.backendSecret = k.secret;
            } else if (type === Msg.ErrorResponse) {
              const f = decodeErrorFields(buffer, bodyStart, end);
              throw new WeirError('WEIR_E_SERVER_LOGIN',
                `server ${address.host}:${address.port} refused login of "${address.user}" to "${address.database}": ${f.message}`,
                { ...address, sqlstate: f.code, serverMessage: f.message });
            } else if (type === Msg.ReadyForQuery) {
              if (framer.pendingBytes() > 0) throw this.authError('sent data after ReadyForQuery during login');
              cleanup();

              socket.on('error', (e: Error) => this.onBroken(e.message));
              socket.on('close', () => this.onBroken('server closed the connection'));
              resolve();
              return;
            }
            // NoticeResponse and others during login are ignored.
          }
        } catch (e) {
          fail(e as Error);
        }
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      socket.on('error', onError);
      socket.on('close', onClose);
      this.loginSink = onData;
      socket.write(startupMessage({ user: address.user, database: address.database, ...extraParams }));
    });
  }

  private authError(what: string): WeirError {
    const a = this.address;
    return new WeirError('WEIR_E_SERVER_AUTH', `server ${a.host}:${a.port} ${what} (user "${a.user}", database "${a.database}")`, { ...a });
  }

  // ---- data path ----

  readBuffer(): Buffer {
    if (this.retained) {
      this.buf = Buffer.allocUnsafe(READ_BUFFER);
      this.retained = false;
    }
    return this.buf;
  }

  /**
   * Whoever keeps a reference to the chunk it was handed past the call (a write the socket
   * could not finish at once, a framer holding a partial message) says so: the next read
   * then goes to a fresh buffer.
   */
  retain(): void {
    this.retained = true;
  }

  private onRead(n: number, buf: Buffer): boolean {
    this.onChunk(buf.subarray(0, n));
    return true;
  }

  private onChunk(chunk: Buffer): void {
    const login = this.loginSink;
    if (login !== null) {
      this.retained = true;
      login(chunk);
    } else {
      this.onData(chunk);
    }
  }

  private onData(chunk: Buffer): void {
    this.readyCount = 0;
    try {
      this.scanner.scan(chunk);
    } catch (e) {
      this.onBroken(`server sent a malformed message: ${(e as Error).message}`);
      return;
    }
    const owner = this.owner;
    if (owner !== null) owner.onServerData(chunk, this.readyCount);
  }

  onMessage(type: number, body: Buffer, start: number, end: number): void {
    if (type === Msg.ReadyForQuery) {
      this.txStatus = body[start];
      this.readyCount++;
    } else if (type === Msg.ParameterStatus) {
      const p = decodeParameterStatus(body, start, end);
      this.params.set(p.name, p.value);
      this.paramsVersion++;
    } else if (type === Msg.ErrorResponse) {
      const f = decodeErrorFields(body, start, end);
      this.lastError = { code: f.code, message: f.message };
      this.errorLog?.push(f.code);
      if (f.severity === 'FATAL' || f.severity === 'PANIC') {
        this.broken = true;
        this.fatalSeen = true;
        this.closeReason = `server error ${f.code}: ${f.message}`;
      }
    }
  }

  private onBroken(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    this.broken = true;
    if (!this.closeReason) this.closeReason = reason;
    this.socket.destroy();
    const owner = this.owner;
    if (owner === null) {
      // Idle in its pool: have the pool drop it now (drop hook, SHOW SERVERS), not at the next checkout.
      this.reportIdleBroken?.(new WeirError('WEIR_E_SERVER_LOST', `idle server connection ${this.id} closed: ${this.closeReason}`));
    } else {
      this.owner = null;
      owner.onServerClosed(new WeirError('WEIR_E_SERVER_LOST', `lost server connection ${this.id} (${this.address.host}:${this.address.port}): ${this.closeReason}`));
    }
  }

  atBoundary(): boolean {
    const s = this.socket;
    return s instanceof NativeSocket ? s.plane.io.atBoundary(s.id) : this.scanner.atBoundary();
  }

  write(chunk: Buffer): boolean {
    return this.socket.write(chunk);
  }

  close(): void {
    this.ended = true;
    if (!this.socket.destroyed) {
      if (!this.broken) this.socket.end(terminate());
      this.socket.destroySoon();
    }
    this.broken = true;
  }
}
