import { describe, expect, it } from 'vitest';
import {
  FakeClock, Kernel, Pool, TOKENS, WeirError, flushMicrotasks,
  type Config, type PoolFactory, type PoolSpec, type ResolvedUser,
} from '@weir/kernel';
import { DYNAMIC_POOL_KEYS, DYNAMIC_POOL_LIMIT, DynamicPoolsPlugin } from './index.js';

interface Conn { id: number; closed: boolean }

function baseConfig(pools: Record<string, unknown>, plugin: Record<string, unknown> = {}): Config {
  return {
    general: {
      host: '127.0.0.1', port: 6432, admin_user: 'admin', admin_password: 'admin', connect_timeout: 1000,
      query_wait_timeout: 5000, idle_timeout: 0, server_lifetime: 0, shutdown_timeout: 1000, client_login_timeout: 1000,
      log_level: 'silent', max_client_conn: 100,
    },
    plugins: { dynamic_pools: { enabled: true, ...plugin } },
    pools: pools as Config['pools'],
  };
}

const appdb = {
  server_host: '127.0.0.1', server_port: 5432, pool_size: 20, users: [],
  auth_query: { query: 'SELECT usename, passwd FROM pg_shadow WHERE usename = $1', user: 'postgres' },
};

function resolvedUser(database: string, user: string, size = 3): ResolvedUser {
  return {
    database, user, source: 'test',
    secret: { kind: 'md5', hash: 'md5' + '0'.repeat(32) },
    pool: { key: { database, user }, size, serverAuth: { mode: 'passthrough' } },
  };
}

async function start(config: Config) {
  const clock = new FakeClock(1_000);
  const specs: PoolSpec[] = [];
  let nextConn = 1;
  const kernel = new Kernel({ config, clock, plugins: [DynamicPoolsPlugin] });
  const factory: PoolFactory = {
    create(spec) {
      specs.push(spec);
      return new Pool<Conn>({
        info: { name: `${spec.key.user}@${spec.key.database}`, key: spec.key, kind: spec.kind },
        connector: { connect: async () => ({ id: nextConn++, closed: false }), destroy: (c) => { c.closed = true; } },
        options: spec.options,
        hooks: kernel.hooks,
        clock,
      });
    },
  };
  kernel.setPoolFactory(factory);
  await kernel.start();
  const resolvePool = (r: ResolvedUser) => kernel.hooks.resolveFirst('resolvePool', { key: r.pool.key, resolved: r });
  return { kernel, clock, specs, resolvePool, keys: kernel.resolve(DYNAMIC_POOL_KEYS) };
}

describe('resolvePool', () => {
  it('makes a dynamic pool for a resolved user, registers it and reuses it', async () => {
    const { kernel, specs, resolvePool, keys } = await start(baseConfig({ appdb }));
    const alice = resolvedUser('appdb', 'alice', 4);
    const pool = await resolvePool(alice);
    expect(pool).toBeDefined();
    const entry = kernel.registry.get('appdb', 'alice');
    expect(entry?.kind).toBe('dynamic');
    expect(entry?.pool).toBe(pool);
    expect(specs).toHaveLength(1);
    expect(specs[0]!.options).toEqual({ max: 4, acquireTimeoutMs: 5000 });
    expect(specs[0]!.target).toEqual({ resolved: alice });
    expect(await resolvePool(alice)).toBe(pool);
    expect(specs).toHaveLength(1);
    expect(keys.size).toBe(1);
    expect(keys.has('appdb', 'alice')).toBe(true);
    expect(keys.keys()).toEqual([{ database: 'appdb', user: 'alice' }]);
    expect(keys.ofDatabase('appdb')).toHaveLength(1);
    expect(keys.ofDatabase('other')).toHaveLength(0);
    await kernel.stop();
  });

  it('makes one pool when many logins ask at once', async () => {
    const { kernel, specs, resolvePool } = await start(baseConfig({ appdb }));
    const pools = await Promise.all(Array.from({ length: 200 }, () => resolvePool(resolvedUser('appdb', 'bob'))));
    expect(new Set(pools).size).toBe(1);
    expect(specs).toHaveLength(1);
    await kernel.stop();
  });

  it('does not answer without a resolved user', async () => {
    const { kernel } = await start(baseConfig({ appdb }));
    expect(await kernel.hooks.resolveFirst('resolvePool', { key: { database: 'appdb', user: 'x' } })).toBeUndefined();
    await kernel.stop();
  });

  it('refuses a pool beyond max_pools with a coded error naming SQLSTATE 53300', async () => {
    const { kernel, resolvePool, keys } = await start(baseConfig({ appdb }, { max_pools: 2 }));
    await resolvePool(resolvedUser('appdb', 'a'));
    await resolvePool(resolvedUser('appdb', 'b'));
    const err = await resolvePool(resolvedUser('appdb', 'c')).catch((e: unknown) => e) as WeirError;
    expect(err.code).toBe('WEIR_E_HOOK_FAILED');
    const cause = err.cause as WeirError;
    expect(cause.code).toBe(DYNAMIC_POOL_LIMIT);
    expect(cause.details.sqlstate).toBe('53300');
    expect(cause.message).toMatch(/max_pools = 2/);
    expect(keys.size).toBe(2);
    // An existing pool is still handed out at the limit.
    expect(await resolvePool(resolvedUser('appdb', 'a'))).toBeDefined();
    // Once one is gone there is room again.
    await kernel.registry.retire('appdb', 'a', 'test');
    expect(await resolvePool(resolvedUser('appdb', 'c'))).toBeDefined();
    await kernel.stop();
  });

  it('static pools do not count toward max_pools and are handed out as they are', async () => {
    const { kernel, resolvePool, specs } = await start(baseConfig({ appdb }, { max_pools: 1 }));
    const key = { database: 'appdb', user: 'svc' };
    const spec = { key, kind: 'static' as const, options: { max: 2, acquireTimeoutMs: 0 }, target: {} };
    const staticPool = kernel.resolve(TOKENS.PoolFactory).create(spec);
    kernel.registry.add({ key, kind: 'static', pool: staticPool, spec });
    expect(await resolvePool(resolvedUser('appdb', 'svc'))).toBe(staticPool);
    expect(await resolvePool(resolvedUser('appdb', 'dyn'))).toBeDefined();
    expect(specs.filter((x) => x.kind === 'dynamic')).toHaveLength(1);
    await kernel.stop();
  });
});

