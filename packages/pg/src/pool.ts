import { EventEmitter } from 'node:events';
import pg from 'pg';
import { parse as parseConnectionString } from 'pg-connection-string';
import {
  ErrorCodes,
  Kernel,
  Pool as KernelPool,
  REPORTS,
  Reports,
  WeirError,
  generalSchema,
  isWeirError,
  poolKeyId,
  silentLogger,
  validatePluginSections,
  type Config,
  type ConnectionId,
  type Lease,
  type Logger,
  type PoolFactory,
  type PoolKey,
  type PoolOptions as KernelPoolOptions,
  type PoolSpec,
  type PooledConnection,
  type Report,
  type ResolvedUser,
  type StatementCacheService,
  STATEMENT_CACHE,
} from '@weir/kernel';
import { PgConnector, isUsable } from './connector.js';
import { trackStatements } from './statements.js';
import { clientConfig, kernelPoolOptions, pluginSections, resolvePoolConfig, type PoolConfig, type ResolvedPoolConfig, type TenantConfig } from './options.js';

/** A client checked out of a pool: a real `pg.Client` with `release()`. */
export interface PoolClient extends pg.Client {
  /** Give the client back. `release(err)` or `release(true)` destroys it instead of reusing it. */
  release(err?: Error | boolean): void;
}

type QueryCallback<T> = (err: Error, result: T) => void;
type ConnectCallback = (err: Error | undefined, client: PoolClient | undefined, done: (release?: Error | boolean) => void) => void;

/** The `target` of pool specs made by @weir/pg: the pg.Client settings of that pool. */
export interface PgPoolTarget {
  readonly client?: pg.ClientConfig;
  /** Set by plugins that resolved the user (dynamic-pools passes the resolveUser answer on). */
  readonly resolved?: ResolvedUser;
}

const CONNECTION_ID = Symbol('weir.pg.connectionId');
const USES = Symbol('weir.pg.uses');
type Tracked = pg.Client & { [CONNECTION_ID]?: ConnectionId; [USES]?: number; ref?(): void; unref?(): void };

/** pg's message for a pool used after end(). */
const ENDED_MESSAGE = 'Cannot use a pool after calling end on the pool';

/** A SQL error from the server leaves the client usable; anything else (socket, timeout, protocol) does not. */
function serverError(err: unknown): boolean {
  return err instanceof pg.DatabaseError || (typeof (err as { severity?: unknown })?.severity === 'string' && typeof (err as { code?: unknown })?.code === 'string');
}

function isSubmittable(v: unknown): boolean {
  return v !== null && typeof v === 'object' && typeof (v as { submit?: unknown }).submit === 'function';
}

/**
 * What a `Pool` and its tenant facades share: the pg.Pool surface over one kernel pool.
 * `query`, `connect`, `end`, the events and the counters behave as node-postgres documents them.
 */
export abstract class BasePool extends EventEmitter {
  /** True once `end()` was called. */
  ending = false;
  /** True once `end()` finished. */
  ended = false;

  /** The options, pg.Pool's defaults filled in. */
  abstract readonly options: ResolvedPoolConfig;

  /** The kernel pool this facade leases from, creating it if needed. */
  protected abstract target(): Promise<KernelPool<pg.Client>>;
  /** The kernel pool as it is now (for the counters), if any. */
  protected abstract current(): KernelPool<pg.Client> | undefined;
  /** The root pool (events and bookkeeping live there). */
  protected abstract get root(): Pool;

  /** Clients open or being opened. */
  get totalCount(): number {
    return this.current()?.stats().size ?? 0;
  }

  /** Clients idle in the pool. */
  get idleCount(): number {
    return this.current()?.stats().idle ?? 0;
  }

  /** Callers waiting for a client. */
  get waitingCount(): number {
    return this.current()?.stats().waiting ?? 0;
  }

  /** Kept for pg.Pool compatibility: expired clients are closed by the kernel as they come back, so never counted. */
  get expiredCount(): number {
    return 0;
  }

  /** Check out a client; give it back with `client.release()`. */
  connect(): Promise<PoolClient>;
  connect(callback: ConnectCallback): void;
  connect(callback?: ConnectCallback): Promise<PoolClient> | void {
    const p = this.checkout();
    if (callback === undefined) return p;
    p.then(
      (client) => callback(undefined, client, (err) => client.release(err)),
      (err: Error) => callback(err, undefined, () => undefined),
    );
  }

