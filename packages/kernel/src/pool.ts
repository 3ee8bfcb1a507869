import type { BudgetMember, ConnectionBudget } from './budget.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { Phase, PoolConnection } from './connection.js';
import { ErrorCodes, WeirError, isWeirError, messageOf } from './errors.js';
import type { Hooks } from './hooks.js';
import { nextConnectionId } from './ids.js';
import { PoolLease, type LeaseOwner } from './lease.js';
import { silentLogger, type Logger } from './logger.js';
import { WaitQueue, Waiter } from './waiters.js';
import type {
  ConnectContext,
  ConnectionId,
  Connector,
  DropReason,
  Lease,
  PoolInfo,
  PoolOptions,
  PoolStats,
  PooledConnection,
} from './types.js';

export interface PoolArgs<C> {
  info: PoolInfo;
  connector: Connector<C>;
  options: PoolOptions;
  hooks: Hooks;
  clock?: Clock;
  logger?: Logger;
}

/** A live connection as listed by Pool.connections() (for SHOW SERVERS). */
export interface ConnectionView<C> {
  pooled: PooledConnection<C>;
  state: 'idle' | 'active' | 'closing';
  lastUsedAt: number;
}

/** One connector.connect() in flight. */
class ConnectAttempt {
  done = false;
  timer: TimerHandle | null = null;
  readonly ac = new AbortController();
  constructor(readonly id: ConnectionId) {}
}

const MIN_RETRY_BASE_MS = 1_000;
const MIN_RETRY_MAX_MS = 30_000;
/** Retrying creation for waiters after a retryable connect error: 250 ms, doubling, at most 5 s apart. */
const WAIT_RETRY_BASE_MS = 250;
const WAIT_RETRY_MAX_MS = 5_000;

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function';
}

/**
 * A pool of connections made by a Connector. One scheduler, `pulse()`, decides hand-off to
 * waiters, creation and eviction; every other method changes state and then pulses.
 */
export class Pool<C = unknown> implements LeaseOwner<C>, BudgetMember {
  readonly info: PoolInfo;
  options: PoolOptions;

  private readonly connector: Connector<C>;
  private readonly hooks: Hooks;
  private readonly clock: Clock;
  private readonly logger: Logger;

  /** Idle connections as a stack: top = most recently released, bottom = idle longest. */
  private readonly idle: PoolConnection<C>[] = [];
  /** Every connection not yet closed (creating, idle, active). */
  private readonly all = new Map<ConnectionId, PoolConnection<C>>();
  /** Closed connections whose connector.destroy() is still running. */
  private readonly closing = new Map<ConnectionId, PoolConnection<C>>();
  private readonly attempts = new Set<ConnectAttempt>();
  private readonly waiters = new WaitQueue<Lease<C>>();
  private active = 0;
  /** Connections being made: connect() in flight or create hooks running. */
  private pending = 0;
  /** Slots taken from the budgets: connects in flight and connections not yet closed. */
  private held = 0;
  private budgets: readonly ConnectionBudget[];

  private createdTotal = 0;
  private destroyedTotal = 0;
  private acquiredTotal = 0;
  private lastActivityAt: number;

  /** One timer for every waiter: due at the oldest waiter's deadline. */
  private waitTimer: TimerHandle | null = null;
  private waitTimerAt = Infinity;
  private sweepTimer: TimerHandle | null = null;
  private sweepAt = Infinity;
  private minRetryAt = 0;
  private minBackoff = 0;
  private minTimer: TimerHandle | null = null;
  /** After a retryable connect error, waiters stay queued and creation for them waits until then. */
  private waitRetryAt = 0;
  private waitBackoff = 0;
  private waitRetryTimer: TimerHandle | null = null;
  private reserveTimer: TimerHandle | null = null;
  private reserveAt = Infinity;
  /** The last retryable connect error, named when a waiter times out; cleared by a success. */
  private lastConnectError: WeirError | null = null;

  private pulsing = false;
  private again = false;
  private retiring = false;
  private isClosed = false;
  private endReason: DropReason = 'retired';
  private drained: Promise<void> | null = null;
  private resolveDrained: (() => void) | null = null;

