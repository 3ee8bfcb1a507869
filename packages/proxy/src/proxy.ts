import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type tls from 'node:tls';
import {
  ClientError, ErrorCodes, Kernel, Pool, Reports, WeirError, clientErrorOf, createLogger, poolKeyId,
  type AuthSecret, type Clock, type Config, type PoolOptions, type PoolPlan, type ReloadCommit, type Logger, type PluginClass, type PoolFactory, type PoolSpec, type ResolvedUser,
} from '@weir/kernel';
import { ClientSession, MAX_CLIENT_MESSAGE } from './client/session.js';
import type { LoginTarget, SessionHost } from './client/host.js';
import { Janitor } from './client/janitor.js';
import type { ClientTls } from './client/client-tls.js';
import { Budgets } from './budgets.js';
import { DatabaseControl } from './admin/control.js';
import { Averages } from './admin/averages.js';
import { totalsByDatabase } from './admin/totals.js';
import { registerProxyMetrics } from './metrics.js';
import { startMetricsServer } from './metrics-server.js';
import { mockMethodFor, secretFromPassword, type AuthOutcome, type MockMethod } from './client/auth.js';
import { fatal, SqlState } from './client/errors.js';
import { ServerConnector, type ServerTarget } from './server/connector.js';
import type { ServerConnection } from './server/connection.js';
import { CancelKeys } from './guard/cancels.js';
import { LogDigest } from './guard/log-digest.js';
import { PoolerErrors, type PoolerErrorFields } from './client/pooler-errors.js';
import { loadProxyConfig } from './config/load.js';
import type { PoolMode, ProxyConfig } from './config/schema.js';
import { poolOptions, resolvedTarget, staticSpecs, targetFingerprint } from './pools.js';
import { PoolCounters } from './stats.js';
import { AdminConsole } from './admin/console.js';
import { listen, listenIp, listenUnix, loadTls, tcpMigrateReq } from './listener.js';
import { REPORTS } from './tokens.js';
import { MessageHooks, MESSAGE_HOOKS } from './intercept/hooks.js';
import type { ProxyGeneralConfig } from './config/general.js';
import { choosePlane, type NativePlane, type Wire } from './stream/native.js';

export interface ProxyOptions {
  config: ProxyConfig;
  /** The file the config came from: RELOAD / SIGHUP read it again. */
  configFile?: string;
  /** Plugin classes available; those enabled under `plugins:` are set up. */
  plugins?: PluginClass[];
  logger?: Logger;
  clock?: Clock;
}

interface PoolMeta {
  readonly target: ServerTarget;
  readonly mode: PoolMode;
  readonly counters: PoolCounters;
  readonly fingerprint: string;
}

type ServerPool = Pool<ServerConnection>;

/**
 * A resolver's own ClientError (auth_query failed, max_pools reached: the SQLSTATE a client
 * should get), rather than the kernel's WEIR_E_HOOK_FAILED wrapper around it.
 */