  /** Run one query on a pooled client (checked out and given back around it). */
  query<R extends any[] = any[], I = any[]>(queryConfig: pg.QueryArrayConfig<I>, values?: pg.QueryConfigValues<I>): Promise<pg.QueryArrayResult<R>>;
  query<R extends pg.QueryResultRow = any, I = any[]>(queryConfig: pg.QueryConfig<I>): Promise<pg.QueryResult<R>>;
  query<R extends pg.QueryResultRow = any, I = any[]>(queryTextOrConfig: string | pg.QueryConfig<I>, values?: pg.QueryConfigValues<I>): Promise<pg.QueryResult<R>>;
  query<R extends any[] = any[], I = any[]>(queryConfig: pg.QueryArrayConfig<I>, callback: QueryCallback<pg.QueryArrayResult<R>>): void;
  query<R extends pg.QueryResultRow = any, I = any[]>(queryTextOrConfig: string | pg.QueryConfig<I>, callback: QueryCallback<pg.QueryResult<R>>): void;
  query<R extends pg.QueryResultRow = any, I = any[]>(queryText: string | pg.QueryConfig<I>, values: pg.QueryConfigValues<I>, callback: QueryCallback<pg.QueryResult<R>>): void;
  query(text: unknown, values?: unknown, callback?: unknown): Promise<unknown> | void {
    if (typeof values === 'function') {
      callback = values;
      values = undefined;
    }
    if (typeof text === 'function') throw new TypeError('pool.query: the first argument must be SQL text or a query config, not a function');
    if (isSubmittable(text)) throw new TypeError('pool.query: submittables (cursors, streams) need a client: use pool.connect() and client.query(submittable)');
    const p = this.run(text as string | pg.QueryConfig, values as unknown[] | undefined);
    if (typeof callback !== 'function') return p;
    const cb = callback as (err: Error | null, res?: unknown) => void;
    p.then(
      (res) => cb(null, res),
      (err: Error) => cb(err),
    );
  }

  private async run(text: string | pg.QueryConfig, values: unknown[] | undefined): Promise<unknown> {
    const client = await this.checkout();
    let result: unknown;
    try {
      result = await (values === undefined ? client.query(text as pg.QueryConfig) : client.query(text as string, values));
    } catch (err) {
      // A server-side SQL error leaves the client fit for reuse; other failures destroy it.
      client.release(serverError(err) && isUsable(client) ? undefined : (err as Error));
      throw err;
    }
    client.release();
    return result;
  }

  /** @internal */
  protected async checkout(): Promise<PoolClient> {
    if (this.ending) throw new Error(ENDED_MESSAGE);
    for (let attempt = 0; ; attempt++) {
      const pool = await this.target();
      try {
        const lease = await pool.acquire();
        return this.root.lend(lease, this);
      } catch (err) {
        // the pool was retired (idle GC, reload) between lookup and acquire: look it up again, once
        if (attempt === 0 && isWeirError(err, ErrorCodes.POOL_RETIRED) && !this.ending) continue;
        throw err;
      }
    }
  }
}

/**
 * A drop-in for `pg.Pool` backed by the weir kernel, with weir plugins in-process.
 *
 * ```ts
 * const pool = new Pool({ connectionString, max: 10, plugins: [DynamicPoolsPlugin, IdleGcPlugin] });
 * await pool.query('SELECT 1');
 * const tenant = pool.for({ database: 'acme', user: 'acme_app', password });
 * ```
 */
export class Pool extends BasePool implements PoolFactory {
  /** The kernel: its hooks, registry and container (plugins' exported services resolve here). */
  readonly kernel: Kernel;
  /** Reports plugins publish (the proxy shows them as `SHOW <NAME>`). */
  readonly reports = new Reports();
  /** The options, pg.Pool's defaults filled in. */
  readonly options: ResolvedPoolConfig;
  /** Key of the pool `query`/`connect` use. */
  readonly key: PoolKey;

  private readonly baseClient: pg.ClientConfig;
  private readonly poolOptions: KernelPoolOptions;
  private readonly logger: Logger;
  private readonly tenantFacades = new Map<string, TenantPool>();
  private readonly tenantConfigs = new Map<string, TenantConfig>();
  private main: KernelPool<pg.Client> | undefined;
  private starting: Promise<void> | undefined;
  private statements: StatementCacheService | undefined;
  /** Clients announced with 'connect' (so 'remove' is only said of those). */
  private readonly announced = new WeakSet<pg.Client>();
  /** Clients checked out right now. */
  private readonly leased = new WeakSet<pg.Client>();

