import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks } from './clock.js';
import { Hooks } from './hooks.js';
import { Pool } from './pool.js';
import type { Connector, Lease } from './types.js';

function setup(max = 1) {
  const clock = new FakeClock(0);
  let n = 0;
  const connector: Connector<{ n: number }> = { connect: () => Promise.resolve({ n: ++n }), destroy: () => {} };
  const pool = new Pool<{ n: number }>({
    info: { name: 'app@appdb', key: { database: 'appdb', user: 'app' }, kind: 'static' },
    connector,
    options: { max, acquireTimeoutMs: 1_000 },
    hooks: new Hooks(),
    clock,
  });
  return { pool, clock };
}

describe('Pool.acquireWith (no promise)', () => {
  it('calls back at once when a connection is free', async () => {
    const { pool } = setup();
    (await pool.acquire()).release();
    const got: Lease<{ n: number }>[] = [];
    pool.acquireWith((l) => got.push(l), (e) => { throw e; });
    expect(got).toHaveLength(1); // synchronously
    got[0]!.release();
  });

  it('hands a released connection to the waiter inside release(), in FIFO order', async () => {
    const { pool } = setup();
    const first = await pool.acquire();
    const order: string[] = [];
    pool.acquireWith((l) => { order.push(`a:${l.connection.n}`); l.release(); }, () => order.push('a:error'));
    pool.acquireWith((l) => { order.push(`b:${l.connection.n}`); l.release(); }, () => order.push('b:error'));
    expect(order).toEqual([]);
    first.release();
    expect(order).toEqual(['a:1', 'b:1']); // both served before release() returned
    expect(pool.stats().active).toBe(0);
  });

  it('times out with the coded error naming the pool', async () => {
    const { pool, clock } = setup();
    const held = await pool.acquire();
    const errors: Array<{ code?: string; message: string }> = [];
    pool.acquireWith(() => errors.push({ message: 'leased' }), (e) => errors.push(e as { code?: string; message: string }));
    clock.advance(1_001);
    await flushMicrotasks();
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('WEIR_E_ACQUIRE_TIMEOUT');
    expect(errors[0]!.message).toContain('app@appdb');
    held.release();
  });

  it('a throwing callback does not break the release that handed it a connection', async () => {
    const { pool } = setup();
    const held = await pool.acquire();
    pool.acquireWith(() => { throw new Error('bad callback'); }, () => {});
    expect(() => held.release()).not.toThrow();
  });
});
