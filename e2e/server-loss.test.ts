/**
 * Server connections that die while idle in their pool (pg_terminate_backend, a PostgreSQL
 * restart) leave the pool at once — SHOW SERVERS stops listing them without waiting for the next
 * checkout — and clients carry on with fresh connections. A client that asks for a server while
 * PostgreSQL is down waits (up to query_wait_timeout) instead of failing, as with PgBouncer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { USERS, adminShow, queryOnce, sleep, startStack, type Stack } from './helpers.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({ name: 'server-loss', poolSize: 4 });
});
afterAll(async () => {
  await stack?.stop();
});

async function servers(): Promise<number> {
  const { rows } = await adminShow(stack.weir.port, 'SERVERS');
  return rows.filter((r) => r.database === 'appdb' && r.user === USERS.md5.name).length;
}

describe('idle server connections that die', () => {
  it('are dropped from the pool without a checkout, and the next queries get new ones', async () => {
    // Four clients at once make four server connections.
    await Promise.all(Array.from({ length: 4 }, () => queryOnce(stack.conn(USERS.md5), 'select pg_sleep(0.2)')));
    expect(await servers()).toBe(4);
    const killed = await stack.cluster.query(
      `select count(pg_terminate_backend(pid))::int as n from pg_stat_activity
       where datname = 'appdb' and usename = $1 and pid <> pg_backend_pid()`, [USERS.md5.name]);
    expect(killed[0].n).toBe(4);
    let left = await servers();
    for (let i = 0; i < 100 && left > 0; i++) {
      await sleep(50);
      left = await servers();
    }
    expect(left).toBe(0);
    const r = await queryOnce(stack.conn(USERS.md5), 'select 42 as n');
    expect(r[0].n).toBe(42);
    expect(await servers()).toBe(1);
  });
});

describe('PostgreSQL down for a while', () => {
  it('a query sent while it is down waits for it and runs once it is back', async () => {
    const c = new pg.Client(stack.conn(USERS.md5));
    c.on('error', () => {});
    await c.connect();
    try {
      expect((await c.query('select 1 as n')).rows).toEqual([{ n: 1 }]);
      let answer: Promise<unknown> | undefined;
      await stack.cluster.restart({
        whileDown: async () => {
          answer = c.query('select 2 as n').then((r) => r.rows, (e: Error) => `failed: ${e.message}`);
          await sleep(1_500); // several connect attempts fail meanwhile
        },
      });
      expect(await answer).toEqual([{ n: 2 }]);
      expect(stack.weir.logs.some((l) => /cannot reach server/.test(l))).toBe(true);
    } finally {
      await c.end().catch(() => {});
    }
  });
});