  constructor(args: PoolArgs<C>) {
    this.info = args.info;
    this.connector = args.connector;
    this.options = { ...args.options };
    this.hooks = args.hooks;
    this.clock = args.clock ?? systemClock;
    this.logger = args.logger ?? silentLogger();
    this.lastActivityAt = this.clock.now();
    checkOptions(this.info, this.options);
    this.budgets = this.options.budgets ?? [];
    for (const b of this.budgets) b.join(this);
    if ((this.options.min ?? 0) > 0) this.pulse();
  }

  get retired(): boolean {
    return this.retiring;
  }

  /** True once close() was called. */
  get closed(): boolean {
    return this.isClosed;
  }

  resize(options: Partial<PoolOptions>): void {
    const next = { ...this.options, ...options };
    checkOptions(this.info, next);
    this.options = next;
    this.moveBudgets(next.budgets ?? []);
    if (this.sweepTimer !== null) this.clock.clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
    this.sweepAt = Infinity;
    for (let i = 0; i < this.idle.length; i++) this.armSweep(this.idle[i]!);
    this.pulse();
  }

  /** An idle, valid connection leased at once, or null. Never waits, never creates. */
  tryAcquire(): Lease<C> | null {
    if (this.idle.length === 0 || this.waiters.size !== 0 || this.retiring) return null;
    const now = this.clock.now();
    for (;;) {
      const conn = this.idle.pop();
      if (conn === undefined) return null;
      if (this.usable(conn, now)) return this.checkout(conn, now);
    }
  }

  /** A lease, first come first served. */
  acquire(signal?: AbortSignal): Promise<Lease<C>> {
    return new Promise<Lease<C>>((resolve, reject) => this.acquireWith(resolve, reject, signal));
  }

  /**
   * acquire() for hot paths, without a promise: `onLease` or `onError` runs exactly once — at
   * once when a connection is free, or later, possibly inside another lease's release() (a
   * direct hand-off). Neither may throw.
   */
  acquireWith(onLease: (lease: Lease<C>) => void, onError: (err: unknown) => void, signal?: AbortSignal): void {
    if (this.retiring) return onError(this.endedError());
    if (this.idle.length !== 0 && this.waiters.size === 0) {
      let lease: Lease<C> | null;
      try {
        lease = this.tryAcquire();
      } catch (err) {
        return onError(err);
      }
      if (lease !== null) return onLease(lease);
    }
    if (signal !== undefined && signal.aborted) return onError(this.abortError(signal));
    const now = this.clock.now();
    this.lastActivityAt = now;
    const w = new Waiter<Lease<C>>(now, onLease, onError);
    this.waiters.push(w);
    const ms = this.options.acquireTimeoutMs;
    if (ms > 0) {
      w.deadline = now + ms;
      if (w.deadline < this.waitTimerAt) this.armWaitTimer(w.deadline, now);
    }
    if (signal !== undefined) {
      w.signal = signal;
      w.onAbort = () => this.abortWaiter(w, signal);
      signal.addEventListener('abort', w.onAbort, { once: true });
    }
    this.pulse();
  }

  stats(): PoolStats {
    const oldest = this.waiters.peek();
    return {
      size: this.size(),
      idle: this.idle.length,
      active: this.active,
      pending: this.pending,
      waiting: this.waiters.size,
      maxWaitMs: oldest === undefined ? 0 : this.clock.now() - oldest.enqueuedAt,
      createdTotal: this.createdTotal,
      destroyedTotal: this.destroyedTotal,
      acquiredTotal: this.acquiredTotal,
      lastActivityAt: this.lastActivityAt,
      retired: this.retiring,
    };
  }

  /** No new acquires; queued waiters rejected; idle closed now; leased closed on return. Resolves at size 0. */
  retire(reason = 'retired'): Promise<void> {
    return this.end(reason, 'retired', ErrorCodes.POOL_RETIRED);
  }

  /** Like retire, and leased connections are destroyed now too. */
  close(): Promise<void> {
    const done = this.end('closed', 'shutdown', ErrorCodes.POOL_CLOSED);
    this.isClosed = true;
    for (const conn of [...this.all.values()]) {
      if (conn.phase === Phase.Active) this.closeConn(conn, 'shutdown');
    }
    return done;
  }

