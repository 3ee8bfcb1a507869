import net from 'node:net';
import tls from 'node:tls';
import type { Lease, Pool } from '@weir/kernel';
import { WeirError } from '@weir/kernel';
import {
  Msg, decodeStartup, decodeQuery, authenticationOk, negotiateProtocolVersion, parameterStatus, backendKeyData, readyForQuery, query, terminate, ProtocolError,
} from '@weir/protocol';
import { Scanner, interestTable, NOTIFY, type ScanSink } from '../stream/scanner.js';
import { internAddress } from '../stream/address.js';
import type { ServerConnection, ServerOwner } from '../server/connection.js';
import { EXCLUDED_STARTUP_PARAMS, internParams, paramSyncQuery } from '../server/params.js';
import { PoolCounters } from '../stats.js';
import { sendCancel } from '../server/cancel.js';
import { MessageReader } from './reader.js';
import { randomInt32 } from '../random.js';
import { authenticateClient, AuthFailed } from './auth.js';

type LoginOutcome = Awaited<ReturnType<typeof authenticateClient>>;
import { OptionsError, parseOptions } from './options.js';
import { fatal, error, SqlState } from './errors.js';
import type { SessionHost, LoginTarget, SessionTimeouts } from './host.js';
import type { PoolMode } from '../config/schema.js';
import { HandOff, Interceptor, type InterceptIO } from '../intercept/interceptor.js';
import { messageHookFailed } from '../intercept/hooks.js';
import { LINK, NativeSocket, SLAB, UNLINK, type NativeClientSink, type Wire } from '../stream/native.js';

export const ADMIN_DATABASE = 'weir';
/** Database names that reach the admin console (`pgbouncer` too, for PgBouncer's tools and habits). */
export const ADMIN_DATABASES: ReadonlySet<string> = new Set([ADMIN_DATABASE, 'pgbouncer']);
export const MAX_CLIENT_MESSAGE = 1 << 26;
const MAX_STARTUP = 10_000;
/** Bytes a client may send while it waits for a server before it is no longer read. */
const MAX_QUEUED = 1 << 20;
const IDLE = 73; // 'I'
const SSL_NO = Buffer.from('N');
const SSL_YES = Buffer.from('S');

const CLIENT_INTEREST = interestTable({
  [Msg.Query]: NOTIFY, [Msg.FunctionCall]: NOTIFY, [Msg.Sync]: NOTIFY, [Msg.Terminate]: NOTIFY,
  [Msg.Parse]: NOTIFY, [Msg.Bind]: NOTIFY, [Msg.Describe]: NOTIFY, [Msg.Execute]: NOTIFY,
  [Msg.Close]: NOTIFY, [Msg.Flush]: NOTIFY,
});

/** Parameters tracked per client and applied to whichever server it lands on. */
const TRACKED = ['client_encoding', 'DateStyle', 'TimeZone', 'IntervalStyle', 'standard_conforming_strings', 'application_name'];
/** A client's parameters before login fills them. */
const NO_PARAMS: ReadonlyMap<string, string> = new Map();
/** An empty message queue, shared by every session with nothing queued (frozen: a push throws). */
const NO_CHUNKS = Object.freeze([]) as unknown as Buffer[];

const AUTH_OK = authenticationOk();
const READY_IDLE = readyForQuery('I');

/** ParameterStatus messages of a pool's greeting, encoded once per greeting map. */
const welcomeCache = new WeakMap<ReadonlyMap<string, string>, Map<string, Buffer>>();
function encodedWelcome(welcome: ReadonlyMap<string, string>): Map<string, Buffer> {
  let m = welcomeCache.get(welcome);
  if (m === undefined) {
    m = new Map([...welcome].map(([k, v]) => [k, parameterStatus(k, v)]));
    welcomeCache.set(welcome, m);
  }
  return m;
}

/**
 * Is part of what was written still waiting to go out? Either in the stream's buffer, or in
 * libuv's queue after a partial write (which references the caller's memory, not a copy). A
 * write libuv queues completes later, and the stream counts its bytes in `writableLength` until
 * then, so the public count covers both; a destroyed socket is counted as holding them.
 */
function stillQueued(socket: Wire): boolean {
  // The addon copies what it cannot write at once: the chunk is free when write returns.
  if (socket instanceof NativeSocket) return false;
  return socket.writableLength !== 0 || socket.destroyed;
}

export type SessionState = 'login' | 'idle' | 'waiting' | 'active' | 'closed';

/** One client connection: login, then the forwarding data path (transaction or session pooling). */
export class ClientSession implements ScanSink, ServerOwner, InterceptIO, NativeClientSink {
  /** The cancel key (BackendKeyData): both fields random, the pid unique among live sessions. */
  readonly pid: number;
  readonly secret = randomInt32();
  readonly connectedAt = Date.now();
  user = '';
  database = '';
  isAdmin = false;
  mode: PoolMode = 'transaction';
  pool: Pool<ServerConnection> | null = null;
  /** Parameters this client expects on its server (shared by clients that expect the same: see internParams). */
  params: ReadonlyMap<string, string> = NO_PARAMS;
  server: ServerConnection | null = null;
  private lease: Lease<ServerConnection> | null = null;
  private counters = new PoolCounters();
  /** Frames the client's bytes that reach JavaScript; made on first use (an armed native client may never need one). */
  private scanner: Scanner | null = null;
  /** Client messages waiting for a server; NO_CHUNKS (shared, never written) while empty. */
  private queue: Buffer[] = NO_CHUNKS;
  private queuedBytes = 0;
  private queuePaused = false;
  private acquiring = false;
  private hidden = false;      // a parameter-sync query of ours is running on the server
  private pending = 0;         // sync points sent whose ReadyForQuery has not come back
  private unsynced = false;    // extended-protocol messages sent since the last Sync
  private terminateAt = -1;
  private closed = false;
  /** The client sent Terminate with work still owed by (or queued for) a server: it finishes first. */
  private draining = false;
  /** The client's socket is gone while draining: answers are dropped, the work still completes. */
  private peerGone = false;
  /**
   * Draining: the client's Terminate went on to its server, which runs what came before it and
   * exits (as it would without weir); its connection is dropped when it closes, never reused.
   * Counting answers cannot tell when such a server is done: after an error in an extended-
   * protocol run it skips to the next Sync, and in COPY IN it waits for data that never comes.
   */
  private retiring = false;
  private waitStart = 0;
  private pausedServer: ServerConnection | null = null;
  private loginTimer: NodeJS.Timeout | null = null;
  /** The login / admin phase reader; failed on close so a pending read never hangs. */
  private reader: MessageReader | null = null;
  /** Framed path through plugin message hooks (transaction pooling with e.g. prepared statements); null = plain forwarding. */
  private interceptor: Interceptor | null = null;
  private intercepting = false;
  /** How the client logged in: what {@link repool} resolves its pool with again. Null until then. */
  private outcome: LoginOutcome | null = null;
  private repools = 0;
  /**
   * Times on the host's coarse clock for the timeouts ({@link expire}); -1 = not now. Plain
   * field writes on the data path: no timer per session, no clock read per message.
   */
  private idleSince = -1;   // the client owes nothing and sent nothing since
  private querySince = -1;  // a query run went out and is not answered yet
  private txSince = -1;     // a transaction (an implicit one included) is open
  private cancelSent = false;
  private adminReady = false;
  /** server_check_query is running on the server just attached. */
  private checking = false;
  /** performance.now() when the current lease / query run began (SHOW STATS xact_time, query_time). */
  private leaseAt = 0;
  private queryAt = 0;
  /** Client and server are linked in the native plane: their bytes move in C until a release point. */
  private linked = false;
  /** A link ended with the client in the middle of a message: its server cannot be reused. */
  private cutMidMessage = false;
  /** The client's socket: node:net during login, then (native path) the addon's. */
  socket: Wire;

