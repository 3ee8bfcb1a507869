import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConnectionBudget } from './budget.js';
import { FakeClock, flushMicrotasks } from './clock.js';
import { Hooks } from './hooks.js';
import { Pool } from './pool.js';
import type { Connector, Lease } from './types.js';

/** Pools over plain objects sharing `budgets`; `live` counts connections not yet destroyed. */
function pools(n: number, budgets: ConnectionBudget[], max = 5) {
  const clock = new FakeClock(0);
  let live = 0;
  let peak = 0;
  const ctl = { fail: 0 };
  const connector: Connector<{ id: number }> = {
    connect: () => {
      if (ctl.fail > 0) {
        ctl.fail--;
        return Promise.reject(new Error('ECONNREFUSED'));
      }
      live++;
      peak = Math.max(peak, live);
      return Promise.resolve({ id: live });
    },
    destroy: () => void live--,
  };
  const hooks = new Hooks();
  const list = Array.from({ length: n }, (_, i) => new Pool({
    info: { name: `u${i}@db`, key: { database: 'db', user: `u${i}` }, kind: 'static' },
    connector,
    options: { max, acquireTimeoutMs: 0, budgets },
    hooks,
    clock,
  }));
  return { list, clock, ctl, live: () => live, peak: () => peak };
}

describe('ConnectionBudget across pools', () => {
  it('pools sharing a budget never hold more connections than its limit; a waiter gets the next free one', async () => {
    const db = new ConnectionBudget('db', 3);
    const { list, live } = pools(2, [db]);
    const [a, b] = list as [Pool<{ id: number }>, Pool<{ id: number }>];
    const held = [await a.acquire(), await a.acquire(), await b.acquire()];
    expect(db.used).toBe(3);
    let got: Lease<{ id: number }> | null = null;
    void b.acquire().then((l) => { got = l; });
    await flushMicrotasks();
    expect(got).toBeNull();
    expect(live()).toBe(3);
    held[0]!.destroy();
    await flushMicrotasks();
    expect(got).not.toBeNull();
    expect(live()).toBe(3);
    expect(db.used).toBe(3);
  });

  it('a connection released to idle while another pool waits on the full budget goes to that pool', async () => {
    const db = new ConnectionBudget('db', 1);
    const { list, live } = pools(2, [db]);
    const [a, b] = list as [Pool<{ id: number }>, Pool<{ id: number }>];
    const x = await a.acquire();
    let got = false;
    void b.acquire().then(() => { got = true; });
    await flushMicrotasks();
    expect(got).toBe(false);
    x.release();
    await flushMicrotasks();
    expect(got).toBe(true);
    expect(a.stats().idle).toBe(0);
    expect(live()).toBe(1);
  });

  it('a pool whose clients wait takes the room of another pool\'s idle connection', async () => {
    const db = new ConnectionBudget('db', 2);
    const { list, live } = pools(2, [db]);
    const [a, b] = list as [Pool<{ id: number }>, Pool<{ id: number }>];
    const x = await a.acquire();
    const y = await a.acquire();
    x.release();
    y.release();
    expect(a.stats().idle).toBe(2);
    const l = await b.acquire();
    expect(l).toBeDefined();
    expect(a.stats().idle).toBe(1);
    expect(live()).toBe(2);
  });

  it('failed connects and retired pools give their slots back; a raised limit wakes waiters', async () => {
    const user = new ConnectionBudget('user', 1);
    const { list, ctl } = pools(2, [user]);
    const [a, b] = list as [Pool<{ id: number }>, Pool<{ id: number }>];
    ctl.fail = 1;
    await expect(a.acquire()).rejects.toThrow();
    expect(user.used).toBe(0);
    const l = await a.acquire();
    let got = false;
    void b.acquire().then(() => { got = true; });
    await flushMicrotasks();
    expect(got).toBe(false);
    user.limit = 2;
    await flushMicrotasks();
    expect(got).toBe(true);
    l.release();
    await a.retire();
    expect(user.used).toBe(1);
  });

  it('property: random acquire/release/destroy across 3 pools never exceeds the budget, and slots match live connections', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 1, max: 4 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.constantFrom('acquire', 'release', 'destroy')), { maxLength: 60 }),
      async (limit, ops) => {
        const db = new ConnectionBudget('db', limit);
        const { list, live, peak } = pools(3, [db], 3);
        const leases: Lease<{ id: number }>[][] = [[], [], []];
        for (const [i, op] of ops) {
          if (op === 'acquire') void list[i]!.acquire().then((l) => leases[i]!.push(l), () => {});
          else if (op === 'release' && leases[i]!.length === 0) continue;
          else {
            const l = leases[i]!.shift();
            if (l) op === 'release' ? l.release() : l.destroy();
          }
          await flushMicrotasks();
        }
        expect(peak()).toBeLessThanOrEqual(limit);
        expect(db.used).toBe(live());
        // Liveness: releasing whatever is held serves every acquire still waiting, whichever pool.
        for (let round = 0; round < 200 && list.some((p) => p.stats().waiting > 0); round++) {
          for (const held of leases) held.shift()?.release();
          await flushMicrotasks();
        }
        expect(list.map((p) => p.stats().waiting)).toEqual([0, 0, 0]);
        expect(peak()).toBeLessThanOrEqual(limit);
      },
    ), { numRuns: 150 });
  });
});