  /**
   * RECONNECT: every connection made so far is replaced — idle ones close now, leased ones when
   * released. Returns how many were marked. New connections are made as clients need them.
   */
  recycle(): number {
    let n = 0;
    for (const conn of this.all.values()) {
      if (conn.phase === Phase.Active) {
        conn.destroyOnRelease = true;
        n++;
      }
    }
    while (this.idle.length !== 0) {
      this.closeConn(this.idle.pop()!, 'lifetime');
      n++;
    }
    return n;
  }

  *connections(): Iterable<ConnectionView<C>> {
    for (const conn of this.all.values()) {
      if (conn.phase === Phase.Idle) yield { pooled: conn, state: 'idle', lastUsedAt: conn.lastUsedAt };
      else if (conn.phase === Phase.Active) yield { pooled: conn, state: 'active', lastUsedAt: conn.lastUsedAt };
    }
    for (const conn of this.closing.values()) yield { pooled: conn, state: 'closing', lastUsedAt: conn.lastUsedAt };
  }

  /**
   * A connection broke (e.g. an idle socket's 'error'). Emits `connection:error`; an idle one is
   * closed now, a leased or still-starting one when it comes back. Never throws.
   */
  reportError(target: ConnectionId | PooledConnection<C>, error: unknown): void {
    try {
      this.emitError(error);
      const conn = this.all.get(typeof target === 'number' ? target : target.id);
      if (conn === undefined) return;
      if (conn.phase === Phase.Idle) {
        const i = this.idle.indexOf(conn);
        if (i >= 0) this.idle.splice(i, 1);
        this.closeConn(conn, 'error');
      } else {
        conn.broken = true;
      }
    } catch (err) {
      this.logger.error({ err, pool: this.info.name }, 'pool: failed to handle a connection error');
    }
  }

  // ---- leases -------------------------------------------------------------------------------

  /** @internal Called by a lease, once. */
  endLease(lease: PoolLease<C>, destroy: boolean, reason: DropReason): void {
    const conn = lease.pooled;
    if (conn.phase !== Phase.Active || conn.lease !== lease) return;
    conn.lease = null;
    const now = this.clock.now();
    conn.lastUsedAt = now;
    this.lastActivityAt = now;
    let why: DropReason | null = destroy ? reason : null;
    try {
      this.hooks.runRelease(conn);
    } catch (err) {
      this.emitError(err);
      why ??= 'error';
    }
    if (why === null) why = this.releaseVerdict(conn, now);
    if (why !== null) {
      this.closeConn(conn, why);
      return;
    }
    this.active--;
    conn.phase = Phase.Idle;
    this.idle.push(conn);
    this.armSweep(conn);
    this.pulse();
  }

  private releaseVerdict(conn: PoolConnection<C>, now: number): DropReason | null {
    if (conn.broken) return 'error';
    if (conn.destroyOnRelease) return 'released-bad';
    if (this.retiring) return this.endReason;
    const life = this.options.maxLifetimeMs ?? 0;
    if (life > 0 && now - conn.createdAt >= life) return 'lifetime';
    if (this.size() > this.options.max) return 'resized';
    return null;
  }

  private checkout(conn: PoolConnection<C>, now: number): PoolLease<C> {
    conn.phase = Phase.Active;
    conn.lastUsedAt = now;
    this.active++;
    this.acquiredTotal++;
    this.lastActivityAt = now;
    const lease = new PoolLease(conn, this);
    conn.lease = lease;
    try {
      this.hooks.runCheckout(conn);
    } catch (err) {
      this.closeConn(conn, 'error');
      throw err;
    }
    return lease;
  }

  /** A connection just taken off the idle stack: still fit to lease? If not, it is closed. */
  private usable(conn: PoolConnection<C>, now: number): boolean {
    const life = this.options.maxLifetimeMs ?? 0;
    if (life > 0 && now - conn.createdAt >= life) {
      this.closeConn(conn, 'lifetime');
      return false;
    }
    const idleMs = this.options.idleTimeoutMs ?? 0;
    if (idleMs > 0 && now - conn.lastUsedAt >= idleMs && this.size() >= (this.options.min ?? 0)) {
      this.closeConn(conn, 'idle');
      return false;
    }
    const validate = this.connector.validate;
    if (validate !== undefined) {
      let ok: boolean;
      try {
        ok = validate.call(this.connector, conn.connection);
      } catch {
        ok = false;
      }
      if (!ok) {
        this.closeConn(conn, 'error');
        return false;
      }
    }
    return true;
  }

