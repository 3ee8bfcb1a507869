import type { ConnectionBudget } from './budget.js';
/**
 * Public types of the weir kernel. Plugin authors and hosts build against these.
 * The kernel knows no wire protocol: a "connection" is whatever a Connector makes.
 */

/** Process-unique, monotonically increasing, stable for a connection's life. */
export type ConnectionId = number;

/** A pool is keyed by (database, user): the names clients ask for. */
export interface PoolKey {
  readonly database: string;
  readonly user: string;
}

export type PoolKind = 'static' | 'dynamic';

/** Why a connection was closed (passed to Connector.destroy and the `drop` hook). */
export type DropReason =
  | 'error'        // the connection broke or a handler rejected it
  | 'idle'         // idle_timeout
  | 'lifetime'     // server_lifetime
  | 'retired'      // its pool was retired (reload, GC)
  | 'released-bad' // the lease holder or a release handler asked for it to be destroyed
  | 'shutdown'     // the pool was closed
  | (string & {});

/** What a Connector receives when asked for a new connection. */
export interface ConnectContext {
  readonly id: ConnectionId;
  readonly pool: PoolInfo;
  /** Aborted when connect_timeout passes or the pool closes. */
  readonly signal: AbortSignal;
  /**
   * Tell the pool this connection broke (e.g. a socket 'error' while idle). The pool emits
   * `connection:error`, closes it if idle, or destroys it on release if leased. Never throws.
   * (Always provided by the kernel's Pool; optional so hand-made contexts in tests stay valid.)
   */
  readonly reportError?: (error: unknown) => void;
}

/** Makes and destroys the pooled things. The proxy's connector speaks PostgreSQL; @weir/pg wraps pg.Client. */
export interface Connector<C> {
  connect(ctx: ConnectContext): Promise<C>;
  destroy(conn: C, reason: DropReason): void | Promise<void>;
  /** Optional cheap synchronous check at checkout; false = destroy and try another. */
  validate?(conn: C): boolean;
  /**
   * Optional: is this connect error passing (server restarting or briefly unreachable)? Then clients
   * waiting for a connection stay queued until their own acquire timeout while creation retries with
   * a backoff (250 ms doubling to 5 s); the timeout's error names the last connect error. Absent or
   * false: the longest waiter gets the error at once (wrong password, unknown database).
   */
  retryable?(err: unknown): boolean;
}

/** Read-only facts about a pool, handed to hooks. */
export interface PoolInfo {
  readonly name: string;           // "user@database" — used in logs and error messages
  readonly key: PoolKey;
  readonly kind: PoolKind;
}

export interface PoolOptions {
  /** Minimum connections kept open (created in the background). Default 0. */
  min?: number;
  /** Maximum connections (idle + leased + being created). */
  max: number;
  /** How long acquire() waits before failing with WEIR_E_ACQUIRE_TIMEOUT. 0 = forever. */
  acquireTimeoutMs: number;
  /** Idle connections older than this (since last release) are closed. 0 = never. */
  idleTimeoutMs?: number;
  /** Connections older than this (since creation) are closed when idle / on release. 0 = never. */
  maxLifetimeMs?: number;
  /** connect() taking longer than this is aborted. 0 = no limit. */
  connectTimeoutMs?: number;
  /** Extra connections past `max` for clients that waited `reserveTimeoutMs` or longer. Default 0. */
  reserve?: number;
  /** How long the oldest client waits before the reserve may be used. 0 = at once. */
  reserveTimeoutMs?: number;
  /** Caps shared with other pools (per database, per user): a connection needs room in each. */
  budgets?: readonly ConnectionBudget[];
}

/** A pooled connection as the kernel tracks it. */
export interface PooledConnection<C = unknown> {
  readonly id: ConnectionId;
  readonly connection: C;
  readonly pool: PoolInfo;
  readonly createdAt: number;
  /** Set by a `release` handler (or the lease holder) to have the connection destroyed instead of reused. */
  destroyOnRelease: boolean;
  /** Free-form per-connection state for plugins (keyed by their own symbol). Allocated on first use. */
  state: Map<symbol, unknown> | undefined;
}

/** A checkout. release() / destroy() end it; the first call wins, later calls are no-ops. */
export interface Lease<C = unknown> {
  readonly id: ConnectionId;
  readonly connection: C;
  readonly pooled: PooledConnection<C>;
  release(): void;
  destroy(reason?: DropReason): void;
}

export interface PoolStats {
  size: number;       // idle + active + pending creation
  idle: number;
  active: number;
  pending: number;    // connections being created
  waiting: number;    // acquirers in the queue
  maxWaitMs: number;  // age of the oldest waiter now
  createdTotal: number;
  destroyedTotal: number;
  acquiredTotal: number;
  lastActivityAt: number; // clock ms of the last acquire/release
  retired: boolean;
}

/** A pool can be built from this by the host's PoolFactory. `target` is host-specific (server address, credentials, …). */
export interface PoolSpec {
  readonly key: PoolKey;
  readonly kind: PoolKind;
  readonly options: PoolOptions;
  readonly target: Readonly<Record<string, unknown>>;
}

/** Credentials a client may present, as stored: never logged. */
export type AuthSecret =
  | { readonly kind: 'md5'; readonly hash: string }              // "md5" + md5(password + user)
  | { readonly kind: 'scram-sha-256'; readonly verifier: string } // "SCRAM-SHA-256$iter:salt$StoredKey:ServerKey"
  | { readonly kind: 'plain'; readonly password: string }
  | { readonly kind: 'trust' };

/** Answer of the `resolveUser` point: a user the config does not list. */
export interface ResolvedUser {
  readonly database: string;
  readonly user: string;
  readonly secret: AuthSecret;
  /** Which plugin answered (for SHOW and logs). */
  readonly source: string;
  /** Pool this user lands in, and how that pool logs in to the server. */
  readonly pool: {
    readonly key: PoolKey;              // passthrough: (db, user); dedicated: (db, server_user)
    readonly size: number;
    /** Server login: 'passthrough' reuses `secret`; otherwise explicit credentials. */
    readonly serverAuth: { readonly mode: 'passthrough' } | { readonly mode: 'credentials'; readonly user: string; readonly password: string };
  };
}

export interface ResolveUserRequest {
  readonly database: string;
  readonly user: string;
}

export interface ResolvePoolRequest {
  readonly key: PoolKey;
  /** The user as resolved (static user spec or resolveUser answer). */
  readonly resolved?: ResolvedUser;
}
