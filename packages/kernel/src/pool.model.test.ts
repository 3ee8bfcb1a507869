/**
 * Model-based test of Pool: random command sequences against a reference model that tracks what
 * the pool must have done (leases held, waiters queued, connects in flight, connections dropped),
 * driven by a FakeClock and a fake connector whose connects succeed, fail, are rejected by a
 * create hook, or hang until timed out.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks } from './clock.js';
import { Hooks } from './hooks.js';
import { Pool } from './pool.js';
import type { ConnectContext, Lease, PoolOptions } from './types.js';

interface FakeConn {
  readonly id: number;
  createFail: boolean;
  /** validate() says no */
  bad?: boolean;
}

/** One connector.connect() call, settled by the test. */
interface FakeConnect {
  readonly ctx: ConnectContext;
  readonly resolve: (c: FakeConn) => void;
  readonly reject: (e: Error) => void;
  settled: boolean;
  /** The pool had given up on it (timeout, retire) before it settled. */
  abandoned?: boolean;
  conn?: FakeConn;
}

interface ModelWaiter {
  readonly seq: number;
  state: 'pending' | 'served' | 'rejected';
  code?: string;
}

type Cmd =
  | { t: 'acquire' }
  | { t: 'try' }
  | { t: 'release'; i: number }
  | { t: 'destroy'; i: number }
  | { t: 'stale'; i: number }
  | { t: 'connect'; i: number; outcome: 'ok' | 'fail' | 'createFail' }
  | { t: 'advance'; ms: number }
  | { t: 'retire' }
  | { t: 'report'; i: number }
  | { t: 'quiet'; ms: number }
  | { t: 'spoil'; i: number };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 8, arbitrary: fc.constant({ t: 'acquire' } as const) },
  { weight: 2, arbitrary: fc.constant({ t: 'try' } as const) },
  { weight: 9, arbitrary: fc.nat(7).map((i) => ({ t: 'release', i }) as const) },
  { weight: 2, arbitrary: fc.nat(7).map((i) => ({ t: 'destroy', i }) as const) },
  { weight: 1, arbitrary: fc.nat(7).map((i) => ({ t: 'stale', i }) as const) },
  {
    weight: 8,
    arbitrary: fc
      .record({ i: fc.nat(7), outcome: fc.constantFrom('ok', 'ok', 'ok', 'ok', 'fail', 'createFail') })
      .map(({ i, outcome }) => ({ t: 'connect', i, outcome }) as const),
  },
  { weight: 8, arbitrary: fc.integer({ min: 1, max: 1_000 }).map((ms) => ({ t: 'advance', ms }) as const) },
  { weight: 1, arbitrary: fc.nat(7).map((i) => ({ t: 'report', i }) as const) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 2_000 }).map((ms) => ({ t: 'quiet', ms }) as const) },
  { weight: 1, arbitrary: fc.nat(7).map((i) => ({ t: 'spoil', i }) as const) },
);

/** A command list, with a retire inserted at a random point in about a third of them. */
const scriptArb = (cmds: fc.Arbitrary<Cmd>, maxLength: number): fc.Arbitrary<Cmd[]> =>
  fc
    .tuple(fc.array(cmds, { minLength: 1, maxLength, size: 'max' }), fc.option(fc.nat(maxLength), { freq: 2 }))
    .map(([list, at]) => (at === null ? list : [...list.slice(0, at), { t: 'retire' } as const, ...list.slice(at)]));

const optionsArb: fc.Arbitrary<PoolOptions> = fc.record({
  min: fc.constantFrom(0, 0, 0, 1, 2),
  max: fc.integer({ min: 1, max: 4 }),
  acquireTimeoutMs: fc.oneof(fc.constant(0), fc.integer({ min: 50, max: 500 })),
  idleTimeoutMs: fc.oneof(fc.constant(0), fc.integer({ min: 100, max: 900 })),
  maxLifetimeMs: fc.oneof(fc.constant(0), fc.integer({ min: 200, max: 1500 })),
  connectTimeoutMs: fc.oneof(fc.constant(0), fc.integer({ min: 50, max: 400 })),
});

const FAILURE_CODES = new Set(['WEIR_E_CONNECT_FAILED', 'WEIR_E_CONNECT_TIMEOUT', 'WEIR_E_HOOK_FAILED']);