  // ---- the scheduler ------------------------------------------------------------------------

  private size(): number {
    return this.idle.length + this.active + this.pending;
  }

  /** Decide hand-off, creation and eviction. Re-entrant calls fold into the running one. */
  private pulse(): void {
    // nothing to decide: nobody waits, size within [min, max], not ending (the common release)
    if (this.waiters.size === 0 && !this.retiring && !this.budgetWanted()) {
      const size = this.size();
      if (size <= this.options.max && size >= (this.options.min ?? 0)) return;
    }
    if (this.pulsing) {
      this.again = true;
      return;
    }
    this.pulsing = true;
    try {
      do {
        this.again = false;
        this.pulseOnce();
      } while (this.again);
    } finally {
      this.pulsing = false;
    }
  }

  private pulseOnce(): void {
    if (this.retiring) {
      while (this.idle.length !== 0) this.closeConn(this.idle.pop()!, this.endReason);
      this.checkDrained();
      return;
    }
    const waiters = this.waiters;
    let now = -1;
    // 1. hand idle connections to the longest waiters
    while (waiters.size !== 0 && this.idle.length !== 0) {
      if (now < 0) now = this.clock.now();
      const conn = this.idle.pop()!;
      if (!this.usable(conn, now)) continue;
      this.grant(waiters.shift()!, conn, now);
    }
    // 2. create for waiters no connection in the making will serve (after a backoff once it failed)
    const max = this.options.max;
    let cap = max;
    if (waiters.size > this.pending && this.size() >= max && (this.options.reserve ?? 0) > 0) {
      if (now < 0) now = this.clock.now();
      cap = this.reserveCap(now);
    }
    if (waiters.size > this.pending && this.size() < cap) {
      if (this.waitBackoff !== 0 && now < 0) now = this.clock.now();
      if (this.waitBackoff !== 0 && now < this.waitRetryAt) this.armWaitRetry(now);
      else while (waiters.size > this.pending && this.size() < cap && this.roomInBudgets(true)) this.startConnect();
    }
    // 3. keep min open
    const min = Math.min(this.options.min ?? 0, max);
    if (this.size() < min) {
      if (now < 0) now = this.clock.now();
      if (now >= this.minRetryAt) {
        while (this.size() < min && this.roomInBudgets(false)) this.startConnect();
      } else {
        this.armMinRetry(now);
      }
    }
    // 4. shed idle connections above max (after a resize, or reserve ones nobody waits for)
    while (this.size() > max && this.idle.length !== 0 && waiters.size === 0) this.closeConn(this.idle.shift()!, 'resized');
    // 5. a full budget that another pool's clients wait on gets this pool's idle connections back
    if (waiters.size === 0) {
      while (this.idle.length !== 0 && this.budgetWanted()) this.closeConn(this.idle.shift()!, 'idle');
    }
  }

  /** max, plus the reserve once the oldest waiter has waited reserveTimeoutMs (else a timer for then). */
  private reserveCap(now: number): number {
    const oldest = this.waiters.peek();
    const due = oldest === undefined ? Infinity : oldest.enqueuedAt + (this.options.reserveTimeoutMs ?? 0);
    if (now >= due) return this.options.max + this.options.reserve!;
    if (due !== Infinity && due < this.reserveAt) {
      if (this.reserveTimer !== null) this.clock.clearTimeout(this.reserveTimer);
      this.reserveAt = due;
      this.reserveTimer = this.clock.setTimeout(() => {
        this.reserveTimer = null;
        this.reserveAt = Infinity;
        this.pulse();
      }, due - now);
    }
    return this.options.max;
  }

  private budgetWanted(): boolean {
    const bs = this.budgets;
    for (let i = 0; i < bs.length; i++) if (bs[i]!.full && bs[i]!.wanted(this)) return true;
    return false;
  }

  private grant(w: Waiter<Lease<C>>, conn: PoolConnection<C>, now: number): void {
    this.clearWaiter(w);
    let lease: PoolLease<C>;
    try {
      lease = this.checkout(conn, now);
    } catch (err) {
      w.reject(err);
      return;
    }
    try {
      w.resolve(lease);
    } catch (err) {
      // acquireWith callbacks must not throw; one that does must not break the releaser's call.
      this.logger.error({ err, pool: this.info.name }, 'pool: an acquire callback threw');
    }
  }