  constructor(config: PoolConfig = {}) {
    super();
    this.options = resolvePoolConfig(config);
    this.baseClient = clientConfig(config);
    this.poolOptions = kernelPoolOptions(config);
    this.logger = config.logger ?? silentLogger();
    const params = defaultParams(this.baseClient);
    this.key = { database: params.database, user: params.user };
    const { classes, sections } = pluginSections(config.plugins ?? []);
    const kernelConfig: Config = {
      general: generalSchema.parse({
        connect_timeout: this.poolOptions.connectTimeoutMs,
        query_wait_timeout: this.poolOptions.acquireTimeoutMs,
        idle_timeout: this.poolOptions.idleTimeoutMs,
        server_lifetime: this.poolOptions.maxLifetimeMs,
      }),
      plugins: sections,
      pools: {},
    };
    validatePluginSections(kernelConfig, classes);
    this.kernel = new Kernel({ config: kernelConfig, plugins: classes, logger: this.logger, clock: config.clock, poolFactory: this });
    this.kernel.container.register(REPORTS, { useValue: this.reports });
  }

  protected get root(): Pool {
    return this;
  }

  protected current(): KernelPool<pg.Client> | undefined {
    return this.main;
  }

  protected async target(): Promise<KernelPool<pg.Client>> {
    await this.ready();
    return this.main!;
  }

  /** Start the kernel and set the plugins up (done on first use; call it to see plugin errors early). */
  ready(): Promise<void> {
    this.starting ??= this.start();
    return this.starting;
  }

  private async start(): Promise<void> {
    await this.kernel.start();
    // a plugin that provides the kernel's statement cache (prepared-statements does): no import of it here
    this.statements = this.kernel.service(STATEMENT_CACHE);
    // Bound after start (late), and 'post': a client is announced once every plugin has set it up.
    const hooks = this.kernel.hooks.withOwner('@weir/pg').late();
    hooks.on('create', { order: 'post', handler: (conn) => this.created(conn as PooledConnection<pg.Client>) });
    hooks.on('drop', { order: 'post', handler: (conn) => this.dropped(conn as PooledConnection<pg.Client>) });
    const spec: PoolSpec = { key: this.key, kind: 'static', options: this.poolOptions, target: { client: this.baseClient } satisfies PgPoolTarget };
    const pool = this.create(spec);
    this.main = pool;
    this.kernel.registry.add({ key: this.key, kind: 'static', pool, spec });
  }

  /**
   * A pg.Pool-like facade for another (database, user): its pool is made on first use by the
   * `resolvePool` plugins (DynamicPoolsPlugin) and, with IdleGcPlugin, collected when idle and
   * made again on the next use. Settings not given are the base pool's.
   */
  for(tenant: TenantConfig): TenantPool {
    if (this.ending) throw new Error(ENDED_MESSAGE);
    const id = poolKeyId(tenant.database, tenant.user);
    this.tenantConfigs.set(id, tenant);
    let facade = this.tenantFacades.get(id);
    if (facade === undefined || facade.ending) {
      facade = new TenantPool(this, { database: tenant.database, user: tenant.user });
      this.tenantFacades.set(id, facade);
    }
    return facade;
  }

  /** A report a plugin published (e.g. `report('prepared_statements')`), evaluated now. */
  report(name: string): Report | undefined {
    return this.reports.get(name)?.();
  }

  /** The ConnectionId the kernel gave a client of this pool (plugins key their state by it). */
  connectionId(client: pg.Client): ConnectionId | undefined {
    return (client as Tracked)[CONNECTION_ID];
  }

  /** Close every client (checked-out ones once released), stop the plugins. */
  end(): Promise<void>;
  end(callback: (err?: Error) => void): void;
  end(callback?: (err?: Error) => void): Promise<void> | void {
    return endOnce(this, () => {
      for (const t of this.tenantFacades.values()) t.ending = true;
      return this.shutdown();
    }, callback);
  }

  private async shutdown(): Promise<void> {
    if (this.starting !== undefined) {
      try {
        await this.starting;
      } catch {
        // the kernel never started: nothing to close
      }
      const registry = this.kernel.registry;
      await Promise.all(registry.entries().map((e) => registry.retire(e.key.database, e.key.user, 'pool.end()')));
      await this.kernel.stop();
    }
    this.ended = true;
    for (const t of this.tenantFacades.values()) t.ended = true;
  }

  // ---------------------------------------------------------------- PoolFactory

