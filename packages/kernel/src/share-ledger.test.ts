import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock, flushMicrotasks } from './clock.js';
import { Hooks } from './hooks.js';
import { Pool } from './pool.js';
import { ShareLedger, type LedgerMessage } from './share-ledger.js';
import { SharedBudget } from './shared-budget.js';
import type { Connector, Lease } from './types.js';

type Up = { worker: number; kind: 'ask'; limit: number } | { worker: number; kind: 'release'; n: number; declined: number };

/**
 * `n` workers, each a pool of size `limit` (pool_size is global) over one SharedBudget, and a
 * supervisor ledger; messages queue both ways (FIFO per worker, delivered when the test says).
 * `live[w]` counts the worker's open connections to the "server".
 */
function cluster(n: number, limit: number) {
  const clock = new FakeClock(0);
  const hooks = new Hooks();
  const down: LedgerMessage[][] = Array.from({ length: n }, () => []);
  const up: Up[][] = Array.from({ length: n }, () => []);
  const ledger = new ShareLedger((m) => down[m.worker]!.push(m));
  const live = Array.from({ length: n }, () => 0);
  const alive = Array.from({ length: n }, () => true);
  const make = (w: number) => {
    const budget = new SharedBudget('pool_size db/u', limit, {
      ask: (_k, l) => up[w]!.push({ worker: w, kind: 'ask', limit: l }),
      release: (_k, k, declined = 0) => up[w]!.push({ worker: w, kind: 'release', n: k, declined }),
    });
    const connector: Connector<{ id: number }> = {
      connect: () => { live[w]!++; return Promise.resolve({ id: live[w]! }); },
      destroy: () => void live[w]!--,
    };
    const pool = new Pool({ info: { name: `u@db#${w}`, key: { database: 'db', user: 'u' }, kind: 'static' }, connector,
      options: { max: limit, acquireTimeoutMs: 0, budgets: [budget] }, hooks, clock });
    return { budget, pool, leases: [] as Lease<{ id: number }>[] };
  };
  const workers = Array.from({ length: n }, (_, w) => make(w));
  return {
    ledger, workers, live, alive, up, down,
    deliverUp(w: number) {
      const m = up[w]!.shift();
      if (!m || !alive[w]) return;
      if (m.kind === 'ask') ledger.ask(w, 'k', m.limit);
      else ledger.release(w, 'k', m.n, m.declined);
    },
    deliverDown(w: number) {
      const m = down[w]!.shift();
      if (!m || !alive[w]) return;
      if (m.kind === 'grant') workers[w]!.budget.granted(m.n);
      else workers[w]!.budget.reclaim(m.n, m.force);
    },
    kill(w: number) {
      alive[w] = false;
      live[w] = 0; // the process is gone: its sockets close with it
      up[w]!.length = 0;
      down[w]!.length = 0;
      ledger.dead(w);
      workers[w] = make(w);
      alive[w] = true;
    },
    total: () => live.reduce((a, b) => a + b, 0),
    sharesSum: () => [...ledger.shares('k').values()].reduce((a, b) => a + b, 0),
  };
}

const OPS = ['acquire', 'release', 'destroy', 'up', 'down', 'tick', 'kill'] as const;

describe('ShareLedger with SharedBudget: a cap across workers', () => {
  it('a worker gets a slot once the other gives back the one it does not use', async () => {
    const c = cluster(2, 1);
    const a = c.workers[0]!;
    const b = c.workers[1]!;
    let gotA: Lease<{ id: number }> | null = null;
    void a.pool.acquire().then((l) => { gotA = l; });
    await flushMicrotasks();
    c.deliverUp(0);
    c.deliverDown(0);
    await flushMicrotasks();
    expect(gotA).not.toBeNull();
    gotA!.release();
    let gotB = false;
    void b.pool.acquire().then(() => { gotB = true; });
    await flushMicrotasks();
    c.deliverUp(1);
    expect(c.down[1]).toEqual([]); // nothing free: B waits
    c.ledger.tick(); // A is asked for a slot it does not use: its idle connection closes
    c.deliverDown(0);
    await flushMicrotasks();
    expect(c.live[0]).toBe(0);
    c.deliverUp(0);
    c.deliverDown(1);
    await flushMicrotasks();
    expect(gotB).toBe(true);
    expect(c.total()).toBe(1);
  });

  it('a busy worker holding every slot gives half back to a worker whose clients wait', async () => {
    const c = cluster(2, 4);
    const a = c.workers[0]!;
    const held: Lease<{ id: number }>[] = [];
    for (let i = 0; i < 4; i++) void a.pool.acquire().then((l) => held.push(l));
    for (let i = 0; i < 8; i++) { await flushMicrotasks(); c.deliverUp(0); c.deliverDown(0); }
    await flushMicrotasks();
    expect(held.length).toBe(4);
    for (let i = 0; i < 4; i++) void a.pool.acquire().then((l) => held.push(l)); // A's clients keep waiting too
    let gotB = 0;
    for (let i = 0; i < 2; i++) void c.workers[1]!.pool.acquire().then(() => { gotB++; });
    for (let i = 0; i < 10; i++) {
      await flushMicrotasks();
      c.deliverUp(1); c.deliverDown(0);
      const l = held.shift();
      l?.release();
      await flushMicrotasks();
      c.deliverUp(0); c.deliverDown(1);
    }
    await flushMicrotasks();
    expect(gotB).toBe(2);
    expect(c.total()).toBeLessThanOrEqual(4);
  });

  it('a cap lowered by RELOAD: the worker holding more gives the excess back as its connections go idle', async () => {
    const c = cluster(2, 4);
    const a = c.workers[0]!;
    const held: Lease<{ id: number }>[] = [];
    for (let i = 0; i < 4; i++) void a.pool.acquire().then((l) => held.push(l));
    for (let i = 0; i < 8; i++) { await flushMicrotasks(); c.deliverUp(0); c.deliverDown(0); }
    expect(c.live[0]).toBe(4);
    c.ledger.setLimit('k', 2);
    c.deliverDown(0);
    c.deliverDown(0);
    for (const l of held) l.release();
    await flushMicrotasks();
    c.deliverUp(0);
    c.deliverUp(0);
    expect(c.live[0]).toBe(2);
    expect(c.sharesSum()).toBe(2);
  });

  it('property: under random acquire/release/destroy/messages/ticks/worker deaths, shares sum to ≤ the limit and live connections never exceed it', async () => {
    await fc.assert(fc.asyncProperty(
      fc.integer({ min: 2, max: 3 }),
      fc.integer({ min: 1, max: 5 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 2 }), fc.constantFrom(...OPS)), { maxLength: 120 }),
      async (n, limit, ops) => {
        const c = cluster(n, limit);
        for (const [i, op] of ops) {
          const w = i % n;
          const wk = c.workers[w]!;
          if (op === 'acquire') void wk.pool.acquire().then((l) => wk.leases.push(l), () => {});
          else if (op === 'release') wk.leases.shift()?.release();
          else if (op === 'destroy') wk.leases.shift()?.destroy();
          else if (op === 'up') c.deliverUp(w);
          else if (op === 'down') c.deliverDown(w);
          else if (op === 'tick') c.ledger.tick();
          else c.kill(w);
          await flushMicrotasks();
          expect(c.sharesSum()).toBeLessThanOrEqual(limit);
          expect(c.total()).toBeLessThanOrEqual(limit);
          for (const x of c.workers) expect(x.budget.share).toBeLessThanOrEqual(c.ledger.shares('k').get(c.workers.indexOf(x)) ?? 0);
        }
      },
    ), { numRuns: 300 });
  });
});