  // ---- budgets (max_db_connections, max_user_connections) --------------------------------------

  /** Is there room in every budget? If not, wait for one (and, for waiting clients, ask others to shed). */
  private roomInBudgets(forWaiters: boolean): boolean {
    const bs = this.budgets;
    for (let i = 0; i < bs.length; i++) {
      if (!bs[i]!.full) continue;
      bs[i]!.wait(this, forWaiters);
      // Shedding may have made room at once.
      if (bs[i]!.full) return false;
    }
    return true;
  }

  private giveSlot(): void {
    if (this.held === 0) return;
    this.held--;
    for (let i = 0; i < this.budgets.length; i++) this.budgets[i]!.give();
  }

  private moveBudgets(next: readonly ConnectionBudget[]): void {
    const prev = this.budgets;
    if (prev.length === next.length && prev.every((b, i) => b === next[i])) return;
    for (const b of prev) if (!next.includes(b)) { b.leave(this); b.give(this.held); }
    for (const b of next) if (!prev.includes(b)) { b.join(this); b.take(this.held); }
    this.budgets = next;
  }

  /** BudgetMember: a budget this pool waits on has room again. */
  budgetFreed(): void {
    if (!this.retiring) this.pulse();
  }

  /** BudgetMember: close the connection idle longest, if no client of this pool waits. */
  shedIdle(): boolean {
    if (this.idle.length === 0 || this.waiters.size !== 0) return false;
    this.closeConn(this.idle.shift()!, 'idle');
    return true;
  }

  // ---- creating -----------------------------------------------------------------------------

  private startConnect(): void {
    this.pending++;
    this.held++;
    for (let i = 0; i < this.budgets.length; i++) this.budgets[i]!.take();
    const a = new ConnectAttempt(nextConnectionId());
    this.attempts.add(a);
    const ms = this.options.connectTimeoutMs ?? 0;
    if (ms > 0) {
      a.timer = this.clock.setTimeout(() => {
        a.timer = null;
        const err = new WeirError(ErrorCodes.CONNECT_TIMEOUT, `pool ${this.info.name}: connect timed out after ${ms}ms`, {
          pool: this.info.name,
          timeoutMs: ms,
        });
        a.ac.abort(err);
        this.connectFailed(a, err);
      }, ms);
    }
    const ctx: ConnectContext = {
      id: a.id,
      pool: this.info,
      signal: a.ac.signal,
      reportError: (error: unknown) => this.reportError(a.id, error),
    };
    let p: Promise<C>;
    try {
      p = Promise.resolve(this.connector.connect(ctx));
    } catch (err) {
      p = Promise.reject(err);
    }
    p.then(
      (c) => this.connected(a, c),
      (err: unknown) => this.connectFailed(a, err),
    );
  }

  private finishAttempt(a: ConnectAttempt): void {
    a.done = true;
    if (a.timer !== null) this.clock.clearTimeout(a.timer);
    a.timer = null;
    this.attempts.delete(a);
  }

  private connected(a: ConnectAttempt, c: C): void {
    if (a.done) {
      // timed out or the pool ended while connecting: never pooled, so no drop hook
      this.destroyRaw(c, this.retiring ? this.endReason : 'error');
      return;
    }
    this.finishAttempt(a);
    const conn = new PoolConnection(a.id, c, this.info, this.clock.now());
    this.createdTotal++;
    this.minBackoff = 0;
    this.waitBackoff = 0;
    this.lastConnectError = null;
    this.all.set(conn.id, conn);
    const run = this.hooks.runCreate(conn);
    if (run === undefined) this.admit(conn);
    else run.then(
      () => this.admit(conn),
      (err: unknown) => this.createRejected(conn, err),
    );
  }

  private admit(conn: PoolConnection<C>): void {
    this.pending--;
    if (conn.phase !== Phase.Creating) return this.pulse();
    if (this.retiring) return this.closeConn(conn, this.endReason);
    if (conn.broken) return this.closeConn(conn, 'error');
    conn.phase = Phase.Idle;
    conn.lastUsedAt = this.clock.now();
    this.idle.push(conn);
    this.armSweep(conn);
    this.pulse();
  }

