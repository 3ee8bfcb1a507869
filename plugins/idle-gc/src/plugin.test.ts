import { describe, expect, it } from 'vitest';
import {
  FakeClock, Kernel, Pool, TOKENS, WeirError,
  type Config, type DropReason, type PoolFactory, type ResolvedUser,
} from '@weir/kernel';
import { DYNAMIC_POOL_KEYS, DynamicPoolsPlugin } from '@weir/plugin-dynamic-pools';
import { IdleGcPlugin, idleGcConfigSchema } from './index.js';

interface Conn { id: number }

function config(idle: Record<string, unknown> = { interval: '10s', pool_idle_timeout: '1m' }): Config {
  return {
    general: {
      host: '127.0.0.1', port: 6432, admin_user: 'admin', admin_password: 'admin', connect_timeout: 1000,
      query_wait_timeout: 0, idle_timeout: 0, server_lifetime: 0, shutdown_timeout: 1000, client_login_timeout: 1000,
      log_level: 'silent', max_client_conn: 100,
    },
    plugins: { dynamic_pools: { enabled: true }, idle_gc: { enabled: true, ...idle } },
    pools: { appdb: { users: [] } },
  };
}

function user(name: string): ResolvedUser {
  return {
    database: 'appdb', user: name, source: 'test', secret: { kind: 'plain', password: 'pw' },
    pool: { key: { database: 'appdb', user: name }, size: 2, serverAuth: { mode: 'passthrough' } },
  };
}

async function start(cfg = config()) {
  const clock = new FakeClock(0);
  const drops: DropReason[] = [];
  let ids = 1;
  const kernel = new Kernel({ config: cfg, clock, plugins: [IdleGcPlugin, DynamicPoolsPlugin] });
  const factory: PoolFactory = {
    create: (spec) => new Pool<Conn>({
      info: { name: `${spec.key.user}@${spec.key.database}`, key: spec.key, kind: spec.kind },
      connector: { connect: async () => ({ id: ids++ }), destroy: () => {} },
      options: spec.options,
      hooks: kernel.hooks,
      clock,
    }),
  };
  kernel.setPoolFactory(factory);
  kernel.hooks.on('drop', (_c, reason) => { drops.push(reason); });
  await kernel.start();
  const login = async (name: string) => {
    const pool = await kernel.hooks.resolveFirst('resolvePool', { key: { database: 'appdb', user: name }, resolved: user(name) });
    return pool as Pool<Conn>;
  };
  /** One query: acquire and release, as a transaction-mode client does. */
  const query = async (name: string) => {
    const lease = await (await login(name)).acquire();
    lease.release();
  };
  return { kernel, clock, drops, login, query, keys: kernel.resolve(DYNAMIC_POOL_KEYS) };
}