describe('reload', () => {
  async function withPools(config: Config) {
    const s = await start(config);
    await s.resolvePool(resolvedUser('appdb', 'alice'));
    await s.resolvePool(resolvedUser('appdb', 'bob'));
    await s.resolvePool(resolvedUser('otherdb', 'carol'));
    return s;
  }
  const otherdb = { ...appdb };

  it('retires every dynamic pool of a database whose auth_query changed (server_user included)', async () => {
    const s = await withPools(baseConfig({ appdb, otherdb }));
    const next = baseConfig({ appdb: { ...appdb, auth_query: { ...appdb.auth_query, server_user: 'svc' } }, otherdb });
    await s.kernel.reload(next);
    expect(s.kernel.registry.get('appdb', 'alice')).toBeUndefined();
    expect(s.kernel.registry.get('appdb', 'bob')).toBeUndefined();
    expect(s.kernel.registry.get('otherdb', 'carol')?.kind).toBe('dynamic');
    expect(s.keys.keys()).toEqual([{ database: 'otherdb', user: 'carol' }]);
    await s.kernel.stop();
  });

  it('retires them when the auth_query section is removed', async () => {
    const s = await withPools(baseConfig({ appdb, otherdb }));
    const { auth_query: _gone, ...withoutAq } = appdb;
    await s.kernel.reload(baseConfig({ appdb: withoutAq, otherdb }));
    expect(s.keys.ofDatabase('appdb')).toEqual([]);
    expect(s.keys.ofDatabase('otherdb')).toHaveLength(1);
    await s.kernel.stop();
  });

  it('retires them when the database is removed or its server changes', async () => {
    const s = await withPools(baseConfig({ appdb, otherdb }));
    await s.kernel.reload(baseConfig({ appdb: { ...appdb, server_port: 5433 } }));
    expect(s.keys.size).toBe(0);
    await s.kernel.stop();
  });

  it('retires nothing, and keeps max_pools, when another handler refuses the reload', async () => {
    const s = await withPools(baseConfig({ appdb, otherdb }));
    const before = s.kernel.registry.snapshot();
    s.kernel.hooks.late().on('reload', () => {
      throw new WeirError('WEIR_E_RELOAD_REJECTED', 'no', {});
    }, 'refuser');
    await expect(s.kernel.reload(baseConfig({ appdb: { ...appdb, server_port: 5433 } }, { max_pools: 1 }))).rejects.toMatchObject({
      code: 'WEIR_E_RELOAD_REJECTED', details: { plugin: 'refuser' },
    });
    expect(s.kernel.registry.snapshot()).toBe(before);
    for (const e of before.values()) expect(e.pool.retired).toBe(false);
    expect(s.keys.size).toBe(3);
    await expect(s.resolvePool(resolvedUser('appdb', 'dave'))).resolves.toBeDefined(); // max_pools still 1000, not 1
    await s.kernel.stop();
  });

  it('keeps them when only static users or the static pool size change', async () => {
    const s = await withPools(baseConfig({ appdb, otherdb }));
    const alice = s.kernel.registry.get('appdb', 'alice')!.pool;
    await s.kernel.reload(baseConfig({ appdb: { ...appdb, pool_size: 7, users: [{ username: 'app', password: 'x' }] }, otherdb }));
    expect(s.keys.size).toBe(3);
    expect(s.kernel.registry.get('appdb', 'alice')!.pool).toBe(alice);
    await s.kernel.stop();
  });

  it('takes a new max_pools', async () => {
    const s = await withPools(baseConfig({ appdb, otherdb }, { max_pools: 10 }));
    await s.kernel.reload(baseConfig({ appdb, otherdb }, { max_pools: 3 }));
    await expect(s.resolvePool(resolvedUser('appdb', 'dave'))).rejects.toMatchObject({ cause: { code: DYNAMIC_POOL_LIMIT } });
    await s.kernel.stop();
  });

  it('never cuts a lease in flight: the connection works until released, then closes', async () => {
    const s = await start(baseConfig({ appdb }));
    const pool = (await s.resolvePool(resolvedUser('appdb', 'alice'))) as Pool<Conn>;
    const lease = await pool.acquire();
    await s.kernel.reload(baseConfig({ appdb: { ...appdb, auth_query: { ...appdb.auth_query, query: 'SELECT $1, NULL' } } }));
    await flushMicrotasks();
    expect(s.kernel.registry.get('appdb', 'alice')).toBeUndefined();
    expect(pool.retired).toBe(true);
    expect(lease.connection.closed).toBe(false);
    expect(pool.stats().active).toBe(1);
    lease.release();
    await flushMicrotasks();
    expect(lease.connection.closed).toBe(true);
    expect(pool.stats().size).toBe(0);
    // The next login makes a new pool.
    const again = await s.resolvePool(resolvedUser('appdb', 'alice'));
    expect(again).not.toBe(pool);
    await s.kernel.stop();
  });
});
