/**
 * Idle pool GC: a dynamic pool with no lease and no waiter, idle longer than
 * pool_idle_timeout, is removed (its server connections close); a later login makes it
 * again; a transaction held open across GC ticks keeps its pool and its backend.
 * No timing is asserted: every wait is a bounded poll.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, startStack, type Stack } from './stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack('e2e-aq-gc', { gc: { interval: '200ms', poolIdleTimeout: '1s' } });
});

afterAll(async () => {
  await stack?.stop();
});

const backends = (user: string) => stack.cluster.query<{ n: number }>(
  'SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1', [user]).then((r) => r[0]!.n);

describe('idle dynamic pool GC', () => {
  it('removes an idle pool and closes its server connections; the next login makes it again', async () => {
    const from = stack.weir.logs.length;
    expect((await stack.one(ROLES.alice, 'SELECT current_user AS u')).u).toBe('alice');
    expect(await stack.dynamicPools()).toContain('alice');
    expect(await backends('alice')).toBeGreaterThan(0);

    await stack.weir.waitForLog(/idle dynamic pool removed.*alice@appdb|alice@appdb.*idle dynamic pool removed/, 30_000, from);
    expect(await stack.dynamicPools()).not.toContain('alice');
    await stack.until('alice\'s server connections to close', () => backends('alice'), (n) => n === 0);

    expect((await stack.one(ROLES.alice, 'SELECT current_user AS u')).u).toBe('alice');
    expect(await stack.dynamicPools()).toContain('alice');
  });

  it('a transaction held open across GC ticks keeps its pool and commits on the same backend', async () => {
    const c = await stack.connect(ROLES.bob);
    try {
      await c.query('BEGIN');
      const pid = (await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      await c.query("INSERT INTO ledger (note) VALUES ('across gc')");
      // Proof that GC ran, with the timeout passed, while bob's lease was out: dave's idle pool goes.
      const from = stack.weir.logs.length;
      await stack.one(ROLES.dave, 'SELECT 1');
      await stack.weir.waitForLog(/dave@appdb/, 30_000, from);
      await stack.weir.waitForLog(/idle dynamic pool removed.*dave@appdb|dave@appdb.*idle dynamic pool removed/, 30_000, from);
      // And again, for good measure: more ticks pass.
      const again = stack.weir.logs.length;
      await stack.one(ROLES.dave, 'SELECT 1');
      await stack.weir.waitForLog(/idle dynamic pool removed.*dave@appdb|dave@appdb.*idle dynamic pool removed/, 30_000, again);

      expect(await stack.dynamicPools()).toContain('bob');
      expect((await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid).toBe(pid);
      await c.query('COMMIT');
      // A session-mode-like long holder is fine too: bob's client is still usable afterwards.
      expect((await c.query('SELECT current_user AS u')).rows[0].u).toBe('bob');
    } finally {
      await c.end().catch(() => {});
    }
    const rows = await stack.cluster.query<{ who: string }>("SELECT who FROM ledger WHERE note = 'across gc'", [], { database: 'appdb' });
    expect(rows).toEqual([{ who: 'bob' }]);
  });

  // A client whose pool GC removes between its login and its first query re-resolves its pool.
  it('logins racing removals all succeed', async () => {
    // GC now removes the pool whenever it is idle at a tick (every 20ms); short-lived clients of
    // one user, a few at once, keep landing right before and after removals.
    await stack.reload({ gc: { interval: '20ms', poolIdleTimeout: '0ms' } });
    const from = stack.weir.logs.length;
    const failures: string[] = [];
    let done = 0;
    const worker = async (w: number) => {
      for (let i = 0; i < 40; i++) {
        const c = new pg.Client(stack.conn(ROLES.carol));
        c.on('error', () => {});
        try {
          await c.connect();
          const r = await c.query('SELECT current_user AS u');
          if (r.rows[0].u !== 'carol') failures.push(`ran as ${r.rows[0].u}`);
          done++;
        } catch (e) {
          failures.push(`${(e as { code?: string }).code ?? ''} ${(e as Error).message}`);
        } finally {
          await c.end().catch(() => {});
        }
        await new Promise((r) => setTimeout(r, (i * 7 + w * 11) % 45));
      }
    };
    await Promise.all([worker(0), worker(1), worker(2)]);
    const removals = stack.weir.logs.slice(from).filter((l) => /idle dynamic pool removed/.test(l) && l.includes('carol@appdb')).length;
    expect(removals).toBeGreaterThan(0); // the races did happen
    expect(failures).toEqual([]);
    expect(done).toBe(120);
  });
});