  /** PoolFactory: a kernel pool of pg.Clients for a spec (the base pool's settings, the tenant's over them). */
  create(spec: PoolSpec): KernelPool<pg.Client> {
    const id = poolKeyId(spec.key.database, spec.key.user);
    const tenant = this.tenantConfigs.get(id);
    const target = spec.target as PgPoolTarget;
    const { max: tenantMax, ...tenantClient } = tenant ?? ({} as Partial<TenantConfig>);
    const client: pg.ClientConfig = { ...expandConnectionString(this.baseClient), ...tenantClient, ...target.client, database: spec.key.database, user: spec.key.user };
    const resolvedSecret = target.resolved?.secret;
    if (tenant?.password === undefined && target.client?.password === undefined && resolvedSecret?.kind === 'plain') client.password = resolvedSecret.password;
    const options: KernelPoolOptions = { ...this.poolOptions, ...spec.options, ...(tenantMax === undefined ? {} : { max: tenantMax }) };
    const info = { name: `${spec.key.user}@${spec.key.database}`, key: spec.key, kind: spec.kind };
    return new KernelPool<pg.Client>({
      info,
      connector: new PgConnector(client, {
        ...(this.options.Client === undefined ? {} : { Client: this.options.Client }),
        onError: (err, c) => this.clientError(err, c, spec.key),
      }),
      options,
      hooks: this.kernel.hooks,
      clock: this.kernel.clock,
      logger: this.logger,
    });
  }

  // ---------------------------------------------------------------- bookkeeping

  /** @internal The facade for a key: a tenant's if one was asked for, else this pool. */
  facadeFor(key: PoolKey): BasePool {
    return this.tenantFacades.get(poolKeyId(key.database, key.user)) ?? this;
  }

  /** @internal Hand a leased client to a caller: `release` attached, 'acquire' said. */
  lend(lease: Lease<pg.Client>, facade: BasePool): PoolClient {
    const client = lease.connection as PoolClient & Tracked;
    let released = false;
    this.leased.add(client);
    if (this.options.allowExitOnIdle) client.ref?.();
    client.release = (err?: Error | boolean): void => {
      if (released) throw new Error('Release called on client which has already been released to the pool.');
      released = true;
      this.leased.delete(client);
      const uses = (client[USES] = (client[USES] ?? 0) + 1);
      facade.emit('release', err, client);
      const maxUses = this.options.maxUses;
      if (err || !isUsable(client) || (maxUses > 0 && uses >= maxUses)) {
        lease.destroy('released-bad');
        return;
      }
      if (this.options.allowExitOnIdle) client.unref?.();
      lease.release();
    };
    facade.emit('acquire', client);
    return client;
  }

  private created(conn: PooledConnection<pg.Client>): void | Promise<void> {
    const client = conn.connection as Tracked;
    client[CONNECTION_ID] = conn.id;
    if (this.statements !== undefined) trackStatements(client, conn.id, conn.pool.name, this.statements, this.logger);
    const announce = (): void => {
      if (this.options.allowExitOnIdle) client.unref?.();
      this.announced.add(client);
      this.options.log?.('new client connected', conn.pool.name, conn.id);
      this.facadeFor(conn.pool.key).emit('connect', client);
    };
    const { onConnect, verify } = this.options;
    if (onConnect === undefined && verify === undefined) return announce();
    return (async () => {
      if (onConnect !== undefined) await onConnect(client);
      if (verify !== undefined) {
        await new Promise<void>((resolve, reject) => verify(client as PoolClient, (err?: Error) => (err ? reject(err) : resolve())));
      }
      announce();
    })();
  }

  private dropped(conn: PooledConnection<pg.Client>): void {
    const client = conn.connection;
    this.leased.delete(client);
    if (!this.announced.has(client)) return;
    this.announced.delete(client);
    this.options.log?.('client removed', conn.pool.name, conn.id);
    this.facadeFor(conn.pool.key).emit('remove', client);
  }

  /** An idle client broke: pg.Pool says so with 'error' (err, client); a checked-out one tells its holder through its queries. */
  private clientError(err: Error, client: pg.Client, key: PoolKey): void {
    if (this.leased.has(client)) return;
    const facade = this.facadeFor(key);
    if (facade !== this && facade.listenerCount('error') === 0) this.emit('error', err, client);
    else facade.emit('error', err, client);
  }

  /** @internal The settings given to `for()` for a tenant. */
  tenantConfig(key: PoolKey): TenantConfig | undefined {
    return this.tenantConfigs.get(poolKeyId(key.database, key.user));
  }