  private createRejected(conn: PoolConnection<C>, err: unknown): void {
    this.pending--;
    this.emitError(err);
    if (!this.retiring) {
      this.failOneWaiter(err);
      this.noteMinFailure();
    }
    this.closeConn(conn, 'error');
  }

  private connectFailed(a: ConnectAttempt, err: unknown): void {
    if (a.done) return;
    this.finishAttempt(a);
    this.pending--;
    this.giveSlot();
    const error = isWeirError(err)
      ? err
      : new WeirError(ErrorCodes.CONNECT_FAILED, `pool ${this.info.name}: connect failed: ${messageOf(err)}`, { pool: this.info.name }, { cause: err });
    this.emitError(error);
    if (!this.retiring) {
      if (this.isRetryable(error)) this.noteWaitFailure(error);
      else this.failOneWaiter(error);
      this.noteMinFailure();
    }
    this.pulse();
  }

  /** Does the connector call this error passing (server restarting, unreachable)? Then waiters keep waiting. */
  private isRetryable(err: WeirError): boolean {
    const f = this.connector.retryable;
    if (f === undefined) return false;
    try {
      return f.call(this.connector, err) === true;
    } catch {
      return false;
    }
  }

  private noteWaitFailure(err: WeirError): void {
    this.lastConnectError = err;
    this.waitBackoff = this.waitBackoff === 0 ? WAIT_RETRY_BASE_MS : Math.min(this.waitBackoff * 2, WAIT_RETRY_MAX_MS);
    this.waitRetryAt = this.clock.now() + this.waitBackoff;
  }

  private armWaitRetry(now: number): void {
    if (this.waitRetryTimer !== null) return;
    this.waitRetryTimer = this.clock.setTimeout(() => {
      this.waitRetryTimer = null;
      this.pulse();
    }, this.waitRetryAt - now);
  }

  /** A creation failed: the longest waiter that no other creation will serve gets the error. */
  private failOneWaiter(err: unknown): void {
    if (this.waiters.size <= this.pending) return;
    const w = this.waiters.shift()!;
    this.clearWaiter(w);
    w.reject(err);
  }

  private noteMinFailure(): void {
    if ((this.options.min ?? 0) <= 0) return;
    this.minBackoff = this.minBackoff === 0 ? MIN_RETRY_BASE_MS : Math.min(this.minBackoff * 2, MIN_RETRY_MAX_MS);
    this.minRetryAt = this.clock.now() + this.minBackoff;
  }

  private armMinRetry(now: number): void {
    if (this.minTimer !== null) return;
    this.minTimer = this.clock.setTimeout(() => {
      this.minTimer = null;
      this.pulse();
    }, this.minRetryAt - now);
  }

  // ---- closing ------------------------------------------------------------------------------

  /** Close a connection already taken off the idle stack (or active, or creating). Drop hooks run exactly once. */
  private closeConn(conn: PoolConnection<C>, reason: DropReason): void {
    if (conn.phase === Phase.Closed) return;
    if (conn.phase === Phase.Active) {
      this.active--;
      const lease = conn.lease;
      if (lease !== null) {
        lease.done = true;
        conn.lease = null;
      }
    }
    conn.phase = Phase.Closed;
    this.all.delete(conn.id);
    this.destroyedTotal++;
    this.hooks.runDrop(conn, reason);
    let r: unknown;
    try {
      r = this.connector.destroy(conn.connection, reason);
    } catch (err) {
      this.logger.warn({ err, pool: this.info.name, connection: conn.id }, 'pool: connector.destroy failed');
    }
    // Its slot in the budgets comes back once it is really gone (the server may count it until then).
    if (isThenable(r)) {
      this.closing.set(conn.id, conn);
      const done = (): void => {
        this.closing.delete(conn.id);
        this.giveSlot();
        if (this.retiring) this.pulse();
      };
      r.then(done, (err: unknown) => {
        this.logger.warn({ err, pool: this.info.name, connection: conn.id }, 'pool: connector.destroy failed');
        done();
      });
    } else {
      this.giveSlot();
    }
    this.pulse();
  }

  /** Destroy a connection that was never pooled (its connect outlived a timeout or the pool). */
  private destroyRaw(c: C, reason: DropReason): void {
    try {
      const r = this.connector.destroy(c, reason);
      if (isThenable(r)) r.then(undefined, (err: unknown) => this.logger.warn({ err, pool: this.info.name }, 'pool: connector.destroy failed'));
    } catch (err) {
      this.logger.warn({ err, pool: this.info.name }, 'pool: connector.destroy failed');
    }
  }

