import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks } from './clock.js';
import { Hooks } from './hooks.js';
import { Pool } from './pool.js';
import type { Connector, DropReason, Lease, PoolOptions } from './types.js';

interface Conn {
  n: number;
  ok: boolean;
}

/** A connector over plain objects; `fail` makes the next connects reject, `hang` never settles them. */
function setup(options: Partial<PoolOptions> = {}, hooks = new Hooks(), retryable = false) {
  const clock = new FakeClock(0);
  const destroyed: [number, DropReason][] = [];
  const dropped: [number, DropReason][] = [];
  const errors: unknown[] = [];
  let n = 0;
  const ctl = { fail: 0, hang: false };
  const connector: Connector<Conn> = {
    connect: () => {
      if (ctl.hang) return new Promise(() => undefined);
      if (ctl.fail > 0) {
        ctl.fail--;
        return Promise.reject(new Error('ECONNREFUSED'));
      }
      return Promise.resolve({ n: ++n, ok: true });
    },
    destroy: (c, reason) => void destroyed.push([c.n, reason]),
    validate: (c) => c.ok,
    ...(retryable ? { retryable: (e: unknown) => (e as Error).message.includes('ECONNREFUSED') } : {}),
  };
  hooks.on('drop', (c, reason) => void dropped.push([(c.connection as Conn).n, reason]), 'test');
  hooks.listen('connection:error', (_info, err) => void errors.push(err));
  const pool = new Pool<Conn>({
    info: { name: 'app@appdb', key: { database: 'appdb', user: 'app' }, kind: 'static' },
    connector,
    options: { max: 2, acquireTimeoutMs: 1_000, ...options },
    hooks,
    clock,
  });
  return { pool, clock, destroyed, dropped, errors, ctl, hooks };
}