describe('idle dynamic pool GC', () => {
  it('is set up after dynamic_pools, which it depends on', async () => {
    const { kernel } = await start();
    expect(kernel.startedPlugins()).toEqual(['@weir/plugin-dynamic-pools', '@weir/plugin-idle-gc']);
    expect(IdleGcPlugin.plugin.dependsOn).toEqual(['dynamic_pools']);
    await kernel.stop();
  });

  it('removes a pool idle longer than pool_idle_timeout at the next tick, closing its connections', async () => {
    const s = await start();
    await s.query('alice');
    const first = s.kernel.registry.get('appdb', 'alice')!.pool;
    expect(first.stats().idle).toBe(1);
    await s.clock.advanceAsync(50_000); // ticks at 10s..50s: idle for 50s < 60s
    expect(s.keys.has('appdb', 'alice')).toBe(true);
    await s.clock.advanceAsync(10_000); // tick at 60s: idle for 60s
    expect(s.keys.has('appdb', 'alice')).toBe(false);
    expect(s.kernel.registry.get('appdb', 'alice')).toBeUndefined();
    expect(first.retired).toBe(true);
    expect(first.stats().size).toBe(0);
    expect(s.drops).toEqual(['retired']);
    expect(await s.kernel.metrics.metrics()).toMatch(/^weir_idle_gc_removed_total 1$/m);
    // A later login makes the pool again.
    await s.query('alice');
    const second = s.kernel.registry.get('appdb', 'alice')!.pool;
    expect(second).not.toBe(first);
    expect(second.retired).toBe(false);
    await s.kernel.stop();
  });

  it('counts idleness from the last acquire or release', async () => {
    const s = await start();
    await s.query('alice');
    await s.clock.advanceAsync(45_000);
    await s.query('alice'); // activity at 45s
    await s.clock.advanceAsync(55_000); // 100s: idle 55s
    expect(s.keys.has('appdb', 'alice')).toBe(true);
    await s.clock.advanceAsync(10_000); // 110s: idle 65s
    expect(s.keys.has('appdb', 'alice')).toBe(false);
    await s.kernel.stop();
  });

  it('never removes a pool with a leased connection (a transaction in flight), however old', async () => {
    const s = await start();
    const pool = await s.login('alice');
    const lease = await pool.acquire();
    await s.clock.advanceAsync(3_600_000);
    expect(s.keys.has('appdb', 'alice')).toBe(true);
    expect(pool.retired).toBe(false);
    lease.release(); // activity now
    await s.clock.advanceAsync(50_000);
    expect(s.keys.has('appdb', 'alice')).toBe(true);
    await s.clock.advanceAsync(20_000);
    expect(s.keys.has('appdb', 'alice')).toBe(false);
    await s.kernel.stop();
  });

  it('never removes a pool with a waiter', async () => {
    const s = await start();
    const pool = await s.login('alice');
    const a = await pool.acquire();
    const b = await pool.acquire();
    const waiting = pool.acquire(); // size 2: this one waits
    a.release(); // hands off to the waiter…
    const c = await waiting;
    const again = pool.acquire(); // …and this one waits with no timeout
    b.release();
    const d = await again;
    const third = pool.acquire();
    await s.clock.advanceAsync(600_000);
    expect(pool.stats().waiting).toBe(1);
    expect(s.keys.has('appdb', 'alice')).toBe(true);
    c.release();
    (await third).release();
    d.release();
    await s.clock.advanceAsync(70_000);
    expect(s.keys.has('appdb', 'alice')).toBe(false);
    await s.kernel.stop();
  });

  it('leaves static pools alone', async () => {
    const s = await start();
    const key = { database: 'appdb', user: 'app' };
    const spec = { key, kind: 'static' as const, options: { max: 1, acquireTimeoutMs: 0 }, target: {} };
    s.kernel.registry.add({ key, kind: 'static', pool: s.kernel.resolve(TOKENS.PoolFactory).create(spec), spec });
    await s.clock.advanceAsync(3_600_000);
    expect(s.kernel.registry.get('appdb', 'app')?.kind).toBe('static');
    await s.kernel.stop();
  });

  it('a login racing the removal gets the new pool', async () => {
    const s = await start();
    await s.query('alice');
    await s.clock.advanceAsync(60_000);
    expect(s.kernel.registry.get('appdb', 'alice')).toBeUndefined();
    // The proxy found the retired pool (or none) and asks resolvePool again: a working pool.
    const pool = await s.login('alice');
    expect(pool.retired).toBe(false);
    const lease = await pool.acquire();
    lease.release();
    await s.kernel.stop();
  });

  it('sweeps nothing after the kernel stops', async () => {
    const s = await start();
    await s.query('alice');
    await s.kernel.stop();
    expect(s.clock.pending()).toBe(0);
  });

  it('takes new timings on reload', async () => {
    const s = await start();
    await s.query('alice');
    await s.kernel.reload(config({ interval: '1s', pool_idle_timeout: '5s' }));
    await s.clock.advanceAsync(5_000);
    expect(s.keys.has('appdb', 'alice')).toBe(false);
    await s.kernel.stop();
  });

  it('validates its options', () => {
    expect(idleGcConfigSchema.parse({})).toEqual({ interval: 30_000, pool_idle_timeout: 300_000 });
    expect(idleGcConfigSchema.parse({ interval: '5s', pool_idle_timeout: '2m' })).toEqual({ interval: 5_000, pool_idle_timeout: 120_000 });
    expect(idleGcConfigSchema.safeParse({ interval: 0 }).success).toBe(false);
    expect(idleGcConfigSchema.safeParse({ interval: 'soon' }).success).toBe(false);
    expect(idleGcConfigSchema.safeParse({ every: '1s' }).success).toBe(false);
  });

  it('refuses to start without dynamic_pools', async () => {
    const cfg = config();
    delete (cfg.plugins as Record<string, unknown>).dynamic_pools;
    const kernel = new Kernel({ config: cfg, clock: new FakeClock(), plugins: [IdleGcPlugin, DynamicPoolsPlugin] });
    const err = await kernel.start().catch((e: unknown) => e) as WeirError;
    expect(err.code).toMatch(/^WEIR_E_PLUGIN/);
    expect(err.message).toMatch(/dynamic_pools/);
  });
});