  private armSweep(conn: PoolConnection<C>): void {
    const idleMs = this.options.idleTimeoutMs ?? 0;
    const life = this.options.maxLifetimeMs ?? 0;
    let at = Infinity;
    if (idleMs > 0) at = conn.lastUsedAt + idleMs;
    if (life > 0 && conn.createdAt + life < at) at = conn.createdAt + life;
    if (at >= this.sweepAt) return;
    if (this.sweepTimer !== null) this.clock.clearTimeout(this.sweepTimer);
    this.sweepAt = at;
    this.sweepTimer = this.clock.setTimeout(this.onSweep, Math.max(0, at - this.clock.now()));
  }

  /** Close idle connections past idle_timeout (while above min) or server_lifetime. */
  private readonly onSweep = (): void => {
    this.sweepTimer = null;
    this.sweepAt = Infinity;
    if (this.retiring) return;
    const now = this.clock.now();
    const idleMs = this.options.idleTimeoutMs ?? 0;
    const life = this.options.maxLifetimeMs ?? 0;
    let spare = this.size() - (this.options.min ?? 0);
    const victims: PoolConnection<C>[] = [];
    const reasons: DropReason[] = [];
    let kept = 0;
    for (let i = 0; i < this.idle.length; i++) {
      const conn = this.idle[i]!;
      let why: DropReason | null = null;
      if (life > 0 && now - conn.createdAt >= life) why = 'lifetime';
      else if (idleMs > 0 && spare > 0 && now - conn.lastUsedAt >= idleMs) why = 'idle';
      if (why === null) {
        this.idle[kept++] = conn;
      } else {
        spare--;
        victims.push(conn);
        reasons.push(why);
      }
    }
    this.idle.length = kept;
    for (let i = 0; i < victims.length; i++) this.closeConn(victims[i]!, reasons[i]!);
    const idleCounts = this.size() > (this.options.min ?? 0);
    for (let i = 0; i < this.idle.length; i++) {
      const conn = this.idle[i]!;
      if (idleCounts || life > 0) this.armSweepFor(conn, idleCounts);
    }
  };

  private armSweepFor(conn: PoolConnection<C>, idleCounts: boolean): void {
    if (idleCounts) return this.armSweep(conn);
    const life = this.options.maxLifetimeMs ?? 0;
    const at = conn.createdAt + life;
    if (at >= this.sweepAt) return;
    if (this.sweepTimer !== null) this.clock.clearTimeout(this.sweepTimer);
    this.sweepAt = at;
    this.sweepTimer = this.clock.setTimeout(this.onSweep, Math.max(0, at - this.clock.now()));
  }

  // ---- waiters and ending -------------------------------------------------------------------

  private clearWaiter(w: Waiter<Lease<C>>): void {
    if (w.signal !== undefined && w.onAbort !== null) w.signal.removeEventListener('abort', w.onAbort);
    w.onAbort = null;
  }

  private armWaitTimer(at: number, now: number): void {
    if (this.waitTimer !== null) this.clock.clearTimeout(this.waitTimer);
    this.waitTimerAt = at;
    this.waitTimer = this.clock.setTimeout(this.onWaitTimer, Math.max(0, at - now));
  }

  /**
   * Time out waiters whose deadline passed. Waiters queue in deadline order (same timeout, FIFO),
   * so only the head is looked at; the timer is then re-armed for the new head.
   */
  private readonly onWaitTimer = (): void => {
    this.waitTimer = null;
    this.waitTimerAt = Infinity;
    const now = this.clock.now();
    for (let w = this.waiters.peek(); w !== undefined; w = this.waiters.peek()) {
      if (w.deadline > now) {
        if (w.deadline !== Infinity) this.armWaitTimer(w.deadline, now);
        return;
      }
      this.waiters.remove(w);
      this.clearWaiter(w);
      const ms = w.deadline - w.enqueuedAt;
      const last = this.lastConnectError;
      w.reject(
        new WeirError(ErrorCodes.ACQUIRE_TIMEOUT,
          `pool ${this.info.name}: no connection available within ${ms}ms` + (last === null ? '' : ` (last connect error: ${last.message})`), {
            pool: this.info.name,
            timeoutMs: ms,
          }, last === null ? undefined : { cause: last }),
      );
    }
  };