class Model {
  readonly clock = new FakeClock(1_000);
  readonly hooks = new Hooks();
  readonly pool: Pool<FakeConn>;
  readonly connects: FakeConnect[] = [];
  readonly waiters: ModelWaiter[] = [];
  readonly held: Lease<FakeConn>[] = [];
  readonly ended: Lease<FakeConn>[] = [];
  /** drops per ConnectionId, with reasons */
  readonly drops = new Map<number, string[]>();
  /** connector.destroy calls per FakeConn id */
  readonly destroyed = new Map<number, number>();
  readonly violations: string[] = [];
  /** connects that failed, timed out or were rejected by the create hook */
  failures = 0;
  /** leases handed out (acquire resolved or tryAcquire) */
  leased = 0;
  retired = false;
  retireDone = false;
  connectionErrors = 0;

  constructor(readonly options: PoolOptions) {
    this.hooks.on('create', (c) => {
      if ((c.connection as FakeConn).createFail) throw new Error('create rejected');
    }, 'test-create');
    // an always-throwing drop handler first: it must not keep the counting one from running
    this.hooks.on('drop', () => {
      throw new Error('drop handler bug');
    }, 'test-bad-drop');
    this.hooks.on('drop', (c, reason) => {
      const list = this.drops.get(c.id) ?? [];
      list.push(reason);
      this.drops.set(c.id, list);
      if (this.held.some((l) => l.id === c.id)) this.violations.push(`connection ${c.id} dropped while leased`);
    }, 'test-drop');
    this.hooks.listen('connection:error', () => {
      this.connectionErrors++;
    });
    this.pool = new Pool<FakeConn>({
      info: { name: 'app@db', key: { database: 'db', user: 'app' }, kind: 'static' },
      options,
      hooks: this.hooks,
      clock: this.clock,
      connector: {
        connect: (ctx) =>
          new Promise<FakeConn>((resolve, reject) => {
            this.connects.push({ ctx, resolve, reject, settled: false });
          }),
        validate: (conn) => conn.bad !== true,
        destroy: (conn) => {
          this.destroyed.set(conn.id, (this.destroyed.get(conn.id) ?? 0) + 1);
        },
      },
    });
  }

  /** Connects the pool still waits for. */
  openConnects(): FakeConnect[] {
    return this.connects.filter((c) => !c.settled && !c.ctx.signal.aborted);
  }

  acquire(): void {
    const w: ModelWaiter = { seq: this.waiters.length, state: 'pending' };
    this.waiters.push(w);
    this.pool.acquire().then(
      (lease) => {
        for (const older of this.waiters) {
          if (older.seq < w.seq && older.state === 'pending') this.violations.push(`waiter ${w.seq} served before older waiter ${older.seq}`);
        }
        if (this.held.some((l) => l.id === lease.id)) this.violations.push(`connection ${lease.id} in two leases`);
        if (lease.connection.bad === true) this.violations.push(`connection ${lease.id} failing validate() was leased`);
        if (this.drops.has(lease.id)) this.violations.push(`leased connection ${lease.id} was already dropped`);
        w.state = 'served';
        this.leased++;
        this.held.push(lease);
      },
      (err: { code?: string }) => {
        w.state = 'rejected';
        w.code = err.code;
      },
    );
  }