  /** @internal Login facts for a tenant's resolvePool request. */
  resolvedFor(key: PoolKey): ResolvedUser {
    const tenant = this.tenantConfigs.get(poolKeyId(key.database, key.user));
    const password = tenant?.password;
    return {
      database: key.database,
      user: key.user,
      secret: typeof password === 'string' ? { kind: 'plain', password } : { kind: 'trust' },
      source: '@weir/pg',
      pool: { key, size: tenant?.max ?? this.poolOptions.max, serverAuth: { mode: 'passthrough' } },
    };
  }
}

/**
 * The pg.Pool surface for one tenant (database, user). Its kernel pool is made on first use by
 * the `resolvePool` plugins, may be collected while idle, and is made again when needed.
 */
export class TenantPool extends BasePool {
  private resolving: Promise<KernelPool<pg.Client>> | null = null;

  constructor(
    private readonly parent: Pool,
    readonly key: PoolKey,
  ) {
    super();
  }

  protected get root(): Pool {
    return this.parent;
  }

  /** The base pool's options with this tenant's over them. */
  get options(): ResolvedPoolConfig {
    const { max, ...client } = this.parent.tenantConfig(this.key) ?? ({} as Partial<TenantConfig>);
    return { ...this.parent.options, ...client, ...(max === undefined ? {} : { max }) };
  }

  protected current(): KernelPool<pg.Client> | undefined {
    const e = this.parent.kernel.registry.get(this.key.database, this.key.user);
    return e === undefined ? undefined : (e.pool as KernelPool<pg.Client>);
  }

  /** True while this tenant has a live pool (false before first use and after idle GC). */
  get active(): boolean {
    const p = this.current();
    return p !== undefined && !p.retired;
  }

  protected async target(): Promise<KernelPool<pg.Client>> {
    await this.parent.ready();
    const p = this.current();
    if (p !== undefined && !p.retired) return p;
    this.resolving ??= this.resolve().finally(() => {
      this.resolving = null;
    });
    return this.resolving;
  }

  private async resolve(): Promise<KernelPool<pg.Client>> {
    const { database, user } = this.key;
    const pool = await this.parent.kernel.hooks.resolveFirst('resolvePool', { key: this.key, resolved: this.parent.resolvedFor(this.key) });
    if (pool === undefined) {
      throw new WeirError('WEIR_E_NO_POOL', `no pool for ${user}@${database}: add DynamicPoolsPlugin to the pool's plugins to create per-tenant pools`, { database, user });
    }
    return pool as KernelPool<pg.Client>;
  }

  /** Close this tenant's pool now (checked-out clients once released). The base pool keeps running. */
  end(): Promise<void>;
  end(callback: (err?: Error) => void): void;
  end(callback?: (err?: Error) => void): Promise<void> | void {
    return endOnce(this, () => {
      const { registry } = this.parent.kernel;
      const e = registry.get(this.key.database, this.key.user);
      return (e !== undefined && e.kind === 'dynamic' ? registry.retire(this.key.database, this.key.user, 'tenant end()') : Promise.resolve()).then(() => {
        this.ended = true;
      });
    }, callback);
  }
}

/**
 * The settings with `connectionString` spelled out as fields: in pg, a connection string wins
 * over fields, so a tenant's database and user could not override the base pool's otherwise.
 */
function expandConnectionString(config: pg.ClientConfig): pg.ClientConfig {
  const { connectionString, ...rest } = config;
  if (connectionString === undefined) return config;
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(parseConnectionString(connectionString))) if (v !== undefined && v !== null) fields[k] = v;
  if (typeof fields.port === 'string') fields.port = Number(fields.port);
  return { ...rest, ...fields } as pg.ClientConfig;
}

/** The database and user a pg.Client with these settings logs in as (connection string, PG* environment, defaults). */
function defaultParams(config: pg.ClientConfig): { database: string; user: string } {
  const probe = new pg.Client(config); // computes its parameters; opens nothing until connect()
  return { database: String(probe.database), user: String(probe.user) };
}

/** pg.Pool's end(): once only (a second call fails), as a promise or through a callback. */
function endOnce(pool: { ending: boolean }, work: () => Promise<void>, callback?: (err?: Error) => void): Promise<void> | void {
  let p: Promise<void>;
  if (pool.ending) {
    p = Promise.reject(new Error('Called end on pool more than once'));
  } else {
    pool.ending = true;
    p = work();
  }
  if (callback === undefined) return p;
  p.then(() => callback(), (err: Error) => callback(err));
}