  private abortWaiter(w: Waiter<Lease<C>>, signal: AbortSignal): void {
    if (!w.queued) return;
    this.waiters.remove(w);
    this.clearWaiter(w);
    w.reject(this.abortError(signal));
  }

  private abortError(signal: AbortSignal): WeirError {
    return new WeirError(ErrorCodes.ACQUIRE_ABORTED, `pool ${this.info.name}: acquire aborted`, { pool: this.info.name }, { cause: signal.reason });
  }

  private endedError(): WeirError {
    return this.isClosed
      ? new WeirError(ErrorCodes.POOL_CLOSED, `pool ${this.info.name} is closed`, { pool: this.info.name })
      : new WeirError(ErrorCodes.POOL_RETIRED, `pool ${this.info.name} is retired`, { pool: this.info.name });
  }

  private end(reason: string, dropReason: DropReason, code: string): Promise<void> {
    if (!this.retiring) {
      this.retiring = true;
      this.endReason = dropReason;
      const err = new WeirError(code, `pool ${this.info.name} is ${dropReason === 'shutdown' ? 'closed' : 'retired'}: ${reason}`, {
        pool: this.info.name,
        reason,
      });
      for (const w of this.waiters.drain()) {
        this.clearWaiter(w);
        w.reject(err);
      }
      for (const a of [...this.attempts]) {
        this.finishAttempt(a);
        this.pending--;
        this.giveSlot();
        a.ac.abort(err);
      }
      if (this.sweepTimer !== null) this.clock.clearTimeout(this.sweepTimer);
      if (this.minTimer !== null) this.clock.clearTimeout(this.minTimer);
      if (this.waitTimer !== null) this.clock.clearTimeout(this.waitTimer);
      if (this.waitRetryTimer !== null) this.clock.clearTimeout(this.waitRetryTimer);
      if (this.reserveTimer !== null) this.clock.clearTimeout(this.reserveTimer);
      this.sweepTimer = this.minTimer = this.waitTimer = this.waitRetryTimer = this.reserveTimer = null;
      this.reserveAt = Infinity;
      this.waitTimerAt = Infinity;
      this.sweepAt = Infinity;
      this.logger.info({ pool: this.info.name, reason }, `pool ${dropReason === 'shutdown' ? 'closing' : 'retiring'}`);
    }
    this.drained ??= new Promise<void>((resolve) => {
      this.resolveDrained = resolve;
    });
    this.pulse();
    return this.drained;
  }

  private checkDrained(): void {
    if (this.resolveDrained !== null && this.size() === 0 && this.closing.size === 0) {
      for (const b of this.budgets) b.leave(this);
      const resolve = this.resolveDrained;
      this.resolveDrained = null;
      resolve();
    }
  }

  private emitError(err: unknown): void {
    this.logger.warn({ err, pool: this.info.name }, 'pool: connection error');
    this.hooks.emit('connection:error', this.info, err);
  }
}

function checkOptions(info: PoolInfo, o: PoolOptions): void {
  const bad = (key: string): never => {
    throw new WeirError(ErrorCodes.CONFIG_INVALID, `pool ${info.name}: invalid option ${key}`, { pool: info.name, path: key });
  };
  if (!Number.isInteger(o.max) || o.max < 1) bad('max');
  if (o.min !== undefined && (!Number.isInteger(o.min) || o.min < 0)) bad('min');
  if (!(o.acquireTimeoutMs >= 0)) bad('acquireTimeoutMs');
  if (o.idleTimeoutMs !== undefined && !(o.idleTimeoutMs >= 0)) bad('idleTimeoutMs');
  if (o.maxLifetimeMs !== undefined && !(o.maxLifetimeMs >= 0)) bad('maxLifetimeMs');
  if (o.connectTimeoutMs !== undefined && !(o.connectTimeoutMs >= 0)) bad('connectTimeoutMs');
  if (o.reserve !== undefined && (!Number.isInteger(o.reserve) || o.reserve < 0)) bad('reserve');
  if (o.reserveTimeoutMs !== undefined && !(o.reserveTimeoutMs >= 0)) bad('reserveTimeoutMs');
}