  async run(cmd: Cmd): Promise<void> {
    const pool = this.pool;
    switch (cmd.t) {
      case 'acquire':
        this.acquire();
        break;
      case 'try': {
        const before = pool.stats();
        const goodIdle = [...pool.connections()].filter((v) => v.state === 'idle' && v.pooled.connection.bad !== true).length;
        const lease = pool.tryAcquire();
        const expectLease = goodIdle > 0 && before.waiting === 0 && !before.retired;
        if ((lease !== null) !== expectLease) this.violations.push(`tryAcquire gave ${lease === null ? 'null' : 'a lease'} with ${JSON.stringify(before)}`);
        if (lease !== null) {
          if (lease.connection.bad === true) this.violations.push(`connection ${lease.id} failing validate() was leased`);
          if (this.held.some((l) => l.id === lease.id)) this.violations.push(`connection ${lease.id} in two leases`);
          this.leased++;
          this.held.push(lease);
        }
        break;
      }
      case 'release':
      case 'destroy': {
        if (this.held.length === 0) break;
        const [lease] = this.held.splice(cmd.i % this.held.length, 1);
        const age = this.clock.now() - lease!.pooled.createdAt;
        const dropsBefore = this.drops.get(lease!.id)?.length ?? 0;
        if (cmd.t === 'release') lease!.release();
        else lease!.destroy();
        this.ended.push(lease!);
        const reasons = this.drops.get(lease!.id) ?? [];
        if (cmd.t === 'destroy' && reasons.length !== dropsBefore + 1) this.violations.push(`destroy() did not drop ${lease!.id}`);
        if (cmd.t === 'release') {
          const life = this.options.maxLifetimeMs ?? 0;
          if (life > 0 && age >= life && reasons.length === 0) this.violations.push(`connection ${lease!.id} past lifetime went back to the pool`);
          if (this.retired && reasons.length === 0) this.violations.push(`connection ${lease!.id} released to a retired pool not closed`);
        }
        break;
      }
      case 'stale': {
        if (this.ended.length === 0) break;
        const lease = this.ended[cmd.i % this.ended.length]!;
        const before = JSON.stringify(pool.stats());
        const dropsBefore = [...this.drops.values()].flat().length;
        lease.release();
        lease.destroy();
        if (JSON.stringify(pool.stats()) !== before) this.violations.push('a second release/destroy changed the pool');
        if ([...this.drops.values()].flat().length !== dropsBefore) this.violations.push('a second release/destroy dropped a connection');
        break;
      }
      case 'connect': {
        const open = this.connects.filter((c) => !c.settled);
        if (open.length === 0) break;
        const c = open[cmd.i % open.length]!;
        if (!c.ctx.signal.aborted && cmd.outcome !== 'ok') this.failures++;
        this.settle(c, cmd.outcome);
        break;
      }
      case 'advance': {
        const timedOut = (): number => this.connects.filter((c) => !c.settled && c.ctx.signal.aborted).length;
        const before = this.retired ? 0 : timedOut();
        this.clock.advance(cmd.ms);
        if (!this.retired) this.failures += timedOut() - before;
        break;
      }
      case 'spoil': {
        const live = this.connects.filter((c) => c.conn !== undefined && !this.drops.has(c.ctx.id) && !c.abandoned);
        if (live.length > 0) live[cmd.i % live.length]!.conn!.bad = true;
        break;
      }
      case 'quiet':
        // everyone gives their connection back, then time passes
        while (this.held.length > 0) await this.run({ t: 'release', i: this.held.length - 1 });
        await this.run({ t: 'advance', ms: cmd.ms });
        break;
      case 'retire':
        if (!this.retired) {
          // connects aborted by retire are not failures
          this.retired = true;
          void pool.retire('test').then(() => {
            this.retireDone = true;
          });
        }
        break;
      case 'report': {
        const live = this.connects.filter((c) => c.conn !== undefined && !this.drops.has(c.ctx.id) && !c.conn.createFail);
        if (live.length === 0) break;
        const c = live[cmd.i % live.length]!;
        const wasIdle = [...pool.connections()].some((v) => v.pooled.id === c.ctx.id && v.state === 'idle');
        c.ctx.reportError!(new Error('socket closed'));
        if (wasIdle && this.drops.get(c.ctx.id)?.[0] !== 'error') this.violations.push(`idle connection ${c.ctx.id} reported broken was not dropped`);
        break;
      }
    }
    await flushMicrotasks();
  }

  check(): void {
    expect(this.violations).toEqual([]);
    const s = this.pool.stats();
    const { max } = this.options;
    expect(s.size).toBe(s.idle + s.active + s.pending);
    expect(s.size).toBeLessThanOrEqual(max);
    expect(s.active).toBe(this.held.length);
    expect(new Set(this.held.map((l) => l.id)).size).toBe(this.held.length);
    expect(s.waiting).toBe(this.waiters.filter((w) => w.state === 'pending').length);
    expect(s.pending).toBe(this.openConnects().length);
    expect(s.acquiredTotal).toBe(this.leased);
    expect(s.retired).toBe(this.retired);
    // drop exactly once per closed connection, and connector.destroy once after it
    let dropped = 0;
    for (const [id, reasons] of this.drops) {
      expect(reasons, `drops of connection ${id}`).toHaveLength(1);
      expect(this.destroyed.get(id), `connector.destroy of connection ${id}`).toBe(1);
      dropped++;
    }
    expect(s.destroyedTotal).toBe(dropped);
    const pooled = this.connects.filter((c) => c.conn !== undefined && !(this.abandoned(c)));
    expect(s.createdTotal).toBe(pooled.length);
    expect(this.connects.filter((c) => c.conn !== undefined && c.abandoned).every((c) => !this.drops.has(c.ctx.id))).toBe(true);
    expect(s.createdTotal - s.destroyedTotal).toBe(s.idle + s.active);
    // connections that were never pooled (connect outlived its timeout) are destroyed without a drop
    for (const c of this.connects) {
      if (c.conn !== undefined && this.abandoned(c)) {
        expect(this.drops.has(c.ctx.id)).toBe(false);
        expect(this.destroyed.get(c.ctx.id)).toBe(1);
      }
    }
    // a failure rejects at most one waiter
    const failedWaiters = this.waiters.filter((w) => w.state === 'rejected' && FAILURE_CODES.has(w.code ?? '')).length;
    expect(failedWaiters).toBeLessThanOrEqual(this.failures);
    expect(this.connectionErrors).toBeGreaterThanOrEqual(this.failures);
    // nobody waits while a connection is idle or could be made
    if (s.waiting > 0) {
      expect(s.idle).toBe(0);
      expect(s.size === max || s.pending >= s.waiting).toBe(true);
    }
    const now = this.clock.now();
    for (const v of this.pool.connections()) {
      if (v.state !== 'idle') continue;
      // (min keeps connections past idle_timeout)
      if (this.options.idleTimeoutMs && !this.options.min) expect(now - v.lastUsedAt).toBeLessThan(this.options.idleTimeoutMs);
      if (this.options.maxLifetimeMs) expect(now - v.pooled.createdAt).toBeLessThan(this.options.maxLifetimeMs);
    }
    if (this.retired) {
      expect(s.idle).toBe(0);
      expect(s.waiting).toBe(0);
      expect(s.pending).toBe(0);
      for (const w of this.waiters.filter((x) => x.seq >= this.retiredAtSeq)) expect(w.state).not.toBe('served');
    }
    for (const w of this.waiters) {
      if (w.state === 'rejected') {
        expect(['WEIR_E_ACQUIRE_TIMEOUT', 'WEIR_E_POOL_RETIRED', ...FAILURE_CODES]).toContain(w.code);
      }
    }
  }