describe('Pool', () => {
  it('creates on demand, reuses idle connections, and gives ids that only grow', async () => {
    const { pool } = setup();
    const a = await pool.acquire();
    const b = await pool.acquire();
    expect(b.id).toBeGreaterThan(a.id);
    a.release();
    const c = pool.tryAcquire();
    expect(c?.id).toBe(a.id);
    expect(pool.stats()).toMatchObject({ size: 2, active: 2, idle: 0, createdTotal: 2, acquiredTotal: 3 });
  });

  it('hands a released connection straight to the longest waiter, in FIFO order', async () => {
    const { pool } = setup({ max: 1 });
    const first = await pool.acquire();
    const order: string[] = [];
    const w1 = pool.acquire().then((l) => (order.push('w1'), l));
    const w2 = pool.acquire().then((l) => (order.push('w2'), l));
    const w3 = pool.acquire().then((l) => (order.push('w3'), l));
    expect(pool.stats().waiting).toBe(3);
    first.release();
    const l1 = await w1;
    expect(l1.id).toBe(first.id);
    expect(pool.stats().idle).toBe(0);
    l1.release();
    (await w2).release();
    (await w3).release();
    expect(order).toEqual(['w1', 'w2', 'w3']);
  });

  it('times out a waiter with WEIR_E_ACQUIRE_TIMEOUT naming the pool', async () => {
    const { pool, clock } = setup({ max: 1, acquireTimeoutMs: 500 });
    await pool.acquire();
    const waiting = pool.acquire();
    clock.advance(250);
    expect(pool.stats()).toMatchObject({ waiting: 1, maxWaitMs: 250 });
    clock.advance(250);
    await expect(waiting).rejects.toMatchObject({ code: 'WEIR_E_ACQUIRE_TIMEOUT', details: { pool: 'app@appdb' } });
    await expect(waiting).rejects.toThrow(/app@appdb/);
    expect(pool.stats().waiting).toBe(0);
  });

  it('a lease ends once: a second release or destroy, or a stale lease, changes nothing', async () => {
    const { pool, dropped } = setup({ max: 1 });
    const a = await pool.acquire();
    a.release();
    const b = await pool.acquire();
    expect(b.id).toBe(a.id);
    a.release();
    a.destroy();
    expect(pool.stats()).toMatchObject({ active: 1, idle: 0 });
    expect(dropped).toEqual([]);
    b.destroy('released-bad');
    b.release();
    b.destroy();
    expect(dropped).toEqual([[1, 'released-bad']]);
    expect(pool.stats()).toMatchObject({ size: 0, destroyedTotal: 1 });
  });

  it('closes idle connections after idle_timeout, keeping min', async () => {
    const { pool, clock, dropped } = setup({ max: 3, min: 1, idleTimeoutMs: 1_000 });
    await flushMicrotasks();
    expect(pool.stats().idle).toBe(1);
    const a = await pool.acquire();
    const b = await pool.acquire();
    const c = await pool.acquire();
    a.release();
    clock.advance(400);
    b.release();
    c.release();
    clock.advance(600);
    expect(dropped).toEqual([[a.connection.n, 'idle']]);
    clock.advance(400);
    expect(dropped.map((d) => d[1])).toEqual(['idle', 'idle']);
    expect(pool.stats()).toMatchObject({ size: 1, idle: 1 });
    clock.advance(10_000);
    expect(pool.stats()).toMatchObject({ size: 1, idle: 1 });
    expect(clock.pending()).toBe(0);
  });

  it('closes connections past server_lifetime when idle and on release', async () => {
    const { pool, clock, dropped } = setup({ max: 2, maxLifetimeMs: 1_000 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    a.release();
    clock.advance(1_000);
    expect(dropped).toEqual([[a.connection.n, 'lifetime']]);
    expect(pool.stats().active).toBe(1);
    b.release();
    expect(dropped).toEqual([
      [a.connection.n, 'lifetime'],
      [b.connection.n, 'lifetime'],
    ]);
    expect(pool.stats().size).toBe(0);
  });

  it('a connect failure rejects one waiter, not all, and is emitted as connection:error', async () => {
    const { pool, ctl, errors } = setup({ max: 1 });
    ctl.fail = 1;
    const w1 = pool.acquire();
    const w2 = pool.acquire();
    const w3 = pool.acquire();
    await expect(w1).rejects.toMatchObject({ code: 'WEIR_E_CONNECT_FAILED', details: { pool: 'app@appdb' } });
    const l2 = await w2;
    l2.release();
    (await w3).release();
    expect(errors).toHaveLength(1);
    expect(pool.stats()).toMatchObject({ size: 1, idle: 1, waiting: 0 });
  });

  it('a retryable connect failure keeps waiters queued and retries with a backoff until one succeeds', async () => {
    const { pool, ctl, clock, errors } = setup({ max: 1, acquireTimeoutMs: 10_000 }, new Hooks(), true);
    ctl.fail = 3;
    let settled = false;
    const w = pool.acquire().finally(() => (settled = true));
    await flushMicrotasks();
    expect(errors).toHaveLength(1);
    expect(pool.stats()).toMatchObject({ waiting: 1, pending: 0 });
    clock.advance(249);
    await flushMicrotasks();
    expect(errors).toHaveLength(1); // no retry before the backoff
    clock.advance(1);
    await flushMicrotasks();
    expect(errors).toHaveLength(2);
    clock.advance(500);
    await flushMicrotasks();
    expect(errors).toHaveLength(3);
    expect(settled).toBe(false);
    clock.advance(1_000);
    const lease = await w;
    lease.release();
    expect(pool.stats()).toMatchObject({ size: 1, idle: 1, waiting: 0 });
  });

  it('a waiter that times out while connects keep failing is told the last connect error', async () => {
    const { pool, ctl, clock } = setup({ max: 1, acquireTimeoutMs: 2_000 }, new Hooks(), true);
    ctl.fail = 1_000;
    const w = pool.acquire();
    const seen = expect(w).rejects.toMatchObject({ code: 'WEIR_E_ACQUIRE_TIMEOUT', message: expect.stringContaining('last connect error') });
    for (let t = 0; t < 2_000; t += 250) {
      clock.advance(250);
      await flushMicrotasks();
    }
    await seen;
  });

  it('aborts a connect that outlives connect_timeout; a late connection is destroyed without a drop', async () => {
    const clock = new FakeClock(0);
    const hooks = new Hooks();
    const drops: number[] = [];
    hooks.on('drop', (c) => void drops.push(c.id));
    let finish: ((c: Conn) => void) | undefined;
    let signal: AbortSignal | undefined;
    const destroyed: Conn[] = [];
    const pool = new Pool<Conn>({
      info: { name: 'u@d', key: { database: 'd', user: 'u' }, kind: 'static' },
      connector: {
        connect: (ctx) => {
          signal = ctx.signal;
          return new Promise((resolve) => (finish = resolve));
        },
        destroy: (c) => void destroyed.push(c),
      },
      options: { max: 1, acquireTimeoutMs: 0, connectTimeoutMs: 300 },
      hooks,
      clock,
    });
    const w = pool.acquire();
    clock.advance(300);
    await expect(w).rejects.toMatchObject({ code: 'WEIR_E_CONNECT_TIMEOUT', details: { pool: 'u@d' } });
    expect(signal?.aborted).toBe(true);
    finish!({ n: 9, ok: true });
    await flushMicrotasks();
    expect(destroyed).toEqual([{ n: 9, ok: true }]);
    expect(drops).toEqual([]);
    expect(pool.stats()).toMatchObject({ size: 0, createdTotal: 0 });
  });

  it('a throwing create hook destroys the connection (drop fires) and fails that acquire', async () => {
    const hooks = new Hooks();
    let reject = true;
    hooks.on('create', async () => {
      if (reject) throw new Error('SET failed');
    }, 'init-plugin');
    const { pool, dropped, destroyed } = setup({ max: 1 }, hooks);
    await expect(pool.acquire()).rejects.toMatchObject({ code: 'WEIR_E_HOOK_FAILED', details: { plugin: 'init-plugin', hook: 'create' } });
    expect(dropped).toEqual([[1, 'error']]);
    expect(destroyed).toEqual([[1, 'error']]);
    reject = false;
    const lease = await pool.acquire();
    expect(lease.connection.n).toBe(2);
  });

  it('checkout and release hooks see the connection; release may ask for it to be destroyed', async () => {
    const hooks = new Hooks();
    const seen: string[] = [];
    const key = Symbol('lease-state');
    hooks.on('checkout', (c) => {
      (c.state ??= new Map()).set(key, 'busy');
      seen.push(`checkout ${c.id}`);
    });
    hooks.on('release', (c) => {
      seen.push(`release ${c.id} ${String(c.state?.get(key))}`);
      if (c.state?.get(key) === 'poisoned') c.destroyOnRelease = true;
    });
    const { pool, dropped } = setup({ max: 1 }, hooks);
    const a = await pool.acquire();
    a.release();
    const b = await pool.acquire();
    b.pooled.state!.set(key, 'poisoned');
    b.release();
    expect(seen).toEqual([`checkout ${a.id}`, `release ${a.id} busy`, `checkout ${a.id}`, `release ${a.id} poisoned`]);
    expect(dropped).toEqual([[1, 'released-bad']]);
  });

  it('a throwing checkout hook fails the acquire and closes the connection', async () => {
    const hooks = new Hooks();
    hooks.on('checkout', () => {
      throw new Error('nope');
    }, 'bad-plugin');
    const { pool, dropped } = setup({ max: 1 }, hooks);
    await expect(pool.acquire()).rejects.toMatchObject({ code: 'WEIR_E_HOOK_FAILED', details: { plugin: 'bad-plugin', hook: 'checkout' } });
    expect(dropped).toEqual([[1, 'error']]);
    expect(pool.stats()).toMatchObject({ size: 0, active: 0 });
  });

  it('a connection failing validate() is closed and another one is used', async () => {
    const { pool, dropped } = setup({ max: 2 });
    const a = await pool.acquire();
    a.release();
    a.connection.ok = false;
    const b = await pool.acquire();
    expect(b.connection.n).toBe(2);
    expect(dropped).toEqual([[1, 'error']]);
  });

  it('an idle connection reported broken is closed, never crashing; a leased one on release', async () => {
    const { pool, dropped, errors } = setup({ max: 2 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    a.release();
    pool.reportError(a.id, new Error('ECONNRESET'));
    expect(dropped).toEqual([[1, 'error']]);
    pool.reportError(b.pooled, new Error('ECONNRESET'));
    expect(dropped).toHaveLength(1);
    b.release();
    expect(dropped).toEqual([
      [1, 'error'],
      [2, 'error'],
    ]);
    expect(errors).toHaveLength(2);
    pool.reportError(12345, new Error('unknown connection'));
  });

  it('retire: no new acquires, waiters rejected, idle closed now, leased closed on return', async () => {
    const { pool, dropped } = setup({ max: 2 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    b.release();
    const waiting = (async () => {
      const l = await pool.acquire();
      return l;
    })();
    // b was handed to the waiter; take another waiter
    const held = await waiting;
    const w = pool.acquire();
    let done = false;
    const retired = pool.retire('config changed').then(() => (done = true));
    await expect(w).rejects.toMatchObject({ code: 'WEIR_E_POOL_RETIRED', details: { pool: 'app@appdb' } });
    await expect(pool.acquire()).rejects.toMatchObject({ code: 'WEIR_E_POOL_RETIRED' });
    expect(pool.tryAcquire()).toBeNull();
    expect(pool.retired).toBe(true);
    await flushMicrotasks();
    expect(done).toBe(false);
    a.release();
    expect(dropped).toEqual([[a.connection.n, 'retired']]);
    held.release();
    await retired;
    expect(done).toBe(true);
    expect(pool.stats()).toMatchObject({ size: 0, retired: true });
  });

  it('close destroys leased connections at once and ends their leases', async () => {
    const { pool, dropped } = setup({ max: 2 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    b.release();
    await pool.close();
    expect(dropped.sort()).toEqual([
      [1, 'shutdown'],
      [2, 'shutdown'],
    ]);
    a.release();
    expect(dropped).toHaveLength(2);
    await expect(pool.acquire()).rejects.toMatchObject({ code: 'WEIR_E_POOL_CLOSED' });
  });

  it('retire waits for an async connector.destroy', async () => {
    const clock = new FakeClock();
    let finish!: () => void;
    const pool = new Pool<object>({
      info: { name: 'u@d', key: { database: 'd', user: 'u' }, kind: 'dynamic' },
      connector: { connect: async () => ({}), destroy: () => new Promise<void>((r) => (finish = r)) },
      options: { max: 1, acquireTimeoutMs: 0 },
      hooks: new Hooks(),
      clock,
    });
    (await pool.acquire()).release();
    let done = false;
    const p = pool.retire().then(() => (done = true));
    await flushMicrotasks();
    expect([...pool.connections()].map((c) => c.state)).toEqual(['closing']);
    expect(done).toBe(false);
    finish();
    await p;
    expect(done).toBe(true);
  });

  it('keeps min connections open and backs off after failures', async () => {
    const { pool, ctl, clock, errors } = setup({ max: 4, min: 2 });
    await flushMicrotasks();
    expect(pool.stats()).toMatchObject({ idle: 2, size: 2 });
    ctl.fail = 3;
    (await pool.acquire()).destroy();
    await flushMicrotasks();
    expect(errors).toHaveLength(1);
    expect(pool.stats().size).toBe(1);
    clock.advance(999);
    await flushMicrotasks();
    expect(errors).toHaveLength(1);
    clock.advance(1);
    await flushMicrotasks();
    expect(errors).toHaveLength(2);
    clock.advance(2_000);
    await flushMicrotasks();
    expect(errors).toHaveLength(3);
    clock.advance(4_000);
    await flushMicrotasks();
    expect(pool.stats()).toMatchObject({ idle: 2, size: 2 });
  });

  it('resize to a smaller max sheds idle connections and closes returns above max', async () => {
    const { pool, dropped } = setup({ max: 3 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    const c = await pool.acquire();
    c.release();
    pool.resize({ max: 1 });
    expect(dropped).toEqual([[c.connection.n, 'resized']]);
    a.release();
    expect(dropped).toEqual([
      [c.connection.n, 'resized'],
      [a.connection.n, 'resized'],
    ]);
    b.release();
    expect(pool.stats()).toMatchObject({ size: 1, idle: 1 });
  });

  it('rejects an aborted acquire with WEIR_E_ACQUIRE_ABORTED and forgets it', async () => {
    const { pool } = setup({ max: 1 });
    const a = await pool.acquire();
    const ac = new AbortController();
    const w = pool.acquire(ac.signal);
    ac.abort(new Error('client went away'));
    await expect(w).rejects.toMatchObject({ code: 'WEIR_E_ACQUIRE_ABORTED', details: { pool: 'app@appdb' } });
    expect(pool.stats().waiting).toBe(0);
    a.release();
    expect(pool.stats().idle).toBe(1);
    await expect(pool.acquire(AbortSignal.abort())).resolves.toBeDefined();
  });

  it('tracks stats: lastActivityAt and totals', async () => {
    const { pool, clock } = setup({ max: 2 });
    clock.advance(100);
    const a = await pool.acquire();
    clock.advance(50);
    a.release();
    expect(pool.stats()).toEqual({
      size: 1,
      idle: 1,
      active: 0,
      pending: 0,
      waiting: 0,
      maxWaitMs: 0,
      createdTotal: 1,
      destroyedTotal: 0,
      acquiredTotal: 1,
      lastActivityAt: 150,
      retired: false,
    });
  });

  it('validates its options', () => {
    expect(() => setup({ max: 0 })).toThrow(expect.objectContaining({ code: 'WEIR_E_CONFIG_INVALID', details: expect.objectContaining({ pool: 'app@appdb', path: 'max' }) }));
    expect(() => setup({ acquireTimeoutMs: -1 })).toThrow(/acquireTimeoutMs/);
  });

  it('hot path: tryAcquire + release allocate no promise and work without hooks', () => {
    const { pool } = setup({ max: 1 });
    return pool.acquire().then((lease) => {
      lease.release();
      for (let i = 0; i < 1_000; i++) {
        const l = pool.tryAcquire();
        expect(l).not.toBeNull();
        l!.release();
      }
      expect(pool.stats()).toMatchObject({ acquiredTotal: 1_001, idle: 1 });
    });
  });
});

describe('Pool reserve', () => {
  it('clients that waited reserveTimeoutMs get up to `reserve` connections past max; they close again once idle', async () => {
    const { pool, clock } = setup({ max: 1, reserve: 1, reserveTimeoutMs: 1_000, acquireTimeoutMs: 10_000 });
    const a = await pool.acquire();
    let b: Lease<Conn> | null = null;
    let c: Lease<Conn> | null = null;
    void pool.acquire().then((l) => { b = l; });
    void pool.acquire().then((l) => { c = l; });
    await flushMicrotasks();
    clock.advance(999);
    await flushMicrotasks();
    expect(b).toBeNull();
    expect(pool.stats().size).toBe(1);
    clock.advance(1);
    await flushMicrotasks();
    expect(b).not.toBeNull();
    expect(c).toBeNull(); // the reserve is one connection
    expect(pool.stats().size).toBe(2);
    a.release();
    await flushMicrotasks();
    expect(c).not.toBeNull();
    b!.release();
    c!.release();
    await flushMicrotasks();
    expect(pool.stats().size).toBe(1);
  });

  it('without a reserve, max is the limit however long clients wait', async () => {
    const { pool, clock } = setup({ max: 1, acquireTimeoutMs: 10_000 });
    await pool.acquire();
    void pool.acquire().catch(() => {});
    clock.advance(5_000);
    await flushMicrotasks();
    expect(pool.stats().size).toBe(1);
  });
});

describe('Pool.recycle', () => {
  it('closes idle connections now and leased ones when released; new ones are made on demand', async () => {
    const { pool, dropped } = setup({ max: 2 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    b.release();
    expect(pool.recycle()).toBe(2);
    expect(pool.stats().idle).toBe(0);
    a.release();
    await flushMicrotasks();
    expect(pool.stats().size).toBe(0);
    expect(dropped.length).toBe(2);
    const c = await pool.acquire();
    expect(c.id).toBeGreaterThan(b.id);
  });
});
