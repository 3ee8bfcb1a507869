/**
 * auth_query in dedicated mode: users found by the query authenticate against their own
 * stored secret, and all of them share one pool logged in as server_user.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES, psql, startStack, type Stack } from './stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack('e2e-aq-dedicated', { auth: { serverUser: ROLES.svc, poolSize: 2 } });
});

afterAll(async () => {
  await stack?.stop();
});

describe('dedicated mode', () => {
  it('md5- and SCRAM-stored users log in with their own passwords and run as server_user', async () => {
    const a = await stack.one(ROLES.alice, 'SELECT current_user AS u, session_user AS s');
    const b = await stack.one(ROLES.bob, 'SELECT current_user AS u');
    expect(a).toEqual({ u: 'svc', s: 'svc' });
    expect(b.u).toBe('svc');
    const r = await psql(stack, ROLES.dave, 'SELECT current_user');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('svc');
  });

  it('they share one pool keyed by server_user, of the auth_query pool_size', async () => {
    expect(await stack.dynamicPools()).toEqual(['svc']);
    expect((await stack.pools()).get('svc')?.pool_size).toBe('2');
    const clients = await Promise.all([ROLES.alice, ROLES.bob, ROLES.carol, ROLES.dave].map((r) => stack.connect(r)));
    try {
      // Four clients, each inside a transaction for a moment: the pool holds at most 2 server connections.
      await Promise.all(clients.map(async (c) => {
        await c.query('BEGIN');
        await c.query('SELECT pg_sleep(0.05)');
        await c.query('COMMIT');
      }));
    } finally {
      await Promise.all(clients.map((c) => c.end().catch(() => {})));
    }
    const svc = await stack.cluster.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = 'svc' AND datname = 'appdb'");
    expect(svc[0]!.n).toBeLessThanOrEqual(2);
    expect(await stack.dynamicPools()).toEqual(['svc']);
  });

  it('SHOW AUTH_QUERY says dedicated and names the server_user', async () => {
    const row = await stack.authQueryRow();
    expect(row).toMatchObject({ database: 'appdb', mode: 'dedicated', server_user: 'svc' });
    expect(Number(row.cache_entries)).toBe(4);
  });

  it('a wrong password (even server_user\'s) and an unknown user are refused with 28P01', async () => {
    for (const role of [{ name: 'alice', password: 'wrong' }, { name: 'bob', password: ROLES.svc.password }, { name: 'ghost', password: 'x' }]) {
      const err = await stack.loginError(role);
      expect(err.code).toBe('28P01');
      expect(err.message).toBe(`password authentication failed for user "${role.name}"`);
    }
  });
});

describe('dedicated mode in session pooling', () => {
  it("one user's session state (SET, temp table) is gone before another user gets the shared server connection", async () => {
    await stack.reload({ auth: { serverUser: ROLES.svc, poolSize: 1 }, poolMode: 'session' });
    const a = await stack.connect(ROLES.alice);
    await a.query("SET work_mem = '7MB'");
    await a.query('CREATE TEMP TABLE alice_only (secret text)');
    const before = await a.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await a.end();
    const b = await stack.connect(ROLES.bob);
    try {
      const r = await b.query<{ pid: number; wm: string; t: number }>(
        "SELECT pg_backend_pid() AS pid, current_setting('work_mem') AS wm, count(*)::int AS t FROM pg_class WHERE relname = 'alice_only'");
      expect(r.rows[0]!.pid).toBe(before.rows[0]!.pid); // pool_size 1: the same server connection
      expect(r.rows[0]).toMatchObject({ wm: '4MB', t: 0 });
    } finally {
      await b.end();
    }
  });
});