  /**
   * `socket`: node:net's (the node path, the unix socket), or the native plane's, which the
   * client logs in on and stays on (the session is its one listener); one that asks for TLS
   * moves to node:net for it.
   */
  constructor(socket: Wire, private readonly host: SessionHost) {
    this.socket = socket;
    this.remoteAddress = internAddress(socket.remoteAddress);
    this.remotePort = socket.remotePort ?? 0;
    if (socket instanceof NativeSocket) {
      socket.client = this;
    } else {
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 30_000);
      this.listenTo(socket);
    }
    this.pid = host.drawPid();
    host.register(this);
    void this.login();
  }

  /** The session's error and close listeners on a node:net socket. */
  private listenTo(socket: net.Socket): void {
    socket.on('error', (e: Error) => this.clientGone(`client socket error: ${e.message}`));
    socket.on('close', () => this.clientGone('client closed the connection'));
  }

  /** How long this client has waited for a server so far (0 when it is not waiting). */
  get waitingMs(): number {
    return this.acquiring && this.waitStart > 0 ? performance.now() - this.waitStart : 0;
  }

  /** Taken at connect, so they stay right after close (interned: idle clients share the string). */
  private readonly remoteAddress: string | undefined;
  private readonly remotePort: number;

  /** The client's address (for logs and SHOW CLIENTS). */
  get remote(): string {
    return this.remoteAddress === undefined ? 'unix' : `${this.remoteAddress}:${this.remotePort}`;
  }

  get state(): SessionState {
    if (this.closed) return 'closed';
    if (this.isAdmin) return this.adminReady ? 'active' : 'login';
    if (this.pool === null) return 'login';
    if (this.server !== null) return 'active';
    return this.acquiring ? 'waiting' : 'idle';
  }

  // ---------------------------------------------------------------- login

  private async login(): Promise<void> {
    const general = this.host.general();
    if (general.client_login_timeout > 0) {
      this.loginTimer = setTimeout(() => this.reject(SqlState.ProtocolViolation, 'login timeout: the client did not finish logging in'), general.client_login_timeout);
      this.loginTimer.unref();
    }
    // The native plane's socket reports to the session, which feeds the reader (clientData).
    const reader = new MessageReader(this.socket instanceof NativeSocket ? null : this.socket, MAX_STARTUP);
    this.reader = reader;
    try {
      const params = await this.readStartup(reader);
      if (params === null) return;
      this.user = params.user ?? '';
      this.database = params.database || this.user;
      if (!this.user) return this.reject(SqlState.InvalidAuthorization, 'no PostgreSQL user name specified in startup packet');
      if (this.host.refusingLogins) return this.reject(SqlState.CannotConnectNow, 'weir is shutting down');
      if (ADMIN_DATABASES.has(this.database)) return await this.adminLogin(reader);

      const target = await this.host.findLogin(this.database, this.user);
      if ('sqlstate' in target) return this.reject(target.sqlstate, target.message);
      const outcome = await authenticateClient(this.socket, reader, this.user, target.secret, target.mock);
      if (this.closed) return;
      // As PostgreSQL: `options` is read after authentication, and startup keys win over it.
      let startup = params;
      if (params.options !== undefined) {
        try {
          startup = { ...Object.fromEntries(parseOptions(params.options)), ...params };
        } catch (e) {
          if (!(e instanceof OptionsError)) throw e;
          return this.reject(e.sqlstate, e.message);
        }
      }
      await this.enterPool(target, outcome, startup, reader);
    } catch (e) {
      this.loginFailed(e);
    }
  }

  private async readStartup(reader: MessageReader): Promise<Record<string, string> | null> {
    for (;;) {
      let m;
      try {
        m = await reader.next(false);
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code !== 'WEIR_E_PROTO_BAD_LENGTH' && code !== 'WEIR_E_PROTO_TOO_LARGE') throw e;
        // As PostgreSQL: a first packet that cannot be framed is not a client speaking the
        // protocol (node-postgres sends Terminate when an app gives up connecting): close, no answer.
        this.host.noteRepeated('client sent an invalid startup packet: connection closed', { client: this.remote, error: (e as Error).message });
        this.socket.destroy();
        this.close(`invalid startup packet: ${(e as Error).message}`);
        return null;
      }
      const packet = decodeStartup(m.buffer, m.start, m.end);
      if (packet.kind === 'startup') {
        const mode = this.host.general().client_tls_sslmode;
        if ((mode === 'require' || mode === 'verify-ca' || mode === 'verify-full') && !(this.socket instanceof tls.TLSSocket) &&
            this.socket.remoteAddress !== undefined) {
          this.reject(SqlState.InvalidAuthorization, `weir accepts only TLS connections (client_tls_sslmode ${mode}): connect with sslmode=require`,
            { user: packet.params.user });
          return null;
        }
        if ((mode === 'verify-ca' || mode === 'verify-full') && this.socket instanceof tls.TLSSocket && !this.socket.authorized) {
          // A TLSSocket made by hand does not refuse an unverified peer itself.
          this.reject(SqlState.InvalidAuthorization, 'connection requires a valid client certificate',
            { user: packet.params.user, client_tls_sslmode: mode, why: String(this.socket.authorizationError ?? 'no certificate') });
          return null;
        }
        if (mode === 'verify-full' && this.socket instanceof tls.TLSSocket) {
          const cn = this.socket.getPeerCertificate()?.subject?.CN;
          if (cn !== packet.params.user) {
            this.reject(SqlState.InvalidAuthorization, `certificate authentication failed for user "${packet.params.user ?? ''}"`,
              { user: packet.params.user, certificate_cn: cn });
            return null;
          }
        }
        const options = Object.keys(packet.params).filter((k) => k.startsWith('_pq_.'));
        if (packet.minor > 0 || options.length > 0) {
          // We speak 3.0: tell a newer client so, and which protocol options we ignore.
          this.socket.write(negotiateProtocolVersion(0, options));
          for (const k of options) delete packet.params[k];
        }
        return packet.params;
      }
      if (packet.kind === 'cancel') {
        this.host.cancel(packet.pid, packet.secret, this.socket.remoteAddress ?? 'unix');
        this.close('cancel request handled');
        return null;
      }
      if (packet.kind === 'ssl' || packet.kind === 'gssenc') {
        // The answer to an encryption request must be read before anything else is sent: bytes
        // already buffered behind it were sent in plaintext and must never pass as encrypted
        // (the CVE-2021-3935 class), nor be read as the startup of a connection that is now TLS.
        if (reader.pendingBytes() > 0) {
          this.reject(SqlState.ProtocolViolation, 'received unencrypted data after SSL request', { bytes: reader.pendingBytes() }, true);
          return null;
        }
      }
      if (packet.kind === 'ssl') {
        const clientTls = this.host.clientTls();
        // As PostgreSQL: no TLS over a unix socket.
        if (clientTls === null || this.socket.remoteAddress === undefined) {
          this.socket.write(SSL_NO);
          continue;
        }
        const raw = this.plainForTls(reader);
        if (raw === null) return null;
        raw.write(SSL_YES);
        let secure: tls.TLSSocket;
        try {
          secure = await clientTls.upgrade(raw);
        } catch (e) {
          this.host.noteRepeated('client TLS handshake failed', { client: this.remote, error: (e as Error).message });
          this.socket.destroy();
          this.close(`TLS handshake failed: ${(e as Error).message}`);
          return null;
        }
        if (this.closed) return null;
        secure.on('error', (e) => this.close(`TLS error: ${e.message}`));
        secure.on('close', () => this.close('client closed the connection'));
        reader.rebind(secure);
        this.socket = secure;
        continue;
      }
      this.socket.write(SSL_NO); // GSSENCRequest: not offered
    }
  }

  /**
   * The node:net socket a TLS handshake runs on. A native connection leaves the plane for it (its
   * descriptor is handed over; nothing was read past the SSLRequest, checked above). Null when it
   * could not (the client is then told and closed).
   */
  private plainForTls(reader: MessageReader): net.Socket | null {
    const wire = this.socket;
    if (!(wire instanceof NativeSocket)) return wire as net.Socket;
    const moved = wire.plane.detach(wire);
    if (moved === null) {
      this.close('client connection could not be moved to node:net for TLS');
      return null;
    }
    wire.client = null;
    this.socket = moved;
    this.listenTo(moved);
    reader.rebind(moved);
    return moved;
  }

  private async enterPool(target: LoginTarget, outcome: LoginOutcome, startup: Record<string, string>, reader: MessageReader): Promise<void> {
    const pool = await target.pool(outcome);
    this.outcome = outcome;
    const welcome = await this.host.welcome(pool);
    if (this.closed) return;
    this.mode = target.mode;
    this.counters = this.host.counters(pool);
    const params = new Map<string, string>();
    for (const name of TRACKED) {
      const v = welcome.get(name);
      if (v !== undefined) params.set(name, v);
    }
    for (const [k, v] of Object.entries(startup)) if (!EXCLUDED_STARTUP_PARAMS.has(k)) params.set(k, v);
    this.params = internParams(params);
    // AuthenticationOk goes out with the greeting: one write per login, not two.
    const out: Buffer[] = [AUTH_OK];
    const encoded = encodedWelcome(welcome);
    for (const [k, b] of encoded) if (!this.params.has(k)) out.push(b);
    for (const [k, v] of this.params) out.push(welcome.get(k) === v ? encoded.get(k)! : parameterStatus(k, v));
    out.push(backendKeyData(this.pid, this.secret), readyForQuery('I'));
    this.pool = pool;
    // The framed path is made on the first transaction: idle clients do not pay for it.
    this.intercepting = this.mode === 'transaction' && this.host.messageHooks().active;
    this.finishLogin();
    this.logConnected();
    const leftover = reader.detach();
    this.reader = null;
    this.socket.write(Buffer.concat(out));
    if (!(this.socket instanceof NativeSocket)) this.socket.on('data', (chunk: Buffer) => this.onClientData(chunk));
    if (this.mode === 'session') this.acquire();
    if (leftover) this.onClientData(leftover);
    else this.arm();
  }

  /** log_connections: one info line per login that succeeded. */
  private logConnected(): void {
    if (!this.host.general().log_connections) return;
    this.host.logger.info({ client: this.remote, user: this.user, database: this.database, tls: this.socket instanceof tls.TLSSocket },
      `client connected: ${this.user}@${this.database} from ${this.remote}`);
  }

  private finishLogin(): void {
    if (this.loginTimer) clearTimeout(this.loginTimer);
    this.loginTimer = null;
    this.idleSince = this.host.coarseNow;
    this.host.loggedIn(this);
  }

  private loginFailed(e: unknown): void {
    if (this.closed) return;
    if (e instanceof AuthFailed) return this.reject(SqlState.InvalidPassword, e.message, { why: e.details.why });
    const err = e as Error & { code?: string; details?: Record<string, unknown> };
    if (err.code?.startsWith('WEIR_E_PROTO')) return this.reject(SqlState.ProtocolViolation, `invalid startup: ${err.message}`, { code: err.code });
    // No WeirError code: a fault of weir's own, logged whatever log_pooler_errors says.
    if (err.code === undefined) this.host.logger.error({ client: this.remote, user: this.user, database: this.database, err }, `login failed: ${err.message}`);
    const sqlstate = typeof err.details?.sqlstate === 'string' ? err.details.sqlstate : SqlState.ConnectionFailure;
    this.reject(sqlstate, err.message, { code: err.code });
  }

  /**
   * Answer FATAL and close. The one place that logs what weir tells a client (log_pooler_errors);
   * `fields` add to that line, `repeated`: a client can cause this at will (digested).
   */
  reject(sqlstate: string, message: string, fields?: Record<string, unknown>, repeated = false): void {
    if (this.closed) return;
    if (!this.peerGone && !this.socket.destroyed) {
      this.socket.end(fatal(sqlstate, message));
      this.host.poolerError({ client: this.remote, user: this.user, database: this.database, ...fields }, sqlstate, message, repeated);
    }
    this.close(message);
  }

  // ---------------------------------------------------------------- admin console

  private async adminLogin(reader: MessageReader): Promise<void> {
    this.isAdmin = true;
    await authenticateClient(this.socket, reader, this.user, this.host.adminSecret(this.user), this.host.adminMock());
    this.finishLogin();
    this.adminReady = true;
    this.logConnected();
    this.socket.write(Buffer.concat([
      authenticationOk(), parameterStatus('server_version', '15.0 (weir)'), parameterStatus('client_encoding', 'UTF8'),
      parameterStatus('server_encoding', 'UTF8'), parameterStatus('DateStyle', 'ISO, MDY'), parameterStatus('integer_datetimes', 'on'),
      parameterStatus('standard_conforming_strings', 'on'), backendKeyData(this.pid, this.secret), readyForQuery('I'),
    ]));
    for (;;) {
      const m = await reader.next(true);
      if (m.type === Msg.Terminate) return this.close('admin client left');
      if (m.type !== Msg.Query) {
        if (m.type === Msg.Sync) this.socket.write(readyForQuery('I'));
        else this.socket.write(error(SqlState.FeatureNotSupported, 'the weir admin console supports only simple queries'));
        continue;
      }
      this.socket.write(await this.host.runAdmin(this, decodeQuery(m.buffer, m.bodyStart, m.end)));
    }
  }

  // ---------------------------------------------------------------- data path: client → server

  private onClientData(chunk: Buffer): void {
    if (this.draining || this.closed) return; // after Terminate nothing more is read
    this.counters.bytesIn += chunk.length;
    this.idleSince = -1;
    if (this.txSince < 0) this.txSince = this.host.coarseNow;
    try {
      (this.scanner ??= new Scanner(CLIENT_INTEREST, this, MAX_CLIENT_MESSAGE)).scan(chunk);
    } catch (e) {
      // The scanner is no longer at a boundary: a server that got part of this message is dropped.
      // One log line, through the pooler-error digest (a flood of bad clients is summarised).
      return this.reject(SqlState.ProtocolViolation, `invalid message from client: ${(e as Error).message}`, undefined, true);
    }
    try {
      this.forwardClient(chunk);
    } catch (e) {
      this.failed(e);
    }
  }

  /** Client bytes, framed and bounded by the scanner: to the server, the framed path, or the queue. */
  private forwardClient(chunk: Buffer): void {
    let terminating = false;
    if (this.terminateAt >= 0) {
      chunk = chunk.subarray(0, this.terminateAt);
      this.terminateAt = -1;
      terminating = true;
    }
    if (chunk.length > 0) {
      const server = this.server;
      if (server === null && !terminating && this.intercepting && !this.acquiring && this.queue.length === 0 &&
          this.host.messageHooks().localCount !== 0 && this.clientAtBoundary() && this.answerLocally(chunk)) {
        return;
      }
      if (server !== null && !this.hidden) {
        if (this.interceptor !== null) this.interceptor.clientChunk(chunk);
        else if (!server.write(chunk)) this.throttleClient(server);
      } else {
        if (this.queue === NO_CHUNKS) this.queue = [];
        this.queue.push(chunk);
        this.queuedBytes += chunk.length;
        if (this.queuedBytes > MAX_QUEUED && !this.queuePaused) {
          this.queuePaused = true;
          this.socket.pause();
        }
        if (server === null && !this.acquiring) this.acquire();
      }
    }
    if (terminating) this.terminated();
  }

  onMessage(type: number, _b: Buffer, _s: number, _e: number, end: number): void {
    switch (type) {
      case Msg.Query:
      case Msg.FunctionCall:
        if (this.pending <= 0) this.querySent();
        this.pending++;
        this.counters.queries++;
        break;
      case Msg.Sync:
        if (this.pending <= 0) this.querySent();
        this.pending++;
        this.unsynced = false;
        this.counters.queries++;
        break;
      case Msg.Terminate:
        this.terminateAt = end - 5;
        break;
      case Msg.Parse:
        this.counters.parses++;
        this.unsynced = true;
        break;
      case Msg.Bind:
        this.counters.binds++;
        this.unsynced = true;
        break;
      default:
        this.unsynced = true;
    }
  }

  private querySent(): void {
    this.querySince = this.host.coarseNow;
    this.queryAt = performance.now();
    this.cancelSent = false;
  }

  /** Every answer owed is back: the client is idle (in a transaction or not, as `txStatus` says). */
  private answered(txStatus: number): void {
    if (this.querySince >= 0) this.counters.queryMicros += Math.round((performance.now() - this.queryAt) * 1000);
    this.querySince = -1;
    this.idleSince = this.host.coarseNow;
    if (txStatus === IDLE) this.txSince = -1;
  }

  /** The framed path, made on first need: idle clients do not pay for it. */
  private framedPath(): Interceptor {
    return (this.interceptor ??= new Interceptor(this.pid, this.pool!.info.name, this.host.messageHooks(), MAX_CLIENT_MESSAGE));
  }

  /**
   * No server, and the client sent whole messages ending in Sync that plugins can all answer
   * (e.g. preparing a statement known to be valid): answer them here, ReadyForQuery 'I' included,
   * and take no server. Anything else returns false and nothing has changed.
   */
  private answerLocally(chunk: Buffer): boolean {
    const hooks = this.host.messageHooks();
    const state = this.framedPath().state;
    const msg = { type: 0, buffer: chunk, start: 0, bodyStart: 0, end: 0 };
    let syncs = 0;
    let last = 0;
    const batch = new Map<symbol, unknown>();
    for (let pass = 0; pass < 2; pass++) {
      const out: Buffer[] = [];
      let pos = 0;
      while (pos < chunk.length) {
        if (chunk.length - pos < 5) return false;
        const end = pos + 1 + chunk.readInt32BE(pos + 1);
        if (end > chunk.length) return false;
        msg.type = chunk[pos];
        msg.start = pos;
        msg.bodyStart = pos + 5;
        msg.end = end;
        if (msg.type === Msg.Sync) {
          if (pass === 1) out.push(READY_IDLE);
          else syncs++;
        } else {
          const a = hooks.localAnswerer(msg.type);
          if (a === null) return false;
          try {
            if (pass === 0 && !a.check(state, msg, batch)) return false;
            if (pass === 1) out.push(a.answer(state, msg, this.pool!.info.name));
          } catch (e) {
            throw messageHookFailed(e, hooks.localOwner(msg.type), msg.type);
          }
        }
        last = msg.type;
        pos = end;
      }
      if (pass === 0 && last !== Msg.Sync) return false;
      if (pass === 1) {
        // The scanner counted these Syncs as owed by a server: none is.
        this.pending -= syncs;
        if (this.pending <= 0) this.answered(IDLE);
        const bytes = Buffer.concat(out);
        this.counters.bytesOut += bytes.length;
        this.socket.write(bytes);
      }
    }
    return true;
  }

  private acquire(): void {
    const pool = this.pool!;
    this.acquiring = true;
    if (pool.retired) return this.repoolThenAcquire();
    const gate = this.host.whenRunning(this.database);
    if (gate === null) {
      const lease = pool.tryAcquire();
      if (lease !== null) return this.attach(lease);
    }
    // The client keeps being read while it waits (pausing costs two epoll changes per wait);
    // onClientData pauses it only if it queues more than MAX_QUEUED bytes.
    this.waitStart = performance.now();
    // No promise per wait: a released server is handed over inside the releasing client's call.
    // Made on the first wait, then reused: an idle client carries none, a waiting one allocates none.
    const onLease = (this.leaseCb ??= (lease) => this.onLease(lease));
    const onError = (this.acquireErrorCb ??= (err) => this.onAcquireError(err));
    if (gate === null) pool.acquireWith(onLease, onError);
    else gate.then(() => this.pool!.acquireWith(onLease, onError), onError);
  }

  private leaseCb: ((lease: Lease<ServerConnection>) => void) | null = null;
  private acquireErrorCb: ((err: unknown) => void) | null = null;

  private onLease(lease: Lease<ServerConnection>): void {
    this.counters.noteWait(Math.round((performance.now() - this.waitStart) * 1000));
    if (this.queuePaused && !this.closed) {
      this.queuePaused = false;
      this.socket.resume();
    }
    try {
      this.attach(lease);
    } catch (e) {
      this.failed(e);
    }
  }

  private onAcquireError(err: unknown): void {
    const e = err as Error & { code?: string };
    if (e.code === 'WEIR_E_POOL_RETIRED' && !this.closed) return this.repoolThenAcquire();
    this.acquireFailed(e);
  }

  /** Finds the client's pool again after it was retired: the login resolved under the running config (a RELOAD may have changed where it goes). */
  private async repool(outcome: LoginOutcome): Promise<Pool<ServerConnection>> {
    const again = await this.host.findLogin(this.database, this.user);
    if ('sqlstate' in again) throw new WeirError('WEIR_E_NO_POOL', again.message, { sqlstate: again.sqlstate });
    if (again.secret === null) {
      throw new WeirError('WEIR_E_NO_POOL', `user "${this.user}" is no longer known for database "${this.database}"`, { sqlstate: SqlState.InvalidAuthorization });
    }
    return again.pool(outcome);
  }

  /**
   * The client's pool was retired (RELOAD, idle GC) while it stayed connected: find or make
   * its pool again the way login did, and go on with the query it sent.
   */

  private repoolThenAcquire(): void {
    if (this.outcome === null || ++this.repools > 3) {
      return this.acquireFailed(new WeirError('WEIR_E_POOL_RETIRED', `pool ${this.pool?.info.name} was retired and no pool replaces it`));
    }
    this.repool(this.outcome).then((pool) => {
      if (this.closed) return;
      this.pool = pool;
      this.counters = this.host.counters(pool);
      this.interceptor?.setPool(pool.info.name);
      this.acquire();
    }, (e: Error & { code?: string }) => this.acquireFailed(e));
  }

  private acquireFailed(e: Error & { code?: string; details?: Record<string, unknown> }): void {
    this.acquiring = false;
    if (this.closed) return;
    const sqlstate = typeof e.details?.sqlstate === 'string' ? e.details.sqlstate
      : e.code === 'WEIR_E_ACQUIRE_TIMEOUT' ? SqlState.ConnectionFailure : SqlState.CannotConnectNow;
    this.reject(sqlstate, e.message, { code: e.code });
  }

  private attach(lease: Lease<ServerConnection>): void {
    this.acquiring = false;
    this.repools = 0;
    if (this.closed) {
      lease.release();
      return;
    }
    const server = lease.connection;
    this.lease = lease;
    this.server = server;
    this.leaseAt = performance.now();
    server.owner = this;
    // `pending` already counts the sync points of queued messages: they go to this server.
    if (this.intercepting) this.framedPath();
    if (this.interceptor !== null) this.interceptor.attach(this, server.id);
    // server_check_delay: a connection idle that long answers server_check_query before it is used.
    const g = this.host.general();
    if (g.server_check_query !== '' && server.releasedAt > 0 && this.host.coarseNow - server.releasedAt >= g.server_check_delay) {
      server.lastError = null;
      this.hidden = true;
      this.checking = true;
      server.write(query(g.server_check_query));
      return;
    }
    this.syncParams(server);
  }

  /** Give the server this client's parameters (a hidden query) if it lacks them, then its queued messages. */
  private syncParams(server: ServerConnection): void {
    if (server.paramsSyncedFor !== this.params || server.paramsSyncedVersion !== server.paramsVersion) {
      const sql = paramSyncQuery(this.params, server.params, server.applied);
      if (sql !== null) {
        server.lastError = null;
        this.hidden = true;
        server.write(query(sql));
        return;
      }
      server.paramsSyncedFor = this.params;
      server.paramsSyncedVersion = server.paramsVersion;
    }
    this.flush(server);
  }

  private flush(server: ServerConnection): void {
    const q = this.queue;
    if (q.length !== 0) {
      this.queue = NO_CHUNKS;
      this.queuedBytes = 0;
      const ic = this.interceptor;
      for (let i = 0; i < q.length; i++) {
        if (ic !== null) ic.clientChunk(q[i]);
        else server.write(q[i]);
      }
    }
    if (this.draining) this.retire(server);
    else this.tryLink(server);
    if (this.heldInPlane) {
      // What the armed client sent waits in the plane: the link took it, or it comes here now.
      this.heldInPlane = false;
      if (!this.linked) this.takeHeldBack();
    }
  }

  // ---------------------------------------------------------------- native link

  /** Bytes an armed client sent wait in the plane for the link this session is making. */
  private heldInPlane = false;

  /**
   * Native path, transaction mode, nothing for JavaScript to see in the client's messages (no
   * framed path): the client is armed between transactions, so its next transaction's bytes wait
   * in the plane and JavaScript is asked only for a server ({@link linkWant}).
   */
  private armable(): boolean {
    return this.mode === 'transaction' && this.interceptor === null && !this.intercepting && !this.draining && !this.closed &&
      this.socket instanceof NativeSocket;
  }

  private arm(): void {
    if (!this.armable() || this.server !== null || this.acquiring) return;
    const cs = this.socket as NativeSocket;
    cs.plane.io.arm(cs.id, true);
  }

  /** The bytes an armed client sent, out of the plane and down the JavaScript path. */
  private takeHeldBack(): void {
    const cs = this.socket as NativeSocket;
    const bytes = cs.plane.io.takeHeld(cs.id);
    if (bytes !== null) this.onClientData(bytes);
  }

  /** The client's stream is between messages (true before any byte reached JavaScript). */
  private clientAtBoundary(): boolean {
    return this.scanner === null || this.scanner.atBoundary();
  }

  /** NativeClientSink: bytes from the client (not held for a link): the login's or admin console's reader's while there is one. */
  clientData(chunk: Buffer): void {
    const reader = this.reader;
    if (reader !== null) reader.feed(chunk);
    else this.onClientData(chunk);
  }

  /** NativeClientSink: the client's connection is gone. */
  clientClosed(error: string | null): void {
    this.clientGone(error === null ? 'client closed the connection' : `client socket error: ${error}`);
  }

  /** NativeLinkSink: an armed client sent bytes (held in the plane): find it a server. */
  linkWant(): void {
    if (this.closed || this.draining) return;
    if (this.server !== null || this.acquiring) return this.takeHeldBack();
    this.heldInPlane = true;
    this.idleSince = -1;
    if (this.txSince < 0) this.txSince = this.host.coarseNow;
    this.acquire();
  }

  /**
   * Native path: with nothing for JavaScript to do per message (no framed path, no hidden query,
   * nothing queued, both sides at a message boundary), client and server are linked in C until
   * the release point; JavaScript hears of the transaction again in {@link linkIdle}.
   */
  private tryLink(server: ServerConnection): void {
    const cs = this.socket;
    const ss = server.socket;
    const ic = this.interceptor;
    const handOff = ic === null ? HandOff.Plain : ic.handOffMode();
    if (!(cs instanceof NativeSocket) || !(ss instanceof NativeSocket) || handOff === HandOff.No || this.hidden ||
        this.queue.length !== 0 || this.terminateAt >= 0 || this.pausedServer !== null || this.queuePaused ||
        !this.clientAtBoundary() || this.closed) {
      return;
    }
    // With the framed path, the link stops at the message types plugins hook (held until the
    // server owes nothing); watched, also at every message the server would answer.
    const watched = ic !== null && handOff === HandOff.Watched;
    const mask = ic === null ? null : this.host.messageHooks().clientMask(watched);
    const flags = (this.mode === 'transaction' ? LINK.txMode : 0) | (this.armable() ? LINK.rearm : 0);
    // Linked before the call: the plane may report on the link inside it (held bytes it forwards).
    cs.link = this;
    this.linked = true;
    this.cutMidMessage = false;
    if (watched) server.errorLog = [];
    if (!cs.plane.io.link(cs.id, ss.id, flags, this.pending, this.unsynced, this.txSince >= 0, mask, watched ? 2 * ic.owed + 8 : 0)) {
      cs.link = null;
      this.linked = false;
      if (watched) server.errorLog = null;
      return;
    }
    if (!watched) ic?.handOff();
  }

  /** The link's state (counters since the last report, ages of the open query/transaction) from the plane. */
  private absorb(slab: Float64Array, server: ServerConnection | null): void {
    const c = this.counters;
    c.bytesIn += slab[SLAB.bytesIn];
    c.bytesOut += slab[SLAB.bytesOut];
    c.queries += slab[SLAB.queries];
    c.parses += slab[SLAB.parses];
    c.binds += slab[SLAB.binds];
    c.queryMicros += slab[SLAB.queryMicros];
    this.pending = slab[SLAB.pending];
    this.unsynced = slab[SLAB.unsynced] !== 0;
    if (server !== null) server.txStatus = slab[SLAB.txStatus];
    this.interceptor?.resume(slab[SLAB.txStatus], slab[SLAB.queries]);
    // Ages on the plane's clock, as times on the host's coarse one (what the timeouts compare).
    const now = this.host.coarseNow;
    const since = (age: number) => (age < 0 ? -1 : now - age);
    if (slab[SLAB.queries] > 0) this.cancelSent = false; // a query began since the last report
    this.querySince = since(slab[SLAB.queryAge]);
    this.idleSince = since(slab[SLAB.idleAge]);
    this.txSince = since(slab[SLAB.txAge]);
  }

  /** NativeLinkSink: every answer owed is back; at a release point the plane has unlinked already. */
  linkIdle(slab: Float64Array): void {
    const server = this.server;
    if (server === null) return;
    this.absorb(slab, server);
    try {
      this.settleWatched(server, slab[SLAB.released] === 1);
      if (slab[SLAB.released] !== 1) return;
      this.linked = false;
      this.release();
    } catch (e) {
      this.failed(e);
    }
  }

  /**
   * A watched link (owners of the framed path's plan wait on answers): settle the plan with how
   * the answers the link carried ended. `done`: the link is over, the connection's error log too.
   */
  private settleWatched(server: ServerConnection, done: boolean): void {
    const log = server.errorLog;
    if (log === null) return;
    const cs = this.socket as NativeSocket;
    const types = cs.plane.io.linkLog(cs.id);
    if (done) server.errorLog = null;
    if (types === null) throw new WeirError('WEIR_E_LINK_LOG', `the native link of client ${this.remote} forwarded more answers than its log holds`);
    this.interceptor!.replay(types, log.splice(0));
  }

  /** NativeLinkSink: the link ended (Terminate or a bad message: the rest comes as data; a close: its event follows). */
  linkEnded(reason: number, slab: Float64Array): void {
    this.linked = false;
    // Terminate and a bad message hand the client's bytes back from that message's start (so
    // the scanner is at a boundary); a close may have cut the client off in a message.
    this.cutMidMessage = reason === UNLINK.closed && slab[SLAB.clientAtBoundary] !== 1;
    this.absorb(slab, this.server);
    if (this.server !== null) {
      try {
        this.settleWatched(this.server, true);
      } catch (e) {
        this.failed(e);
      }
    }
  }

  /** Take the data path back from the plane (close, kill, a timeout): its state comes with it. */
  private unlinkNow(): void {
    if (!this.linked) return;
    const cs = this.socket as NativeSocket;
    this.linked = false;
    cs.link = null;
    if (cs.plane.io.unlink(cs.id)) {
      this.cutMidMessage = cs.plane.slab[SLAB.clientAtBoundary] !== 1;
      this.absorb(cs.plane.slab, this.server);
    }
    // Taken back to end the session: the plan's owners hear what the link saw; the rest fails when the plan is cleared.
    if (this.server !== null && this.server.errorLog !== null) {
      try {
        this.settleWatched(this.server, true);
      } catch {
        this.server.errorLog = null;
      }
    }
  }

  /** The timeouts read the link's ages: a linked session's JavaScript state is as of its last report. */
  private peekLink(): void {
    if (!this.linked) return;
    const cs = this.socket as NativeSocket;
    if (cs.plane.io.peek(cs.id)) this.absorb(cs.plane.slab, this.server);
  }

  /** See {@link retiring}: Terminate and end of input, so a server waiting for more reads EOF and exits. */
  private retire(server: ServerConnection): void {
    if (this.retiring) return;
    this.retiring = true;
    server.socket.end(terminate());
  }

  /** 'drain' listeners, made on the first throttle (an idle client carries none). */
  private resumeClientCb: (() => void) | null = null;
  private resumeServerCb: (() => void) | null = null;

  private throttleClient(server: ServerConnection): void {
    this.socket.pause();
    server.socket.once('drain', (this.resumeClientCb ??= () => {
      if (!this.closed) this.socket.resume();
    }));
  }

  // ---------------------------------------------------------------- data path: server → client

  onServerData(chunk: Buffer, readyCount: number): void {
    try {
      this.serverData(chunk, readyCount);
    } catch (e) {
      this.failed(e);
    }
  }

  private serverData(chunk: Buffer, readyCount: number): void {
    const server = this.server!;
    if (this.hidden) {
      if (readyCount === 0) return;
      this.hidden = false;
      if (this.checking) return this.checked(server);
      if (server.lastError !== null) {
        const { code, message } = server.lastError;
        this.host.logger.warn({ user: this.user, database: this.database, sqlstate: code }, `cannot apply client parameters: ${message}`);
        this.dropServer('released-bad');
        return this.reject(code, `cannot apply client parameters: ${message}`);
      }
      server.paramsSyncedFor = this.params;
      server.paramsSyncedVersion = server.paramsVersion;
      this.flush(server);
      return;
    }
    this.counters.bytesOut += chunk.length;
    if (this.interceptor !== null) {
      this.interceptor.serverChunk(chunk);
      // The framed path keeps a partial message where it lies; a queued write keeps its bytes.
      if (this.interceptor.holdsServerBytes() || stillQueued(this.socket)) server.retain();
    } else if (!this.peerGone) {
      if (!this.socket.write(chunk)) this.throttleServer(server);
      if (stillQueued(this.socket)) server.retain(); // the bytes must stay until written
    }
    if (readyCount !== 0 && !this.retiring) {
      this.pending -= readyCount;
      if (this.pending <= 0) {
        this.answered(server.txStatus);
        if (this.mode === 'transaction' && this.canRelease(server)) this.release();
      }
    }
  }

  private canRelease(server: ServerConnection): boolean {
    return !this.retiring && !this.cutMidMessage && server.txStatus === IDLE && !this.unsynced && this.queue.length === 0 &&
      this.clientAtBoundary() && server.atBoundary() && !server.broken &&
      (this.interceptor === null || this.interceptor.idle());
  }

  // InterceptIO: how the framed path writes.
  toServer(bytes: Buffer): void {
    const server = this.server!;
    if (!server.write(bytes)) this.throttleClient(server);
  }

  toClient(bytes: Buffer): void {
    if (this.peerGone) return;
    if (!this.socket.write(bytes)) this.throttleServer(this.server!);
  }


  private resumeServer(): void {
    const s = this.pausedServer;
    this.pausedServer = null;
    if (s !== null) s.socket.resume();
  }

  private throttleServer(server: ServerConnection): void {
    server.socket.pause();
    this.pausedServer = server;
    this.socket.once('drain', (this.resumeServerCb ??= () => this.resumeServer()));
  }

  /** End the lease: the server goes back to the pool. */
  private release(): void {
    const server = this.server!;
    const lease = this.lease!;
    server.owner = null;
    if (server.paramsSyncedVersion !== server.paramsVersion) {
      // The client changed reported parameters (SET …): remember them as its own.
      const params = new Map(this.params);
      for (const name of TRACKED) {
        const v = server.params.get(name);
        if (v !== undefined) params.set(name, v);
      }
      this.params = internParams(params);
      server.paramsSyncedFor = this.params;
      server.paramsSyncedVersion = server.paramsVersion;
    }
    if (this.pausedServer === server) this.resumeServer();
    if (this.interceptor !== null) this.interceptor.detach();
    this.server = null;
    this.lease = null;
    this.pending = 0;
    server.releasedAt = this.host.coarseNow;
    this.counters.noteXact(Math.round((performance.now() - this.leaseAt) * 1000));
    lease.release();
    // Graceful shutdown: a client leaves once its transaction is done.
    if (this.host.shuttingDown && !this.draining) this.reject(SqlState.AdminShutdown, 'weir is shutting down');
  }

  private dropServer(reason: string): void {
    this.unlinkNow();
    const lease = this.lease;
    const server = this.server;
    this.server = null;
    this.lease = null;
    this.hidden = false;
    if (server) server.owner = null;
    if (this.interceptor !== null) this.interceptor.detach();
    if (this.pausedServer === server) this.resumeServer();
    if (lease) lease.destroy(reason);
  }

  /** server_check_query answered: go on with this server, or drop it and take another. */
  private checked(server: ServerConnection): void {
    this.checking = false;
    if (server.lastError === null) return this.syncParams(server);
    this.host.logger.warn({ user: this.user, database: this.database, server: server.id, sqlstate: server.lastError.code },
      `server_check_query failed, connection closed: ${server.lastError.message}`);
    this.dropServer('error');
    this.acquire();
  }

  onServerClosed(err: Error): void {
    if (this.checking) {
      // Found dead by server_check_query before the client used it: the client never sees it.
      this.checking = false;
      this.hidden = false;
      this.host.logger.info({ user: this.user, database: this.database }, `server connection failed its check: ${err.message}`);
      this.dropServer('error');
      return this.acquire();
    }
    if (this.retiring) {
      // The server ran what the client sent before Terminate and exited: the session is done.
      this.dropServer('client-terminated');
      return this.close('client sent Terminate');
    }
    this.host.logger.warn({ user: this.user, database: this.database, client: this.remote }, err.message);
    // The server's own FATAL (57P01 on pg_terminate_backend, a shutdown, its idle timeouts) has
    // reached the client already: it is the one and only error, as without weir.
    const forwarded = this.server !== null && this.server.fatalSeen && !this.hidden;
    this.dropServer('error');
    if (forwarded) {
      this.socket.end();
      return this.close('server ended the session');
    }
    // Client-facing text names no server address (the log line above does).
    this.reject(SqlState.ConnectionFailure, 'server closed the connection unexpectedly');
  }

  /** Admin KILL / KILL_CLIENT: end this client now; its server connection (if any) is closed, never reused. */
  kill(): void {
    if (this.closed) return;
    this.unlinkNow();
    if (this.server !== null) {
      const server = this.server;
      if (this.pending > 0) sendCancel(server.address.host, server.address.port, server.backendPid, server.backendSecret);
      this.dropServer('killed');
    }
    this.reject(SqlState.AdminShutdown, 'terminating connection due to administrator command');
  }

  // ---------------------------------------------------------------- timeouts

  /**
   * Called about once a second by the proxy's janitor with its coarse clock: cancel a query past
   * query_timeout, end a client past transaction_timeout, idle_transaction_timeout or
   * client_idle_timeout. Closing goes through {@link close}, which releases a server that is
   * between transactions and drops one that is not (PostgreSQL rolls that transaction back).
   */
  expire(now: number, t: SessionTimeouts): void {
    if (this.closed || this.pool === null || this.draining) return;
    this.peekLink();
    const server = this.server;
    if (t.query_timeout > 0 && this.querySince >= 0 && server !== null && !this.hidden && !this.cancelSent &&
        now - this.querySince >= t.query_timeout) {
      this.cancelSent = true;
      this.host.logger.info({ client: this.remote, user: this.user, database: this.database, query_timeout: t.query_timeout },
        'query_timeout: cancelling the query on its server');
      this.forwardCancel();
    }
    if (t.transaction_timeout > 0 && this.txSince >= 0 && now - this.txSince >= t.transaction_timeout) {
      return this.timedOut('25P04', 'terminating connection due to transaction timeout', 'transaction_timeout');
    }
    if (this.idleSince < 0) return;
    if (server !== null && server.txStatus !== IDLE) {
      if (t.idle_transaction_timeout > 0 && now - this.idleSince >= t.idle_transaction_timeout) {
        this.timedOut('25P03', 'terminating connection due to idle-in-transaction timeout', 'idle_transaction_timeout');
      }
    } else if (t.client_idle_timeout > 0 && now - this.idleSince >= t.client_idle_timeout) {
      this.timedOut('57P05', 'terminating connection due to idle-session timeout', 'client_idle_timeout');
    }
  }

  private timedOut(sqlstate: string, message: string, key: string): void {
    this.reject(sqlstate, message, { key });
  }

  // ---------------------------------------------------------------- end of session

  /** A cancel request with this session's key arrived: pass it on to the server running its query. */
  forwardCancel(): void {
    const server = this.server;
    if (server) sendCancel(server.address.host, server.address.port, server.backendPid, server.backendSecret);
  }

  /**
   * The client sent Terminate. PostgreSQL runs to the end what came before it, so does weir:
   * with answers still owed (or messages queued for a server) the session drains first.
   */
  private terminated(): void {
    const server = this.server;
    const owed = server !== null ? this.pending > 0 || this.hidden : this.queue.length !== 0 || this.acquiring;
    if (!owed) return this.close('client sent Terminate');
    this.draining = true;
    this.terminateAt = -1;
    if (server !== null && !this.hidden) this.retire(server);
  }

  /** The client's socket closed or failed. While draining, the work goes on without it. */
  private clientGone(reason: string): void {
    if (this.draining && !this.closed) {
      this.peerGone = true;
      if (this.pausedServer !== null) this.resumeServer();
      return;
    }
    this.close(reason);
  }

  /**
   * Something threw on the data path (a plugin's message hook, a bug): this session ends, its
   * server connection is dropped (never reused), every other session goes on.
   */
  private failed(e: unknown): void {
    const err = e as Error & { code?: string; details?: Record<string, unknown> };
    const d = err.details ?? {};
    // A message the client framed wrongly is its fault (08P01), not weir's: no error-level line.
    const proto = e instanceof ProtocolError ? e.sqlState : null;
    const sqlstate = typeof d.sqlstate === 'string' ? d.sqlstate : proto ?? SqlState.InternalError;
    const message = typeof d.clientMessage === 'string' ? d.clientMessage
      : typeof d.sqlstate === 'string' || proto !== null ? err.message : 'internal error in weir';
    const fields = { code: err.code, plugin: d.plugin, hook: d.hook };
    // weir's own fault (or a plugin's): logged whatever log_pooler_errors says; the rest is the reject's line.
    if (sqlstate.startsWith('XX')) this.host.logger.error({ client: this.remote, user: this.user, database: this.database, ...fields, err }, `session ended: ${err.message}`);
    this.dropServer('error');
    this.reject(sqlstate, message, fields);
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.unlinkNow();
    this.finishLogin();
    if (this.reader !== null) {
      this.reader.fail(new Error(`client connection closed: ${reason}`));
      this.reader = null;
    }
    this.queue = NO_CHUNKS;
    const server = this.server;
    if (server !== null) {
      if (this.pending <= 0 && !this.hidden && this.canRelease(server)) {
        if (this.mode === 'session') this.resetAndRelease(server, this.lease!);
        else this.release();
      } else {
        // Gone in the middle of a query: stop it on the server, then close that connection.
        if (this.pending > 0) sendCancel(server.address.host, server.address.port, server.backendPid, server.backendSecret);
        this.dropServer('client-gone');
      }
    }
    if (this.pausedServer !== null) this.resumeServer();
    if (!this.socket.destroyed) this.socket.destroySoon();
    this.host.unregister(this);
    const log = this.host.logger;
    // log_disconnections: for clients that logged in (failed logins are logged where they fail).
    if ((this.pool !== null || this.adminReady) && this.host.general().log_disconnections) {
      log.info({ client: this.remote, user: this.user, database: this.database, duration_ms: Date.now() - this.connectedAt, reason },
        `client disconnected: ${this.user}@${this.database} from ${this.remote}: ${reason}`);
    } else if (log.isLevelEnabled('debug')) {
      log.debug({ client: this.remote, user: this.user, database: this.database }, `client closed: ${reason}`);
    }
  }

  /** Session pooling: DISCARD ALL on the server before it goes back to the pool. */
  private resetAndRelease(server: ServerConnection, lease: Lease<ServerConnection>): void {
    this.server = null;
    this.lease = null;
    server.lastError = null;
    server.paramsSyncedFor = null;
    server.applied.clear(); // DISCARD ALL resets every parameter
    server.owner = {
      onServerData(_chunk: Buffer, readyCount: number) {
        if (readyCount === 0) return;
        server.owner = null;
        if (server.lastError !== null) lease.destroy('released-bad');
        else lease.release();
      },
      onServerClosed() {
        lease.destroy('error');
      },
    };
    server.releasedAt = this.host.coarseNow;
    server.write(query('DISCARD ALL'));
  }
}