  retiredAtSeq = Infinity;

  /** The pool gave up on this connect (timeout or retire) before it settled. */
  private abandoned(c: FakeConnect): boolean {
    return c.abandoned === true;
  }

  /** Settle a connect the way the server would. */
  settle(c: FakeConnect, outcome: 'ok' | 'fail' | 'createFail'): void {
    c.settled = true;
    c.abandoned = c.ctx.signal.aborted;
    if (outcome === 'fail') {
      c.reject(new Error('connection refused'));
    } else {
      c.conn = { id: c.ctx.id, createFail: outcome === 'createFail' };
      c.resolve(c.conn);
    }
  }

  /** Serve or time out every waiter, then retire and drain the pool. */
  async finish(): Promise<void> {
    for (let round = 0; round < 500; round++) {
      const pendingWaiters = this.waiters.some((w) => w.state === 'pending');
      if (!pendingWaiters && this.held.length === 0 && this.openConnects().length === 0) break;
      while (this.held.length > 0) await this.run({ t: 'release', i: 0 });
      for (const c of this.openConnects()) this.settle(c, 'ok');
      await flushMicrotasks();
      this.check();
      if (this.waiters.some((w) => w.state === 'pending') && this.held.length === 0 && this.openConnects().length === 0) {
        await this.run({ t: 'advance', ms: 1_000 });
      }
      this.check();
    }
    expect(this.waiters.filter((w) => w.state === 'pending')).toEqual([]);
    if (!this.retired) {
      this.retiredAtSeq = this.waiters.length;
      await this.run({ t: 'retire' });
    }
    for (const c of this.connects.filter((x) => !x.settled)) this.settle(c, 'ok');
    await flushMicrotasks();
    this.check();
    expect(this.retireDone).toBe(true);
    const s = this.pool.stats();
    expect(s.size).toBe(0);
    expect(s.createdTotal).toBe(s.destroyedTotal);
  }
}

/** More runs for a deeper search: WEIR_MODEL_RUNS=5000 npx vitest run … */
const RUNS = Number(process.env.WEIR_MODEL_RUNS ?? 300);

async function runScenario(options: PoolOptions, cmds: Cmd[]): Promise<void> {
  const m = new Model(options);
  for (const cmd of cmds) {
    if (cmd.t === 'retire' && !m.retired) m.retiredAtSeq = m.waiters.length;
    await m.run(cmd);
    m.check();
  }
  await m.finish();
}

describe('Pool against the reference model', () => {
  it('keeps every invariant over random command sequences', async () => {
    await fc.assert(
      fc.asyncProperty(optionsArb, scriptArb(cmdArb, 100), async (options, cmds) => {
        await runScenario(options, cmds);
      }),
      { numRuns: RUNS },
    );
  }, 60_000 + RUNS * 100);

  it('keeps every invariant with a single connection and no timers', async () => {
    await fc.assert(
      fc.asyncProperty(scriptArb(cmdArb.filter((c) => c.t !== 'advance'), 60), async (cmds) => {
        await runScenario({ max: 1, acquireTimeoutMs: 0 }, cmds);
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  }, 60_000 + RUNS * 50);
});