function rethrowHandlerError(e: unknown): never {
  throw clientErrorOf(e) ?? e;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const VERSION: string = require('../package.json').version;

/** The weir wire proxy: listener, client sessions, server pools on the kernel, admin console. */
export class Proxy implements SessionHost, PoolFactory {
  readonly kernel: Kernel;
  readonly logger: Logger;
  readonly sessions = new Set<ClientSession>();
  /** Sessions still logging in, oldest first. */
  private readonly loggingIn = new Set<ClientSession>();
  readonly reports = new Reports();
  readonly hooks = new MessageHooks();
  private readonly cancels: CancelKeys;
  private readonly poolerErrors: PoolerErrors;
  // Events a client can cause at will are logged at most once per period, with a count.
  private readonly digests = new Map<string, LogDigest>();
  private readonly meta = new WeakMap<Pool, PoolMeta>();
  private readonly plugins: PluginClass[];
  private readonly admin: AdminConsole;
  private readonly server = net.createServer({ noDelay: true, pauseOnConnect: false }, (s) => this.accept(s));
  private unixListener: { close(): void } | null = null;
  /** The native data plane (general.io native and the addon loaded), or null: node:net. */
  readonly plane: NativePlane | null;
  private readonly planeWhy: string;
  private readonly planeFellBack: boolean;
  private nativeListener: { close(): number[] } | null = null;
  /** node:net's listener: take its queued connections before it closes (null: it cannot). */
  private nodeDrain: (() => number[]) | null = null;
  private tls: ClientTls | null;
  readonly control = new DatabaseControl();
  private readonly averages = new Averages();
  private statsTimer: NodeJS.Timeout | null = null;
  private stopping: Promise<void> | null = null;
  private shutdownDeadline = Infinity;
  shuttingDown = false;
  refusingLogins = false;
  address: net.AddressInfo | null = null;
  readonly budgets = new Budgets();
  private metricsServer: http.Server | null = null;
  private readonly janitor = new Janitor(this.sessions, () => this.general());

  constructor(private readonly options: ProxyOptions) {
    this.logger = options.logger ?? createLogger({ level: options.config.general.log_level, format: options.config.general.log_format });
    this.plugins = options.plugins ?? [];
    this.cancels = new CancelKeys(this.logger);
    this.poolerErrors = new PoolerErrors(this.logger, () => this.general().log_pooler_errors);
    this.kernel = new Kernel({ config: options.config as unknown as Config, logger: this.logger, clock: options.clock, plugins: this.plugins, poolFactory: this });
    this.kernel.container.register(REPORTS, { useValue: this.reports });
    this.kernel.container.register(MESSAGE_HOOKS, { useValue: this.hooks });
    this.admin = new AdminConsole(this, this.reports, this.averages, VERSION);
    registerProxyMetrics(this.kernel.metrics, {
      pools: () => this.kernel.registry.entries().map((e) => ({ pool: e.pool, database: e.key.database, user: e.key.user })),
      counters: (pool) => this.counters(pool),
      clientCounts: (pool) => this.clientCounts(pool),
    });
    this.tls = loadTls(options.config.general);
    const chosen = choosePlane(options.config.general.io);
    this.plane = chosen.plane;
    this.planeWhy = chosen.why;
    this.planeFellBack = chosen.fellBack;
    this.server.on('error', (e) => this.logger.error({ err: e }, 'listener error'));
  }

  get config(): ProxyConfig {
    return this.kernel.config as unknown as ProxyConfig;
  }

  general(): ProxyGeneralConfig {
    return this.config.general;
  }

  get coarseNow(): number {
    return this.janitor.now;
  }

  messageHooks(): MessageHooks {
    return this.hooks;
  }

  clientTls(): ClientTls | null {
    return this.tls;
  }

  async start(): Promise<net.AddressInfo> {
    // 'pre': pools are reconciled before any plugin's reload handler sees the new config.
    this.kernel.hooks.on('reload', { order: 'pre', handler: (e) => this.reconcile(e.next as unknown as ProxyConfig, e.pools) }, 'weir-proxy');
    await this.kernel.start();
    for (const spec of staticSpecs(this.config)) this.kernel.registry.add({ key: spec.key, kind: 'static', pool: this.create(spec), spec });
    const g = this.general();
    if (g.metrics_port > 0) {
      this.metricsServer = await startMetricsServer({ host: g.metrics_host, port: g.metrics_port, registry: this.kernel.metrics,
        healthy: () => !this.shuttingDown && this.address !== null, logger: this.logger });
    }
    this.logIoPath();
    this.address = await this.listenTcp(g.host, g.port);
    if (g.so_reuseport) this.logReusePort();
    this.janitor.start();
    this.sampleStats();
    if (g.unix_socket_dir) {
      const unixServer = net.createServer((s) => this.accept(s));
      unixServer.on('error', (e) => this.logger.error({ err: e }, 'unix socket listener error'));
      const { file, close } = await listenUnix(unixServer, g.unix_socket_dir, this.address.port);
      this.unixListener = { close };
      this.logger.info({ path: file }, `weir listening on unix socket ${file}`);
    }
    // The "listening" line is part of the CLI contract: printed whatever log_level says (unless silent).
    const announce = this.logger.level === 'silent' ? this.logger : this.logger.child({}, { level: 'info' });
    announce.info({ address: this.address.address, port: this.address.port, pools: this.kernel.registry.entries().length },
      `weir listening on ${this.address.address}:${this.address.port}`);
    return this.address;
  }

  /** Once at start with so_reuseport: what happens to connections this listener holds when it closes. */
  private logReusePort(): void {
    const migrate = tcpMigrateReq();
    const drain = this.nativeListener !== null || this.nodeDrain !== null;
    const queued = drain ? 'connections queued on it are accepted and served before it closes'
      : 'connections queued on it when it closes are reset (Node\'s own reusePort: no @weir/io addon to accept them first)';
    const handshakes = migrate === 1 ? 'net.ipv4.tcp_migrate_req is 1: the kernel hands handshakes in progress to another listener'
      : migrate === 0 ? 'net.ipv4.tcp_migrate_req is 0: handshakes still in progress when it closes are reset (set it to 1; docs/operations.md)'
        : 'this kernel has no net.ipv4.tcp_migrate_req: handshakes still in progress when it closes are reset';
    this.logger.info({ so_reuseport: true, drain, tcp_migrate_req: migrate }, `so_reuseport: other weir processes may listen on this port; ${queued}; ${handshakes}`);
  }

  /** Once at start: which data path runs, and why it is not the native one when asked for. */
  private logIoPath(): void {
    if (this.plane !== null) this.logger.info({ io: 'native', why: this.planeWhy }, `data path: native (${this.planeWhy})`);
    else if (this.planeFellBack) this.logger.warn({ io: 'node', why: this.planeWhy }, `data path: node:net, the native one is unavailable: ${this.planeWhy}`);
    else this.logger.info({ io: 'node', why: this.planeWhy }, `data path: node:net (${this.planeWhy})`);
  }

  /**
   * The TCP listener: the native plane's when it runs (clients log in on a duplicate descriptor),
   * else node:net's. general.so_reuseport: SO_REUSEPORT, so another weir can listen on it too.
   */
  private async listenTcp(host: string, port: number): Promise<net.AddressInfo> {
    const plane = this.plane;
    const reusePort = this.general().so_reuseport;
    if (plane === null) {
      const l = await listen(this.server, host, port, reusePort);
      this.nodeDrain = l.drain;
      return l.address;
    }
    const ip = await listenIp(host);
    try {
      const l = plane.listen(ip, port, (id) => this.acceptNative(plane, id), reusePort);
      this.nativeListener = l;
      return { address: ip, family: net.isIPv6(ip) ? 'IPv6' : 'IPv4', port: l.port };
    } catch (e) {
      throw new WeirError('WEIR_E_LISTEN', `cannot listen on ${host}:${port}: ${(e as Error).message}`, { host, port });
    }
  }

  /** A client accepted by the native plane: it logs in on the plane's own connection. */
  private acceptNative(plane: NativePlane, id: number, admitted = false): void {
    const wire = plane.adoptClient(id, MAX_CLIENT_MESSAGE);
    if (wire !== null) this.accept(wire, admitted);
  }

  /**
   * Stop accepting. What the kernel has already queued on the listener is accepted first, in the
   * same turn as the close: a closing listener resets the connections in its accept queue (with
   * SO_REUSEPORT the new weir is up, and those clients would have been served by it had they
   * been hashed there). `admit`: they log in and are served (SIGTERM); else they are refused.
   */
  private closeTcp(admit: boolean): void {
    // Nothing between the last accept and the close: the native call does both.
    const plane = this.plane;
    const ids = this.nativeListener?.close() ?? [];
    const fds = this.nodeDrain?.() ?? [];
    this.nativeListener = null;
    this.nodeDrain = null;
    this.server.close();
    const queued = ids.length + fds.length;
    if (queued > 0) this.logger.info({ connections: queued, admitted: admit }, `accepted ${queued} queued connection(s) as the listener closed`);
    for (const id of ids) this.acceptNative(plane!, id, admit);
    for (const fd of fds) this.accept(new net.Socket({ fd, readable: true, writable: true }), admit);
  }

  // ---------------------------------------------------------------- pools

  /** PoolFactory: static specs carry a ServerTarget; plugin specs carry the resolved user. */
  create(spec: PoolSpec): ServerPool {
    const t = spec.target as { server?: ServerTarget; mode?: PoolMode; resolved?: ResolvedUser };
    const db = spec.key.database;
    const poolCfg = this.config.pools[db];
    if (!poolCfg && !t.server) throw new WeirError('WEIR_E_POOL_UNKNOWN_DATABASE', `no pools.${db} section in the config for pool ${spec.key.user}@${db}`, { database: db });
    const target = t.server ?? resolvedTarget(this.general(), poolCfg, db, t.resolved!);
    const mode = t.mode ?? poolCfg.pool_mode;
    const options = {
      ...poolOptions(this.general(), spec.options.max, poolCfg?.min_pool_size ?? 0, poolCfg), ...spec.options,
      budgets: this.budgets.of(db, target.address.user, this.config),
    };
    const pool = new Pool<ServerConnection>({
      info: { name: `${spec.key.user}@${db}`, key: spec.key, kind: spec.kind },
      connector: new ServerConnector(target, this.plane),
      options,
      hooks: this.kernel.hooks,
      clock: this.kernel.clock,
      logger: this.logger,
    });
    this.meta.set(pool, { target, mode, counters: new PoolCounters(), fingerprint: t.server ? targetFingerprint(spec) : '' });
    return pool;
  }

  counters(pool: Pool): PoolCounters {
    return this.meta.get(pool)?.counters ?? new PoolCounters();
  }

  poolMode(database: string): string {
    return this.config.pools[database]?.pool_mode ?? 'transaction';
  }

  clientCounts(pool: Pool): { active: number; waiting: number } {
    let active = 0;
    let waiting = 0;
    for (const s of this.sessions) {
      if (s.pool !== pool) continue;
      if (s.state === 'waiting') waiting++;
      else active++;
    }
    return { active, waiting };
  }

  async welcome(pool: ServerPool): Promise<ReadonlyMap<string, string>> {
    const meta = this.meta.get(pool)!;
    if (meta.target.welcome === null) {
      const lease = await pool.acquire();
      lease.release();
    }
    return meta.target.welcome!;
  }

  // ---------------------------------------------------------------- login

  async findLogin(database: string, user: string): Promise<LoginTarget | { sqlstate: string; message: string }> {
    const poolCfg = this.config.pools[database];
    if (!poolCfg) return { sqlstate: SqlState.UnknownDatabase, message: `database "${database}" does not exist` };
    if (this.control.isDisabled(database)) return { sqlstate: SqlState.CannotConnectNow, message: `database "${database}" does not allow connections (DISABLE)` };
    const listed = poolCfg.users.find((u) => u.username === user);
    if (listed) {
      let secret: AuthSecret | null;
      if (poolCfg.auth_type === 'trust') secret = { kind: 'trust' };
      else if (listed.password) secret = secretFromPassword(listed.password);
      else return { sqlstate: SqlState.InvalidAuthorization, message: `user "${user}" has no password in pools.${database} and auth_type is not trust` };
      return {
        database, user, secret, mode: poolCfg.pool_mode,
        pool: async (outcome) => {
          const entry = this.kernel.registry.get(database, user);
          if (!entry) throw new ClientError(ErrorCodes.NO_POOL, SqlState.CannotConnectNow, `no pool for ${user}@${database}`, { database, user });
          this.applyPassthrough(entry.pool, outcome);
          return entry.pool as ServerPool;
        },
      };
    }
    const resolved = await this.kernel.hooks.resolveFirst('resolveUser', { database, user }).catch(rethrowHandlerError) as ResolvedUser | undefined;
    if (!resolved) {
      // Unknown: challenged like the pool's users (auth_query users may have any stored kind,
      // so with a resolver loaded it is SCRAM, PostgreSQL's default password_encryption).
      const mock = this.kernel.hooks.has('resolveUser') ? 'scram' : mockMethodFor(poolCfg.users.map((u) => (u.password ? secretFromPassword(u.password) : null)));
      return { database, user, secret: null, mock, mode: poolCfg.pool_mode, pool: () => Promise.reject(new Error('unreachable')) };
    }
    return {
      database, user, secret: resolved.secret, mode: poolCfg.pool_mode,
      pool: async (outcome) => {
        const { key } = resolved.pool;
        let pool = this.kernel.registry.get(key.database, key.user)?.pool as ServerPool | undefined;
        if (!pool || pool.retired) pool = await this.kernel.hooks.resolveFirst('resolvePool', { key, resolved }).catch(rethrowHandlerError) as ServerPool | undefined;
        if (!pool) {
          throw new ClientError(ErrorCodes.NO_POOL, SqlState.CannotConnectNow,
            `no pool for ${key.user}@${key.database}: enable the dynamic_pools plugin to create pools for auth_query users`, { database, user });
        }
        this.applyPassthrough(pool, outcome);
        return pool;
      },
    };
  }

  /** SCRAM passthrough: the first client login gives the pool the keys to log in as that user. */
  private applyPassthrough(pool: Pool, outcome: AuthOutcome): void {
    const meta = this.meta.get(pool);
    if (!meta || !meta.target.passthrough || !outcome.scramKeys) return;
    if (meta.target.credentials.kind === 'none' || meta.target.credentials.kind === 'scram-keys') {
      meta.target.credentials = { kind: 'scram-keys', ...outcome.scramKeys };
    }
  }

  adminSecret(user: string): AuthSecret | null {
    const g = this.general();
    if (user !== g.admin_user || !g.admin_password) return null;
    return secretFromPassword(g.admin_password);
  }

  adminMock(): MockMethod {
    const password = this.general().admin_password;
    return mockMethodFor([password ? secretFromPassword(password) : null]);
  }

  runAdmin(session: ClientSession, sql: string): Promise<Buffer> {
    return this.admin.run(sql, { client: session.remote, user: session.user, database: session.database });
  }

  // ---------------------------------------------------------------- sessions

  /** `admitted`: taken from the listener's queue as it closed on SIGTERM: served although weir is shutting down. */
  private accept(socket: Wire, admitted = false): void {
    const max = this.general().max_client_conn;
    const refusing = this.shuttingDown && !admitted;
    if (!refusing && this.sessions.size >= max) {
      // Full. Sockets that never finish logging in must not lock real clients out: the oldest
      // pending login makes room (a real client logs in within milliseconds, a half-open one never).
      const oldest = this.loggingIn.values().next().value;
      if (oldest !== undefined) {
        oldest.reject(SqlState.TooManyConnections, `too many clients (max_client_conn = ${max}); this connection did not log in in time`,
          { max_client_conn: max, pending_logins: this.loggingIn.size }, true);
      }
    }
    if (refusing || this.sessions.size >= max) {
      const [code, message] = refusing ? [SqlState.CannotConnectNow, 'weir is shutting down']
        : [SqlState.TooManyConnections, `too many clients (max_client_conn = ${max})`];
      socket.on('error', () => socket.destroy());
      socket.end(fatal(code, message));
      this.poolerError({ client: socket.remoteAddress === undefined ? 'unix' : `${socket.remoteAddress}:${socket.remotePort}`, max_client_conn: max }, code, message, true);
      return;
    }
    new ClientSession(socket, this);
  }

  register(session: ClientSession): void {
    this.sessions.add(session);
    this.loggingIn.add(session);
    this.cancels.add(session);
  }

  loggedIn(session: ClientSession): void {
    this.loggingIn.delete(session);
  }

  unregister(session: ClientSession): void {
    this.sessions.delete(session);
    this.loggingIn.delete(session);
    this.cancels.delete(session);
  }

  poolerError(fields: PoolerErrorFields, sqlstate: string, message: string, repeated = false): void {
    this.poolerErrors.note(fields, sqlstate, message, repeated);
  }

  noteRepeated(message: string, fields: Record<string, unknown>): void {
    let d = this.digests.get(message);
    if (d === undefined) this.digests.set(message, (d = new LogDigest(this.logger, 'info', message)));
    d.note(fields);
  }

  drawPid(): number {
    return this.cancels.drawPid();
  }

  cancel(pid: number, secret: number, address: string): void {
    this.cancels.route(pid, secret, address);
  }

  // ---------------------------------------------------------------- RELOAD, PAUSE, shutdown

  /** Read the config file again; apply it only if valid. */
  async reload(): Promise<{ ok: true } | { ok: false; error: string }> {
    if (!this.options.configFile) return { ok: false, error: 'weir was started without a config file' };
    let next: ProxyConfig;
    try {
      next = loadProxyConfig(this.options.configFile, this.plugins);
    } catch (e) {
      this.logger.error({ code: (e as WeirError).code }, `RELOAD rejected, running config kept: ${(e as Error).message}`);
      return { ok: false, error: (e as Error).message };
    }
    try {
      // TLS files first: a reload that cannot read them changes nothing. The kernel logs the one
      // 'config reloaded' line.
      const tls = loadTls(next.general);
      const file = this.options.configFile;
      await this.kernel.reload(next as unknown as Config, { file, text: readSource(file) });
      this.tls = tls;
      return { ok: true };
    } catch (e) {
      this.logger.error({ code: (e as WeirError).code }, `RELOAD failed: ${(e as Error).message}`);
      return { ok: false, error: (e as Error).message };
    }
  }

  /**
   * reload hook: decide the pool changes on the plan — rebuild static pools whose target changed,
   * add new ones, retire removed ones and dynamic pools a static user now shadows — and return the
   * commit that applies the rest (budgets, resizes) once every handler has agreed.
   */
  private reconcile(next: ProxyConfig, plan: PoolPlan): ReloadCommit {
    const wanted = new Map(staticSpecs(next).map((s) => [poolKeyId(s.key.database, s.key.user), s]));
    const resizes: Array<[Pool, PoolOptions]> = [];
    for (const entry of plan.current()) {
      const id = poolKeyId(entry.key.database, entry.key.user);
      const spec = wanted.get(id);
      if (entry.kind === 'dynamic') {
        if (spec) {
          this.logger.info({ pool: entry.pool.info.name }, 'static user added with the name of a dynamic pool: dynamic pool retired');
          plan.retire(entry.key.database, entry.key.user, 'static user added');
        } else {
          resizes.push([entry.pool, poolOptions(next.general, entry.pool.options.max, entry.pool.options.min, next.pools[entry.key.database])]);
        }
        continue;
      }
      if (!spec) plan.retire(entry.key.database, entry.key.user, 'removed from config');
      else if (this.meta.get(entry.pool)?.fingerprint !== targetFingerprint(spec)) plan.retire(entry.key.database, entry.key.user, 'pool config changed');
      else {
        resizes.push([entry.pool, spec.options]);
        wanted.delete(id);
      }
    }
    for (const spec of wanted.values()) {
      if (!plan.has(spec.key.database, spec.key.user)) plan.add({ key: spec.key, kind: 'static', spec, make: () => this.create(spec) });
    }
    return () => {
      this.budgets.apply(next);
      for (const [pool, options] of resizes) pool.resize(options);
    };
  }

  /** SHOW STATS averages: a snapshot every stats_period (read again each time: RELOAD may change it). */
  private sampleStats(): void {
    const totals = totalsByDatabase(this.kernel.registry.entries().map((e) =>
      ({ database: e.key.database, counters: this.counters(e.pool), stats: e.pool.stats() })));
    this.averages.sample(Date.now(), totals);
    if (this.general().log_stats) {
      for (const db of totals.keys()) {
        const a = this.averages.of(db);
        if (a.xacts === 0 && a.queries === 0) continue;
        this.logger.info({ database: db, ...a }, `stats: ${db}: ${a.xacts} xacts/s, ${a.queries} queries/s, in ${a.received} B/s, out ${a.sent} B/s, ` +
          `xact ${a.xactMicros} us, query ${a.queryMicros} us, wait ${a.waitMicros} us`);
      }
    }
    this.statsTimer = setTimeout(() => this.sampleStats(), this.general().stats_period);
    this.statsTimer.unref();
  }

  /** WAIT_CLOSE [db]: resolves once the connections RECONNECT (or a RELOAD) marked are closed. */
  async waitClose(database?: string): Promise<void> {
    const marked = () => this.kernel.registry.entries().some((e) => (database === undefined || e.key.database === database) &&
      [...e.pool.connections()].some((c) => c.pooled.destroyOnRelease || c.state === 'closing'));
    while (marked()) await new Promise((r) => setTimeout(r, 50));
  }

  whenRunning(database: string): Promise<void> | null {
    return this.control.whenRunning(database);
  }

  /** PAUSE [db]: new transactions wait; returns once every server connection (of db) is back in its pool. */
  async pause(database?: string): Promise<void> {
    this.control.pause(database);
    const busy = () => this.kernel.registry.entries().some((e) => (database === undefined || e.key.database === database) && e.pool.stats().active > 0);
    while (this.control.isPaused(database ?? '') && busy()) {
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** RESUME [db]; false when that database was not paused. */
  resume(database?: string): boolean {
    return this.control.resume(database);
  }

  /**
   * - graceful (SIGTERM; a rolling restart): stop accepting; clients already accepted finish their
   *   login; each client is closed when its next transaction ends (at ReadyForQuery, status idle);
   *   at shutdown_timeout the rest are closed — those between transactions at a boundary, those
   *   still in a transaction cut. Exit when no client is left.
   * - wait-servers (SHUTDOWN WAIT_FOR_SERVERS): stop accepting, refuse logins in progress, close
   *   clients between transactions at once and the others as their transaction ends, within
   *   shutdown_timeout.
   * - fast (SIGINT, SHUTDOWN): close everything now.
   * - wait-clients (SHUTDOWN WAIT_FOR_CLIENTS): stop accepting and exit once every client has
   *   left by itself.
   * A fast shutdown asked for during another one (SIGINT after SIGTERM) closes everything now.
   */
  shutdown(kind: 'graceful' | 'wait-servers' | 'fast' | 'wait-clients'): Promise<void> {
    if (this.stopping) {
      if (kind === 'fast') this.shutdownDeadline = 0;
      return this.stopping;
    }
    const admit = kind === 'graceful';
    this.closeTcp(admit);
    this.shuttingDown = true;
    this.refusingLogins = !admit;
    this.shutdownDeadline = kind === 'wait-clients' ? Infinity : Date.now() + (kind === 'fast' ? 0 : this.general().shutdown_timeout);
    this.stopping = (async () => {
      this.logger.info({ kind }, 'weir shutting down');
      this.unixListener?.close();
      this.resume();
      for (;;) {
        let left = 0;
        for (const s of this.sessions) {
          if (kind === 'wait-servers' && s.server === null && s.state !== 'waiting') s.reject(SqlState.AdminShutdown, 'weir is shutting down');
          else if (!s.isAdmin) left++;
        }
        if (left === 0 || Date.now() >= this.shutdownDeadline) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      for (const s of this.sessions) s.reject(SqlState.AdminShutdown, 'weir is shutting down');
      this.janitor.stop();
      if (this.statsTimer !== null) clearTimeout(this.statsTimer);
      await this.kernel.stop();
      await new Promise<void>((r) => (this.metricsServer ? this.metricsServer.close(() => r()) : r()));
      this.logger.info('weir stopped');
    })();
    return this.stopping;
  }
}

/** The config file's text, for the line of a key a reload handler refuses (undefined if unreadable now). */
function readSource(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}
