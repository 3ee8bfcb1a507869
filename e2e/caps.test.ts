/**
 * Connection caps across pools (issue 13, item 4): max_db_connections bounds the server
 * connections to a database over all its users' pools, max_user_connections those logged in as
 * one user; clients of a pool that is held back get the next connection that frees up.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStack, USERS, type Stack } from './helpers.js';

let stack: Stack;
let stats: pg.Client;

beforeAll(async () => {
  stack = await startStack({ name: 'e2e-caps', poolSize: 4 });
  stats = new pg.Client({ host: stack.cluster.host, port: stack.cluster.port, user: stack.cluster.superuser, password: stack.cluster.superPassword, database: 'postgres' });
  await stats.connect();
});

afterAll(async () => {
  await stats?.end().catch(() => {});
  await stack?.stop();
});

/** Backends of appdb by user name, right now. */
async function backends(): Promise<Map<string, number>> {
  const r = await stats.query<{ u: string; n: number }>(
    `SELECT usename AS u, count(*)::int AS n FROM pg_stat_activity WHERE datname = 'appdb' AND backend_type = 'client backend' GROUP BY usename`);
  return new Map(r.rows.map((x) => [x.u, x.n]));
}

/** `clients` clients per user, each running `rounds` short queries; peak backends sampled meanwhile. */
async function load(port: number, users: { name: string; password: string }[], clients: number, rounds: number) {
  // Backends of an earlier test's weir may still be exiting.
  for (let i = 0; i < 100 && (await backends()).size !== 0; i++) await new Promise((r) => setTimeout(r, 50));
  let peakTotal = 0;
  const peakByUser = new Map<string, number>();
  let done = false;
  const sampler = (async () => {
    for (let i = 0; i < 2_000 && !done; i++) {
      const b = await backends();
      peakTotal = Math.max(peakTotal, [...b.values()].reduce((x, y) => x + y, 0));
      for (const [u, n] of b) peakByUser.set(u, Math.max(peakByUser.get(u) ?? 0, n));
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const served = new Map<string, number>();
  try {
    await Promise.all(users.flatMap((user) => Array.from({ length: clients }, async () => {
      const c = new pg.Client({ ...stack.conn(user), port });
      c.on('error', () => {});
      await c.connect();
      try {
        for (let i = 0; i < rounds; i++) {
          await c.query('SELECT pg_sleep(0.05)');
          served.set(user.name, (served.get(user.name) ?? 0) + 1);
        }
      } finally {
        await c.end();
      }
    })));
  } finally {
    done = true;
    await sampler;
  }
  return { peakTotal, peakByUser, served };
}

const ALL = [USERS.md5, USERS.plain, USERS.scram];

describe('max_db_connections', () => {
  it('three users\' pools of 4 share 3 server connections to appdb; every client is served', async () => {
    const weir = await stack.startAnotherWeir({ general: { max_db_connections: 3 } });
    const r = await load(weir.port, ALL, 4, 5);
    expect(r.peakTotal).toBeGreaterThan(0);
    expect(r.peakTotal).toBeLessThanOrEqual(3);
    for (const u of ALL) expect(r.served.get(u.name)).toBe(4 * 5);
    await weir.stop();
  });

  it('without a cap the same load opens more (the cap above is what held it)', async () => {
    const weir = await stack.startAnotherWeir({});
    const r = await load(weir.port, ALL, 4, 5);
    expect(r.peakTotal).toBeGreaterThan(3);
    await weir.stop();
  });
});

describe('max_user_connections', () => {
  it('one user\'s clients get at most 2 server connections though its pool has 4; other users are not held back', async () => {
    const weir = await stack.startAnotherWeir({ general: { max_user_connections: 2 } });
    const r = await load(weir.port, ALL, 6, 4);
    for (const u of ALL) {
      expect(r.peakByUser.get(u.name) ?? 0, u.name).toBeLessThanOrEqual(2);
      expect(r.served.get(u.name)).toBe(6 * 4);
    }
    await weir.stop();
  });
});


describe('reserve_pool_size', () => {
  it('a client that waited reserve_pool_timeout gets a connection past pool_size; without a reserve it times out', async () => {
    const run = async (general: Record<string, string | number>) => {
      const weir = await stack.startAnotherWeir({ poolSize: 1, general: { query_wait_timeout: '3s', ...general } });
      const holder = new pg.Client({ ...stack.conn(), port: weir.port });
      const other = new pg.Client({ ...stack.conn(), port: weir.port });
      holder.on('error', () => {});
      other.on('error', () => {});
      try {
        await holder.connect();
        await other.connect();
        await holder.query('BEGIN');
        await holder.query('SELECT 1'); // holds the pool's only connection
        return await other.query('SELECT 2 AS two').then((r) => r.rows[0].two as number, (e: Error) => e.message);
      } finally {
        await holder.end().catch(() => {});
        await other.end().catch(() => {});
        await weir.stop();
      }
    };
    expect(await run({ reserve_pool_size: 1, reserve_pool_timeout: '500ms' })).toBe(2);
    expect(await run({})).toMatch(/no connection available/);
  });
});
