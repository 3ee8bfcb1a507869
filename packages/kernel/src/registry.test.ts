import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks } from './clock.js';
import { Hooks } from './hooks.js';
import { Pool } from './pool.js';
import { PoolRegistry, poolKeyId, type RegistryEntry } from './registry.js';
import type { PoolKind } from './types.js';
import { memoryLogger } from './test-util.js';

function makePool(hooks: Hooks, database: string, user: string, kind: PoolKind = 'static'): Pool {
  return new Pool<object>({
    info: { name: `${user}@${database}`, key: { database, user }, kind },
    connector: { connect: async () => ({}), destroy: () => undefined },
    options: { max: 2, acquireTimeoutMs: 0 },
    hooks,
  });
}

describe('PoolRegistry', () => {
  it('keys by (database, user) without collisions', () => {
    expect(poolKeyId('a@b', 'c')).not.toBe(poolKeyId('a', 'b@c'));
    expect(poolKeyId('db', 'u')).toBe(poolKeyId('db', 'u'));
  });

  it('adds, finds and emits pool:created; each change is a new snapshot', () => {
    const hooks = new Hooks();
    const created: RegistryEntry[] = [];
    hooks.listen('pool:created', (e) => void created.push(e));
    const reg = new PoolRegistry(hooks, new FakeClock(42));
    const before = reg.snapshot();
    const pool = makePool(hooks, 'appdb', 'app');
    const entry = reg.add({ key: { database: 'appdb', user: 'app' }, kind: 'static', pool });
    expect(entry.createdAt).toBe(42);
    expect(reg.get('appdb', 'app')?.pool).toBe(pool);
    expect(reg.get('appdb', 'other')).toBeUndefined();
    expect(before.size).toBe(0);
    expect(reg.snapshot()).not.toBe(before);
    expect(created).toEqual([entry]);
  });

  it('replacing an entry retires the old pool', async () => {
    const hooks = new Hooks();
    const retired: string[] = [];
    hooks.listen('pool:retired', (e, reason) => void retired.push(`${e.pool.info.name}:${reason}`));
    const reg = new PoolRegistry(hooks);
    const old = makePool(hooks, 'd', 'u');
    reg.add({ key: { database: 'd', user: 'u' }, kind: 'dynamic', pool: old });
    reg.add({ key: { database: 'd', user: 'u' }, kind: 'static', pool: makePool(hooks, 'd', 'u') });
    expect(old.retired).toBe(true);
    expect(retired).toEqual(['u@d:replaced']);
    expect(reg.get('d', 'u')?.kind).toBe('static');
  });

  it('retire removes the entry, emits pool:retired and waits for leases in flight', async () => {
    const hooks = new Hooks();
    const reg = new PoolRegistry(hooks);
    const pool = makePool(hooks, 'd', 'u', 'dynamic');
    reg.add({ key: { database: 'd', user: 'u' }, kind: 'dynamic', pool });
    const lease = await pool.acquire();
    let done = false;
    const p = reg.retire('d', 'u', 'idle-gc').then(() => (done = true));
    expect(reg.get('d', 'u')).toBeUndefined();
    await flushMicrotasks();
    expect(done).toBe(false);
    lease.release();
    await p;
    expect(done).toBe(true);
    await reg.retire('d', 'u', 'again');
  });

  it('swap replaces the whole map at once: keeps, adds and retires', async () => {
    const hooks = new Hooks();
    const events: string[] = [];
    hooks.listen('pool:created', (e) => void events.push(`created ${e.pool.info.name}`));
    hooks.listen('pool:retired', (e, reason) => void events.push(`retired ${e.pool.info.name} ${reason}`));
    const clock = new FakeClock(1);
    const reg = new PoolRegistry(hooks, clock);
    const keep = makePool(hooks, 'a', 'u');
    const drop = makePool(hooks, 'b', 'u');
    reg.add({ key: { database: 'a', user: 'u' }, kind: 'static', pool: keep });
    reg.add({ key: { database: 'b', user: 'u' }, kind: 'static', pool: drop });
    events.length = 0;
    clock.advance(10);
    const held = reg.snapshot();
    const added = makePool(hooks, 'c', 'u');
    const outcomes = await reg.swap(
      [
        { key: { database: 'a', user: 'u' }, kind: 'static', pool: keep },
        { key: { database: 'c', user: 'u' }, kind: 'static', pool: added },
      ],
      'reload',
    );
    expect([...held.keys()]).toEqual([poolKeyId('a', 'u'), poolKeyId('b', 'u')]);
    expect(reg.entries().map((e) => e.pool.info.name)).toEqual(['u@a', 'u@c']);
    expect(reg.get('a', 'u')?.createdAt).toBe(1);
    expect(reg.get('c', 'u')?.createdAt).toBe(11);
    expect(drop.retired).toBe(true);
    expect(keep.retired).toBe(false);
    // the map is swapped (created) before the pools left out are retired
    expect(events).toEqual(['created u@c', 'retired u@b reload']);
    expect(outcomes).toEqual([{ pool: 'u@b', reason: 'reload', ok: true }]);
  });

  it('retireAll reports each outcome, a failed retirement included, and never rejects', async () => {
    const hooks = new Hooks();
    const reg = new PoolRegistry(hooks);
    const good = makePool(hooks, 'a', 'u');
    const bad = makePool(hooks, 'b', 'u');
    const boom = new Error('close failed');
    bad.retire = () => Promise.reject(boom);
    reg.add({ key: { database: 'a', user: 'u' }, kind: 'static', pool: good });
    reg.add({ key: { database: 'b', user: 'u' }, kind: 'dynamic', pool: bad });
    const left = reg.replace([]);
    expect(reg.size).toBe(0);
    expect(good.retired).toBe(false); // replace only takes them off the map
    const outcomes = await reg.retireAll(left, (e) => `gone ${e.kind}`);
    expect(outcomes).toEqual([
      { pool: 'u@a', reason: 'gone static', ok: true },
      { pool: 'u@b', reason: 'gone dynamic', ok: false, error: boom },
    ]);
    expect(good.retired).toBe(true);
  });

  it('add() over an entry logs how retiring the replaced pool ended', async () => {
    const hooks = new Hooks();
    const { logger, lines } = memoryLogger('info');
    const reg = new PoolRegistry(hooks, new FakeClock(), logger);
    const old = makePool(hooks, 'a', 'u');
    old.retire = () => Promise.reject(new Error('stuck'));
    reg.add({ key: { database: 'a', user: 'u' }, kind: 'dynamic', pool: old });
    reg.add({ key: { database: 'a', user: 'u' }, kind: 'static', pool: makePool(hooks, 'a', 'u') });
    await flushMicrotasks();
    expect(lines.find((l) => l.code === 'WEIR_E_POOL_RETIRE_FAILED')).toMatchObject({ pool: 'u@a', reason: 'replaced', msg: 'retiring pool u@a (replaced) failed: stuck' });
  });

  it('closeAll closes every pool, leased connections included', async () => {
    const hooks = new Hooks();
    const drops: string[] = [];
    hooks.on('drop', (_c, reason) => void drops.push(reason));
    const reg = new PoolRegistry(hooks);
    const pool = makePool(hooks, 'a', 'u');
    reg.add({ key: { database: 'a', user: 'u' }, kind: 'static', pool });
    await pool.acquire();
    await reg.closeAll();
    expect(drops).toEqual(['shutdown']);
    expect(reg.size).toBe(0);
  });
});
